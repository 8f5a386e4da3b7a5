/**
 * The indexes and constraints of rewritten columns (column-rewrite.ts): those the old column already has, carried
 * over to the new column, and the constraint an operation adds (createConstraint, alterColumn's check / unique /
 * references).
 *
 * Carried over (pgroll duplicates them the same way, pkg/migrations/duplicate.go): at start, every index and every
 * CHECK, UNIQUE and FOREIGN KEY constraint that involves a rewritten column gets a twin on the new column, named
 * `_zdt_dup_<name>`: CHECK and FOREIGN KEY NOT VALID inside the start transaction, indexes (UNIQUE constraints as
 * unique indexes) CREATE INDEX CONCURRENTLY after it. Validate checks the twins (VALIDATE CONSTRAINT, index valid).
 * Complete drops the old column, which takes the originals along, and gives each twin its original's name (a unique
 * index becomes the UNIQUE constraint through ADD CONSTRAINT ... USING INDEX). Rollback drops the new column, which
 * takes the twins along. So after complete the column has the same indexes and constraints, under the same names,
 * as before the migration.
 *
 * Added (pgroll's create_constraint, docs/operations/create_constraint.mdx, and alter_column check / unique /
 * references, docs/operations/alter_column/add_*.mdx): the constraint is made on the new columns only, so the new
 * version has it at once for every new write while the old version never sees it; `up` must turn an old value into
 * one that satisfies it (else the old version's write, or the backfill, fails on it), `down` a new value into one the
 * old version accepts. CHECK and FOREIGN KEY start NOT VALID and are validated by `validate` (pgroll validates them in
 * its complete; ours runs before complete, so the scan holds only SHARE UPDATE EXCLUSIVE and never the ACCESS EXCLUSIVE
 * lock of complete), UNIQUE is a unique index built concurrently after the start transaction and attached as the
 * constraint at complete (pgroll: the same, `ADD CONSTRAINT ... UNIQUE USING INDEX`).
 */
import type { ClientBase } from 'pg';
import { INTERNAL_PREFIX } from '../definition';
import { MigrationError, MigrationErrorName } from '../errors';
import { columnList, table, validateConstraint } from './helpers';
import { createIndexConcurrently, indexCheck } from './index-build';
import { MAX_IDENTIFIER_LENGTH, qi, renameIdentifiers } from '../sql';
import { OnDelete } from '../types';
import { Check, OpContext } from './operation';

/** An index or constraint of the table that involves a rewritten column. */
export interface ColumnObject {
  readonly kind: 'index' | 'constraint';
  readonly name: string;
  /** pg_constraint.contype ('c', 'f', 'u'), or 'i' for an index that backs no constraint. */
  readonly type: string;
  /** pg_get_indexdef / pg_get_constraintdef. */
  readonly def: string;
  readonly validated: boolean;
  /** The table's columns it involves. */
  readonly columns: readonly string[];
}

/** The name of an object's twin on the new column. */
export function twinName(name: string): string {
  return `${INTERNAL_PREFIX}dup_${name}`.slice(0, MAX_IDENTIFIER_LENGTH);
}

/** Indexes (backing no constraint) and CHECK / UNIQUE / FOREIGN KEY constraints of `tableName` that involve one of `columns`, the engine's own left out. */
export async function objectsOnColumns(client: ClientBase, schema: string, tableName: string, columns: readonly string[]): Promise<ColumnObject[]> {
  const r = await client.query(
    `WITH rel AS (SELECT $1::regclass AS oid),
     cols AS (SELECT attnum FROM pg_attribute, rel WHERE attrelid = rel.oid AND attname = ANY($2::text[]) AND NOT attisdropped)
     SELECT 'constraint' AS kind, co.conname AS name, co.contype::text AS type, pg_get_constraintdef(co.oid) AS def, co.convalidated AS validated,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = co.conrelid AND a.attnum = ANY(co.conkey)) AS columns
     FROM pg_constraint co, rel
     WHERE co.conrelid = rel.oid AND co.contype IN ('c', 'f', 'u') AND co.conkey && ARRAY(SELECT attnum FROM cols)
     UNION ALL
     SELECT 'index', i.relname, 'i', pg_get_indexdef(x.indexrelid), true,
       (SELECT array_agg(DISTINCT a.attname::text) FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid AND d.refobjid = x.indrelid AND d.refobjsubid > 0)
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid, rel
     WHERE x.indrelid = rel.oid AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)
       AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = x.indexrelid AND d.refobjid = x.indrelid
                   AND d.refobjsubid IN (SELECT attnum FROM cols))
     ORDER BY 2`, [table({ schema }, tableName), columns]);
  return r.rows.filter((o) => !o.name.startsWith(INTERNAL_PREFIX)).map((o) => ({ ...o, columns: o.columns ?? [] }));
}

