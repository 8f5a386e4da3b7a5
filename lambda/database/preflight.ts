/**
 * Preflight: what plan and start check against the database before anything changes, so that a mistake is refused
 * while the schema is untouched instead of surfacing after the triggers are live or at complete.
 *
 *   probes       every SQL fragment of the migration (types, defaults, up/down, checks, index predicates) is
 *                EXPLAINed (parsed, analysed and planned, never executed) against the tables as the writing
 *                version sees them, in a read-only transaction that is rolled back;
 *   data checks  every `up` that the triggers will apply to old-version writes is evaluated over the existing rows
 *                (read-only), and the first row it fails on is named;
 *   dependents   objects that would make complete's DROP fail (views, foreign keys of other tables, policies,
 *                triggers) are listed from pg_depend (see dependentsOf).
 */
import type { ClientBase } from 'pg';
import { primaryKey } from './catalog';
import { pgCode } from './ddl';
import { describeOp } from './definition';
import { MigrationError, MigrationErrorName } from './errors';
import { implementationOf } from './operations';
import { CheckContext, DataCheck, Probe } from './operations/operation';
import { fragment, qi, qn } from './sql';
import { Migration, Operation } from './types';

/** SQLSTATE read_only_sql_transaction: the expression writes (nextval()); it cannot be tried read-only. */
const READ_ONLY_TRANSACTION = '25006';
/** A value shown in a message is cut to this many characters. */
const MAX_SHOWN_VALUE = 80;

/**
 * A FROM item giving a row of `table` during the migration, aliased to the table's name: as the NEW version sees it
 * (`view`: the migration's renames, type changes and new columns applied in operation order, new values NULL of
 * their type, dropped and moved columns gone; `down` expressions name columns this way), or as the physical table
 * is after the expand (`physical`: the new columns added; checks and index predicates name columns this way).
 * Undefined for a table the migration creates.
 */
export function migrationRow(migration: Migration, ctx: CheckContext, table: string, as: 'view' | 'physical'): string | undefined {
  const info = ctx.catalog.get(table);
  if (!info) return undefined;
  const cols = info.columns.map((c) => ({ alias: c.name, sql: qi(c.name) }));
  const find = (name: string) => cols.findIndex((c) => c.alias === name);
  const view = as === 'view';
  for (const op of migration.operations) {
    if (op.op === 'sql' || op.table !== table) continue;
    if (op.op === 'addColumn') cols.push({ alias: op.column.name, sql: `NULL::${op.column.type}` });
    if (!view) continue;
    if (op.op === 'renameColumn' && find(op.from) >= 0) cols[find(op.from)].alias = op.to;
    if ((op.op === 'changeColumnType' || op.op === 'alterColumn') && op.type !== undefined && find(op.column) >= 0) cols[find(op.column)].sql = `NULL::${op.type}`;
    if (op.op === 'dropColumn' && find(op.column) >= 0) cols.splice(find(op.column), 1);
    if (op.op === 'moveColumns') for (const c of op.columns) if (find(c) >= 0) cols.splice(find(c), 1);
  }
  if (cols.length === 0) return undefined;
  return `(SELECT ${cols.map((c) => `${c.sql} AS ${qi(c.alias)}`).join(', ')} FROM ${qn(ctx.schema, table)}) AS ${qi(table)}`;
}

/**
 * Runs every probe and data check of the migration; throws one ZdtMigrationInvalid listing every problem, each
 * naming the operation and the field.
 */
