/** Concurrent index builds and drops, and the index validity check, shared by the index and constraint operations. */
import { indexValidity } from '../catalog';
import { MigrationError, MigrationErrorName } from '../errors';
import { qn } from '../sql';
import { OpContext } from './operation';

/**
 * Runs `sql` (a CREATE INDEX CONCURRENTLY of index `name`) unless a valid index of that name exists; an invalid one
 * (a failed or interrupted build) is dropped first, and again when the build fails. `what` names the index's table
 * and columns in the error.
 */
export async function createIndexConcurrently(ctx: OpContext, name: string, sql: string, what: string): Promise<void> {
  const valid = await indexValidity(ctx.client, ctx.schema, name);
  if (valid === true) return;
  const drop = async () => {
    if (await indexValidity(ctx.client, ctx.schema, name) !== null) {
      await ctx.client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qn(ctx.schema, name)}`);
    }
  };
  if (valid === false) await drop();
  try {
    await ctx.ddl.outsideTransaction(`CREATE INDEX CONCURRENTLY ${name}`, sql, drop);
  } catch (err) {
    await drop().catch(() => undefined);
    if (err instanceof MigrationError) throw err;
    throw new MigrationError(MigrationErrorName.INVALID,
      `Building index ${name} on ${what} failed: ${(err as Error).message}. The invalid index was dropped; roll back, fix the data or the definition, and start again.`);
  }
}

export async function dropIndexConcurrently(ctx: OpContext, name: string): Promise<void> {
  await ctx.ddl.outsideTransaction(`DROP INDEX CONCURRENTLY ${name}`, `DROP INDEX CONCURRENTLY IF EXISTS ${qn(ctx.schema, name)}`);
}

export async function indexCheck(ctx: OpContext, name: string, tableName: string) {
  const valid = await indexValidity(ctx.client, ctx.schema, name);
  return {
    name: `index ${name} valid`, ok: valid === true,
    detail: valid === null ? `index ${ctx.schema}.${name} on ${tableName} does not exist` : `index ${ctx.schema}.${name} is ${valid ? 'valid' : 'INVALID'}`,
  };
}
