/** Small helpers shared by the operations. */
import type { ClientBase } from 'pg';
import { INTERNAL_PREFIX } from '../definition';
import { pgCode } from '../ddl';
import { qi, qn } from '../sql';
import { CatalogSnapshot, CheckContext, OpContext, Probe, ViewColumn, VersionModel } from './operation';

/** Name of the CHECK (col IS NOT NULL) NOT VALID constraint that stands in for NOT NULL until complete. */
export function notNullCheckName(column: string): string {
  return `${INTERNAL_PREFIX}nn_${column}`.slice(0, 63);
}

/**
 * Turns a valid stand-in CHECK (col IS NOT NULL) into a real NOT NULL and drops the check: no scan, PostgreSQL
 * proves NOT NULL from the valid check. Runs on `client` (by default the operation's, in the caller's transaction);
 * `check` names the stand-in when it was made for another column (default: `notNullCheckName(column)`).
 */
export async function promoteNotNull(ctx: Pick<OpContext, 'schema' | 'client'>, tableName: string, column: string,
  options: { client?: ClientBase; check?: string } = {}): Promise<void> {
  const client = options.client ?? ctx.client;
  await client.query(`ALTER TABLE ${table(ctx, tableName)} ALTER COLUMN ${qi(column)} SET NOT NULL`);
  await client.query(`ALTER TABLE ${table(ctx, tableName)} DROP CONSTRAINT IF EXISTS ${qi(options.check ?? notNullCheckName(column))}`);
}

/** Whether a column of the physical table is NOT NULL now (false when the column does not exist). */
export async function isNotNull(ctx: Pick<OpContext, 'schema' | 'client'>, tableName: string, column: string): Promise<boolean> {
  const r = await ctx.client.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
    [table(ctx, tableName), column]);
  return r.rows[0]?.attnotnull === true;
}

/** The columns the old version writes (the physical ones, without the engine's own). */
export function oldColumns(catalog: CatalogSnapshot, table: string): ViewColumn[] {
  return (catalog.get(table)?.columns ?? [])
    .filter((c) => !c.name.startsWith(INTERNAL_PREFIX))
    .map((c) => ({ alias: c.name, physical: c.name }));
}

/** The physical column behind a name the new version uses. */
export function physicalOf(model: VersionModel, table: string, name: string): string {
  return model.get(table)?.find((c) => c.alias === name)?.physical ?? name;
}

export function table(ctx: Pick<OpContext, 'schema'>, name: string): string {
  return qn(ctx.schema, name);
}

export function columnList(names: readonly string[]): string {
  return names.map(qi).join(', ');
}

/** Problems when a table does not exist (or is not known to the migration). */
export function requireTable(ctx: CheckContext, where: string, name: string, field = 'table'): string[] {
  if (ctx.catalog.has(name) || ctx.createdTables.has(name)) return [];
  return [`${where}: ${field} names table ${ctx.schema}.${name}, which does not exist`];
}

/** Problems when a column does not exist in the table before the migration. */
export function requireExistingColumn(ctx: CheckContext, where: string, tableName: string, column: string, field: string): string[] {
  const t = ctx.catalog.get(tableName);
  if (!t) return requireTable(ctx, where, tableName);
  if (t.columns.some((c) => c.name === column)) return [];
  return [`${where}: ${field} names column ${column}, which ${ctx.schema}.${tableName} does not have (it has ${t.columns.map((c) => c.name).join(', ')})`];
}

/** Problems when a column is neither in the table nor created by an earlier operation of this migration. */
export function requireKnownColumn(ctx: CheckContext, where: string, tableName: string, column: string, field: string): string[] {
  const created = ctx.createdTables.get(tableName);
  if (created) return created.includes(column) ? [] : [`${where}: ${field} names column ${column}, which the new table ${tableName} does not have`];
  if (ctx.newColumns.get(tableName)?.has(column)) return [];
  return requireExistingColumn(ctx, where, tableName, column, field);
}

/**
 * Problems when objects outside the migration depend on a table or column the migration drops at complete
 * (CheckContext.dependents): complete's DROP would fail after the new version is deployed.
 */
export function dependentProblems(ctx: CheckContext, where: string, tableName: string, column?: string): string[] {
  const key = column === undefined ? tableName : `${tableName}.${column}`;
  return (ctx.dependents.get(key) ?? []).map((d) => `${where}: ${d} depends on ${key}, so complete could not drop it; `
    + 'drop or change that object first (or in an sql operation of this migration before this one)');
}

/** A FROM item of a table as the old version sees it (the physical table), aliased to its own name. */
export function oldRow(ctx: Pick<CheckContext, 'schema'>, tableName: string): string {
  return `${qn(ctx.schema, tableName)} AS ${qi(tableName)}`;
}

/** Runs VALIDATE CONSTRAINT (scans without blocking writers) and reports the outcome as a check. */
export async function validateConstraint(ctx: OpContext, tableName: string, constraint: string, label: string) {
  try {
    await ctx.ddl.transaction(`VALIDATE CONSTRAINT ${constraint} on ${ctx.schema}.${tableName}`,
      (c: ClientBase) => c.query(`ALTER TABLE ${table(ctx, tableName)} VALIDATE CONSTRAINT ${qi(constraint)}`), { noStatementTimeout: true });
    return { name: label, ok: true, detail: `constraint ${constraint} on ${ctx.schema}.${tableName} is valid` };
  } catch (err) {
    const code = pgCode(err);
    if (code === '23514' || code === '23503' || code === '23502') {
      return { name: label, ok: false, detail: `constraint ${constraint} on ${ctx.schema}.${tableName} does not hold for existing rows: ${(err as Error).message}` };
    }
    throw err;
  }
}

/**
 * A probe of a column type. The serial pseudo-types exist only in CREATE TABLE / ADD COLUMN: their integer type is
 * probed instead.
 */
export function typeProbe(field: string, type: string): Probe {
  const serial = /^\s*(small|big)?serial([248])?\s*$/i.exec(type);
  const real = serial ? ({ small: 'smallint', big: 'bigint' } as Record<string, string>)[serial[1]?.toLowerCase() ?? ''] ?? ({ 2: 'smallint', 8: 'bigint' } as Record<string, string>)[serial[2] ?? ''] ?? 'integer' : type;
  return { field, sql: `SELECT NULL::${real}` };
}