/**
 * The twin's DDL: for a CHECK or FOREIGN KEY, the ADD CONSTRAINT clause (NOT VALID); for an index or a UNIQUE
 * constraint, the CREATE INDEX CONCURRENTLY statement. Column names are mapped by `renames` (old -> new column).
 */
export function twinDdl(ctx: Pick<OpContext, 'schema'>, tableName: string, o: ColumnObject, renames: ReadonlyMap<string, string>): string {
  const twin = qi(twinName(o.name));
  const t = table(ctx, tableName);
  const notValid = (def: string) => (/\bNOT VALID\s*$/.test(def) ? def : `${def} NOT VALID`);
  if (o.type === 'c') return `ALTER TABLE ${t} ADD CONSTRAINT ${twin} ${notValid(renameIdentifiers(o.def, renames))}`;
  if (o.type === 'f') {
    // Only the referencing column list: the referenced table's columns may have the same names.
    const m = /^FOREIGN KEY \(([^)]*)\)(.*)$/s.exec(o.def);
    if (!m) throw unsupported(ctx, tableName, o);
    return `ALTER TABLE ${t} ADD CONSTRAINT ${twin} ${notValid(`FOREIGN KEY (${renameIdentifiers(m[1], renames)})${m[2]}`)}`;
  }
  if (o.type === 'u') {
    const m = /^UNIQUE( NULLS NOT DISTINCT)? \(([^)]*)\)$/.exec(o.def);
    if (!m) throw unsupported(ctx, tableName, o);
    return `CREATE UNIQUE INDEX CONCURRENTLY ${twin} ON ${t} (${renameIdentifiers(m[2], renames)})${m[1] ?? ''}`;
  }
  const m = /^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING (.*)$/s.exec(o.def);
  if (!m) throw unsupported(ctx, tableName, o);
  return `CREATE ${m[1] ?? ''}INDEX CONCURRENTLY ${twin} ON ${t} USING ${renameIdentifiers(m[2], renames)}`;
}

function unsupported(ctx: Pick<OpContext, 'schema'>, tableName: string, o: ColumnObject): MigrationError {
  return new MigrationError(MigrationErrorName.INVALID,
    `${o.kind} ${o.name} on ${ctx.schema}.${tableName} (${o.def}) involves a rewritten column and cannot be carried over to the new column by the engine; `
    + 'drop it in an earlier migration (dropConstraint / dropIndex) and recreate it after this one');
}

/**
 * Refuses objects the twins cannot carry: one that also involves a column another operation of the migration
 * rewrites (that operation's complete would drop the twin with its old column).
 */
export function requireCarriable(ctx: Pick<OpContext, 'schema'>, tableName: string, objects: readonly ColumnObject[], ownColumns: readonly string[],
  rewrittenElsewhere: ReadonlySet<string>): void {
  for (const o of objects) {
    const other = o.columns.find((c) => !ownColumns.includes(c) && rewrittenElsewhere.has(c));
    if (other) {
      throw new MigrationError(MigrationErrorName.INVALID,
        `${o.kind} ${o.name} on ${ctx.schema}.${tableName} involves ${ownColumns.filter((c) => o.columns.includes(c)).join(', ')} and ${other}, which two operations of this migration rewrite; `
        + `rewrite them in one operation (createConstraint over both columns) or in two migrations`);
    }
  }
}

/** At start, in the transaction: the CHECK and FOREIGN KEY twins (NOT VALID). */
export async function expandTwins(ctx: OpContext, tableName: string, objects: readonly ColumnObject[], renames: ReadonlyMap<string, string>): Promise<void> {
  for (const o of objects) if (o.type === 'c' || o.type === 'f') await ctx.client.query(twinDdl(ctx, tableName, o, renames));
}

/** After the start transaction: the index twins (unique constraints as unique indexes), built concurrently. */
export async function buildTwinIndexes(ctx: OpContext, tableName: string, objects: readonly ColumnObject[], renames: ReadonlyMap<string, string>): Promise<void> {
  for (const o of objects) {
    if (o.type === 'i' || o.type === 'u') await createIndexConcurrently(ctx, twinName(o.name), twinDdl(ctx, tableName, o, renames), `${ctx.schema}.${tableName} (twin of ${o.name})`);
  }
}

