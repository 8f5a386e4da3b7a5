/** Names of the versioned schemas (versioned-schema.ts), without PostgreSQL access: the construct checks them at synth. */
import { MigrationError, MigrationErrorName } from './errors';
import { MAX_IDENTIFIER_LENGTH } from './sql';

export function versionSchemaName(schema: string, migration: string): string {
  const name = `${schema}_${migration}`;
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_LENGTH) {
    throw new MigrationError(MigrationErrorName.INVALID,
      `The version schema name "${name}" (schema "${schema}" + "_" + migration name) must be at most ${MAX_IDENTIFIER_LENGTH} bytes, got ${Buffer.byteLength(name)}; shorten the migration name`);
  }
  return name;
}