export async function preflight(client: ClientBase, migration: Migration, ctx: CheckContext): Promise<void> {
  const problems: string[] = [];
  const rowOf = (table: string, as: 'view' | 'physical' = 'view') => migrationRow(migration, ctx, table, as);
  const probes: { where: string; probe: Probe }[] = [];
  const checks: { where: string; check: DataCheck }[] = [];
  migration.operations.forEach((op, index) => {
    const impl = implementationOf(op);
    const where = describeOp(index, op as Operation);
    for (const probe of impl.probes?.(op, ctx, rowOf) ?? []) probes.push({ where, probe });
    for (const check of impl.dataChecks?.(op, ctx) ?? []) checks.push({ where, check });
  });
  if (probes.length > 0) {
    await client.query('BEGIN READ ONLY');
    try {
      const badType = new Set<string>();
      for (const { where, probe } of probes) {
        // Once a type is wrong, every fragment cast to it fails the same way: say it once.
        if (badType.has(where)) continue;
        await client.query('SAVEPOINT zdt_probe');
        try {
          await client.query(`EXPLAIN ${probe.sql}`);
        } catch (err) {
          problems.push(`${where}: ${probe.field} is not valid here: ${(err as Error).message}`);
          if (/(^|\.)type$/.test(probe.field)) badType.add(where);
        }
        await client.query('ROLLBACK TO SAVEPOINT zdt_probe');
      }
    } finally {
      await client.query('ROLLBACK');
    }
  }
  // Data checks only for fragments that compile: their errors would only repeat the probe's.
  for (const { where, check } of checks) {
    if (problems.some((p) => p.startsWith(`${where}: ${check.field} `))) continue;
    const failure = await firstFailingRow(client, ctx.schema, check);
    if (failure) problems.push(`${where}: ${check.field} fails on existing rows of ${ctx.schema}.${check.table}: ${failure}`);
  }
  if (problems.length > 0) {
    throw new MigrationError(MigrationErrorName.INVALID,
      `Migration "${migration.name}" would fail on schema ${ctx.schema} (nothing was changed):\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Evaluates the check's expression over every row of its table (read-only); null when it holds for all of them,
 * else the error and the first row (in primary key order) it fails on, found by bisecting prefixes of the table:
 * `<message> (row <key>=<value>, <column>="<value>")`.
 */
async function firstFailingRow(client: ClientBase, schema: string, check: DataCheck): Promise<string | null> {
  const t = qn(schema, check.table);
  const evaluate = async (from: string): Promise<Error | null> => {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(`SELECT count(${fragment(check.expression)}) FROM ${from}`);
      return null;
    } catch (err) {
      return err as Error;
    } finally {
      await client.query('ROLLBACK');
    }
  };
  const first = await evaluate(`${t} AS ${qi(check.table)}`);
  if (!first || pgCode(first) === READ_ONLY_TRANSACTION) return null;
  const keys = (await primaryKey(client, schema, check.table)).map((k) => k.name);
  const message = `${first.message}${pgCode(first) ? ` (SQLSTATE ${pgCode(first)})` : ''}`;
  if (keys.length === 0) return message;
  const order = keys.map(qi).join(', ');
  const prefix = (n: number) => `(SELECT * FROM ${t} ORDER BY ${order} LIMIT ${n}) AS ${qi(check.table)}`;
  const total = Number((await client.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  // The smallest prefix (in key order) on which the expression fails ends with the failing row.
  let lo = 1;
  let hi = total;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await evaluate(prefix(mid))) hi = mid;
    else lo = mid + 1;
  }
  const shown = [...new Set([...keys, ...check.show])];
  // Ordered by the source's columns (src.key), not by the text the row is shown as.
  const row = await client.query(`SELECT ${shown.map((c) => `src.${qi(c)}::text AS ${qi(c)}`).join(', ')} FROM ${t} AS src
    ORDER BY ${keys.map((k) => `src.${qi(k)}`).join(', ')} OFFSET ${lo - 1} LIMIT 1`);
  const failing = await evaluate(prefix(lo));
  if (row.rowCount === 0 || !failing) return message;
  const r = row.rows[0] as Record<string, string | null>;
  const show = (c: string, quoted: boolean) => {
    const v = r[c];
    if (v === null) return `${c}=NULL`;
    const cut = v.length > MAX_SHOWN_VALUE ? `${v.slice(0, MAX_SHOWN_VALUE - 3)}...` : v;
    return `${c}=${quoted ? JSON.stringify(cut) : cut}`;
  };
  return `${failing.message} (row ${[...keys.map((k) => show(k, false)), ...check.show.filter((c) => !keys.includes(c)).map((c) => show(c, true))].join(', ')})`;
}

/** A database object that would stop a DROP of a table or column without CASCADE. */
export interface Dependent {
  /** e.g. `view public.active_users`, `constraint invites_email_fkey on table public.invites`. */
  readonly description: string;
  /** The table the object belongs to (its own table for a constraint, policy or trigger; the view for a view). */
  readonly owner: string;
}

/**
 * Objects that depend on a table (column null) or one of its columns normally (pg_depend deptype 'n'), i.e. that a
 * DROP without CASCADE refuses to drop along: views and materialized views, foreign keys of other tables, policies
 * and triggers of other tables, functions' defaults. Indexes and constraints of the table itself depend
 * automatically ('a') and go with it. Views in `ignoreSchemas` (the engine's version schemas, dropped before any
 * contract) are left out.
 */
export async function dependentsOf(client: ClientBase, schema: string, table: string, column: string | null,
  ignoreSchemas: readonly string[]): Promise<Dependent[]> {
  const r = await client.query(
    `WITH target AS (SELECT to_regclass($1)::oid AS rel),
     deps AS (
       SELECT DISTINCT d.classid, d.objid FROM pg_depend d, target
       WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = target.rel AND d.deptype = 'n'
         AND ($2::text IS NULL OR d.refobjsubid = (SELECT attnum FROM pg_attribute WHERE attrelid = target.rel AND attname = $2)))
     SELECT CASE
         WHEN deps.classid = 'pg_rewrite'::regclass THEN
           (CASE v.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END) || quote_ident(vn.nspname) || '.' || quote_ident(v.relname)
         WHEN deps.classid = 'pg_constraint'::regclass THEN
           'constraint ' || quote_ident(co.conname) || ' on table ' || quote_ident(cn.nspname) || '.' || quote_ident(cc.relname)
         WHEN deps.classid = 'pg_policy'::regclass THEN
           'policy ' || quote_ident(po.polname) || ' on table ' || (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = po.polrelid)
         WHEN deps.classid = 'pg_trigger'::regclass THEN
           'trigger ' || quote_ident(tg.tgname) || ' on table ' || (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = tg.tgrelid)
         ELSE pg_describe_object(deps.classid, deps.objid, 0) END AS description,
       coalesce(v.relname, cc.relname, (SELECT relname FROM pg_class WHERE oid = coalesce(po.polrelid, tg.tgrelid)), '') AS owner,
       vn.nspname AS view_schema,
       coalesce(v.oid, co.conrelid, po.polrelid, tg.tgrelid) = (SELECT rel FROM target) AS own
     FROM deps
     LEFT JOIN pg_rewrite rw ON deps.classid = 'pg_rewrite'::regclass AND rw.oid = deps.objid
     LEFT JOIN pg_class v ON v.oid = rw.ev_class LEFT JOIN pg_namespace vn ON vn.oid = v.relnamespace
     LEFT JOIN pg_constraint co ON deps.classid = 'pg_constraint'::regclass AND co.oid = deps.objid
     LEFT JOIN pg_class cc ON cc.oid = co.conrelid LEFT JOIN pg_namespace cn ON cn.oid = cc.relnamespace
     LEFT JOIN pg_policy po ON deps.classid = 'pg_policy'::regclass AND po.oid = deps.objid
     LEFT JOIN pg_trigger tg ON deps.classid = 'pg_trigger'::regclass AND tg.oid = deps.objid
     ORDER BY 1`, [qn(schema, table), column]);
  return r.rows
    .filter((x) => !(x.view_schema && ignoreSchemas.includes(x.view_schema)))
    // A dropped table takes its own constraints, policies and triggers along (a self-referencing foreign key too).
    .filter((x) => !(column === null && x.own))
    .map((x) => ({ description: x.description, owner: x.owner }));
}
