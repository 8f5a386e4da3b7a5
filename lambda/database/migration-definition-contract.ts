/**
 * What synth-time code (lib/database/schema-migration.ts) shares with the migration engine: the migration document
 * (its types and its parser, so a migration given to the construct is checked at synth exactly as the handler checks
 * it), the names the state machine matches errors on, and the naming rules of the versioned schema. A re-export: the
 * definitions stay where the engine keeps them; lib/ imports lambda/ only through contract modules
 * (.dependency-cruiser.cjs).
 */
export { parseMigration } from './definition';
export { MigrationErrorName } from './errors';
export { IDENTIFIER_PATTERN, MAX_IDENTIFIER_LENGTH } from './sql';
export { versionSchemaName } from './schema-names';
export type { Migration, Operation, ColumnDefinition } from './types';
