/**
 * The up/down triggers that keep the old and the new schema version in sync while both run (pgroll's idea).
 * A trigger knows which version wrote the row from the writer's search_path: a session of the new version
 * has the new version schema on its search_path. In trigger bodies, `_zdt_in_new` is that flag.
 *
 * The backfill's own writes skip these triggers: its transactions set ${BACKFILL_SETTING} (SET LOCAL, so it ends
 * with the transaction), and every trigger has a WHEN clause on it, so PostgreSQL does not even call the
 * PL/pgSQL function for those rows. The backfill statement computes the same values itself (BackfillStep in
 * operations/operation.ts): only values that are still missing, so it never overwrites what either version
 * wrote after start.
 *
 * User expressions (`up`, `down`) are evaluated with one PL/pgSQL variable per column, named as the
 * writing version names the column, so `upper(name)` reads the row being written.
 */
import { createHash } from 'crypto';
import { OpContext, ViewColumn } from './operations/operation';
import { qi, ql, qn } from './sql';
import { STATE_SCHEMA } from './state';
import { INTERNAL_PREFIX } from './definition';

/** Transaction-local setting the backfill sets, so triggers tell its touches from real writes. */
export const BACKFILL_SETTING = 'zdt.backfill';

/** The WHEN condition of every row trigger: not a write of the backfill (evaluated without calling PL/pgSQL). */
const NOT_BACKFILL = `current_setting(${ql(BACKFILL_SETTING)}, true) IS DISTINCT FROM 'on'`;

/** Zero-padded operation index, so triggers of one migration fire in operation order (alphabetical). */
const INDEX_DIGITS = 3;

export function triggerName(ctx: Pick<OpContext, 'migration' | 'index'>, suffix = ''): string {
  return `${INTERNAL_PREFIX}${ctx.migration}_${String(ctx.index).padStart(INDEX_DIGITS, '0')}${suffix}`;
}

/**
 * Hex digits of sha1(schema) in trigger function names. Functions of every schema live in one schema
 * (STATE_SCHEMA), so the name carries the schema; 8 digits keep the longest name (prefix, hash, a
 * MAX_MIGRATION_NAME_LENGTH name, index, suffix) under PostgreSQL's 63 bytes.
 */
const SCHEMA_HASH_DIGITS = 8;

/** `_zdt_<schema hash>_<migration>`: the start of the names of one migration's trigger functions. */
export function triggerFunctionPrefix(schema: string, migration: string): string {
  const hash = createHash('sha1').update(schema).digest('hex').slice(0, SCHEMA_HASH_DIGITS);
  return `${INTERNAL_PREFIX}${hash}_${migration}`;
}

/**
 * Anchored regular expression matching exactly the trigger function names of one migration on one schema (and
 * not those of a migration whose name merely starts with the same text, e.g. `a` and `a_b`).
 */
export function triggerFunctionPattern(schema: string, migration: string): string {
  return `^${triggerFunctionPrefix(schema, migration)}_[0-9]{${INDEX_DIGITS}}(_|$)`;
}

/** Unquoted name of an operation's trigger function. */
export function triggerFunctionName(ctx: Pick<OpContext, 'schema' | 'migration' | 'index'>, suffix = ''): string {
  return `${triggerFunctionPrefix(ctx.schema, ctx.migration)}_${String(ctx.index).padStart(INDEX_DIGITS, '0')}${suffix}`;
}

/** The trigger function lives in the engine's schema; dropping it CASCADE drops its triggers. */
export function triggerFunction(ctx: Pick<OpContext, 'schema' | 'migration' | 'index'>, suffix = ''): string {
  return qn(STATE_SCHEMA, triggerFunctionName(ctx, suffix));
}

/** DECLARE block assigning one variable per column from NEW (the names a version sees -> physical columns). */
export function declareColumns(schema: string, table: string, columns: readonly ViewColumn[]): string {
  return columns.map((c) => `${qi(c.alias)} ${qn(schema, table)}.${qi(c.physical)}%TYPE := NEW.${qi(c.physical)};`).join('\n      ');
}

export interface RowTrigger {
  readonly table: string;
  readonly timing: 'BEFORE' | 'AFTER';
  readonly events: 'INSERT OR UPDATE' | 'INSERT' | 'DELETE';
  /** PL/pgSQL statements; `_zdt_in_new` is declared. */
  readonly body: string;
  /** Function name suffix when an operation needs several triggers. */
  readonly suffix?: string;
}

/** SQL that creates (or replaces) the trigger function and the row trigger. */
export function rowTriggerSql(ctx: OpContext, t: RowTrigger): string {
  const fn = triggerFunction(ctx, t.suffix);
  const name = triggerName(ctx, t.suffix);
  const ret = t.timing === 'BEFORE' ? 'RETURN NEW;' : 'RETURN NULL;';
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $zdt_fn$
    DECLARE
      _zdt_in_new boolean := ${ql(ctx.versionSchema)} = ANY(current_schemas(false));
    BEGIN
      ${t.body}
      ${ret}
    END $zdt_fn$;
    DROP TRIGGER IF EXISTS ${qi(name)} ON ${qn(ctx.schema, t.table)};
    CREATE TRIGGER ${qi(name)} ${t.timing} ${t.events} ON ${qn(ctx.schema, t.table)} FOR EACH ROW
      WHEN (${NOT_BACKFILL}) EXECUTE FUNCTION ${fn}();`;
}

/** A nested PL/pgSQL block with column variables, so an expression can name columns as bare identifiers. */
export function withColumns(schema: string, table: string, columns: readonly ViewColumn[], statements: string): string {
  // Only the columns the statements mention (as a whole word, any case): each variable costs a copy per row.
  const mentioned = columns.filter((c) => new RegExp(`(^|[^A-Za-z0-9_$])${escapeRegExp(c.alias)}($|[^A-Za-z0-9_$])`, 'i').test(statements.replace(/NEW\.("[^"]*"|[A-Za-z_][A-Za-z0-9_$]*)/g, '')));
  if (mentioned.length === 0) return statements;
  return `DECLARE
      ${declareColumns(schema, table, mentioned)}
    BEGIN
      ${statements}
    END;`;
}

/** A column name as literal text in a regular expression: a quoted name may hold any character (`legacy(code`). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function dropTriggerFunctionSql(ctx: Pick<OpContext, 'schema' | 'migration' | 'index'>, suffix = ''): string {
  return `DROP FUNCTION IF EXISTS ${triggerFunction(ctx, suffix)}() CASCADE`;
}