/** Each twin holds: a valid index, a validated constraint (only where its original was validated). */
export async function validateTwins(ctx: OpContext, tableName: string, objects: readonly ColumnObject[]): Promise<Check[]> {
  const checks: Check[] = [];
  for (const o of objects) {
    if (o.type === 'i' || o.type === 'u') checks.push(await indexCheck(ctx, twinName(o.name), tableName));
    else if (o.validated) checks.push(await validateConstraint(ctx, tableName, twinName(o.name), `${o.name} holds on the new column`));
  }
  return checks;
}

/** At complete, after the old columns are dropped (with the originals): each twin takes its original's name. */
export async function renameTwins(ctx: OpContext, tableName: string, objects: readonly ColumnObject[]): Promise<void> {
  const t = table(ctx, tableName);
  for (const o of objects) {
    const twin = qi(twinName(o.name));
    if (o.type === 'i') await ctx.client.query(`ALTER INDEX ${table(ctx, twinName(o.name))} RENAME TO ${qi(o.name)}`);
    else if (o.type === 'u') await ctx.client.query(`ALTER TABLE ${t} ADD CONSTRAINT ${qi(o.name)} UNIQUE USING INDEX ${twin}`);
    else await ctx.client.query(`ALTER TABLE ${t} RENAME CONSTRAINT ${twin} TO ${qi(o.name)}`);
  }
}

/** A constraint an operation adds on rewritten columns. */
export interface NewConstraint {
  readonly table: string;
  readonly name: string;
  readonly type: 'unique' | 'check' | 'foreignKey';
  /** The constrained columns, as the old version names them. */
  readonly columns: readonly string[];
  /** CHECK expression over the columns as the new version names them. */
  readonly check?: string;
  readonly references?: { readonly table: string; readonly columns: readonly string[]; readonly onDelete?: OnDelete };
}

/** At start, in the transaction: CHECK / FOREIGN KEY on the new columns, NOT VALID (enforced for new writes at once). */
export async function expandNewConstraint(ctx: OpContext, c: NewConstraint, renames: ReadonlyMap<string, string>): Promise<void> {
  const t = table(ctx, c.table);
  const cols = c.columns.map((x) => renames.get(x) ?? x);
  if (c.type === 'check') {
    await ctx.client.query(`ALTER TABLE ${t} ADD CONSTRAINT ${qi(c.name)} CHECK (${renameIdentifiers(c.check!, renames)}) NOT VALID`);
  } else if (c.type === 'foreignKey') {
    await ctx.client.query(`ALTER TABLE ${t} ADD CONSTRAINT ${qi(c.name)} FOREIGN KEY (${columnList(cols)})
      REFERENCES ${table(ctx, c.references!.table)} (${columnList(c.references!.columns)}) ON DELETE ${c.references!.onDelete ?? 'NO ACTION'} NOT VALID`);
  }
}

/** After the start transaction: UNIQUE as a unique index on the new columns, built concurrently. */
export async function buildNewConstraintIndex(ctx: OpContext, c: NewConstraint, renames: ReadonlyMap<string, string>): Promise<void> {
  if (c.type !== 'unique') return;
  const cols = c.columns.map((x) => renames.get(x) ?? x);
  await createIndexConcurrently(ctx, c.name, `CREATE UNIQUE INDEX CONCURRENTLY ${qi(c.name)} ON ${table(ctx, c.table)} (${columnList(cols)})`,
    `${ctx.schema}.${c.table} (${c.columns.join(', ')})`);
}

export async function validateNewConstraint(ctx: OpContext, c: NewConstraint): Promise<Check> {
  return c.type === 'unique' ? indexCheck(ctx, c.name, c.table) : validateConstraint(ctx, c.table, c.name, `${c.type} ${c.name} holds`);
}

/** At complete, after the new columns took the old ones' names: the unique index becomes the constraint. */
export async function contractNewConstraint(ctx: OpContext, c: NewConstraint): Promise<void> {
  if (c.type === 'unique') await ctx.client.query(`ALTER TABLE ${table(ctx, c.table)} ADD CONSTRAINT ${qi(c.name)} UNIQUE USING INDEX ${qi(c.name)}`);
}

/** Plan text of the constraint. */
export function describeNewConstraint(c: NewConstraint): string {
  if (c.type === 'check') return `CHECK (${c.check})`;
  if (c.type === 'unique') return `UNIQUE (${c.columns.join(', ')})`;
  return `FOREIGN KEY (${c.columns.join(', ')}) REFERENCES ${c.references!.table} (${c.references!.columns.join(', ')}) ON DELETE ${c.references!.onDelete ?? 'NO ACTION'}`;
}
