/**
 * A column rewrite: changeColumnType, and alterColumn when it changes the type or the nullability. The new column
 * (`_zdt_new_<column>`, with the new type, default, comment and, through a validated stand-in CHECK, NOT NULL) is
 * what the new version sees under the column's name. Old-version writes fill it through `up`; new-version writes
 * flow back to the old column through `down`; the backfill converts existing rows. Complete drops the old column and
 * renames the new one into its place; rollback drops the new column (the old one kept every write of both versions).
 */
import { ColumnInfo, listColumns, primaryKey } from '../catalog';
import { newTypeColumn } from '../definition';
import { fragment, qi, ql, qn } from '../sql';
import { dropTriggerFunctionSql, rowTriggerSql, withColumns } from '../triggers';
import { AlterColumnOperation, ChangeColumnTypeOperation } from '../types';
import {
  dependentProblems, notNullCheckName, oldColumns, oldRow, promoteNotNull, requireExistingColumn, table, typeProbe, validateConstraint,
} from './helpers';
import { BackfillStep, CatalogSnapshot, Check, CheckContext, DataCheck, OpContext, PlanStepDescription, Probe, VersionModel } from './operation';
import {
  buildNewConstraintIndex, buildTwinIndexes, ColumnObject, contractNewConstraint, describeNewConstraint, expandNewConstraint, expandTwins, NewConstraint,
  objectsOnColumns, renameTwins, requireCarriable, validateNewConstraint, validateTwins,
} from './rewrite-objects';

export type RewriteOperation = ChangeColumnTypeOperation | AlterColumnOperation;

/** What a rewrite does, resolved against the old column. */
export interface ColumnRewrite {
  readonly table: string;
  readonly column: string;
  /** Type of the new column. */
  readonly type: string;
  /** Type of the old column. */
  readonly oldType: string;
  /** Whether the new column is NOT NULL (at complete; a validated stand-in check until then). */
  readonly notNull: boolean;
  /** Default of the new column (null: none). */
  readonly default: string | null;
  /** Comment of the new column (null: none). */
  readonly comment: string | null;
  /** Old value -> new value. */
  readonly up: string;
  /** New value -> old value. */
  readonly down: string;
}

/** The rewrite an operation makes of the old column `col`. */
export function rewriteOf(op: RewriteOperation, col: ColumnInfo): ColumnRewrite {
  const c = qi(op.column);
  if (op.op === 'changeColumnType') {
    return {
      table: op.table, column: op.column, type: op.type, oldType: col.type, notNull: col.notNull, default: op.default ?? null,
      comment: col.comment ?? null, up: op.up ?? `${c}::${op.type}`, down: op.down ?? `${c}::${col.type}`,
    };
  }
  const type = op.type ?? col.type;
  return {
    table: op.table, column: op.column, type, oldType: col.type,
    notNull: op.nullable === undefined ? col.notNull : !op.nullable,
    default: op.default === undefined ? col.default : op.default,
    comment: op.comment === undefined ? col.comment ?? null : op.comment,
    up: op.up ?? (op.type !== undefined ? `${c}::${type}` : c),
    down: op.down ?? (op.type !== undefined ? `${c}::${col.type}` : c),
  };
}

/** The rewrite, from the physical table (the old column exists until complete). */
export async function rewriteFromDb(op: RewriteOperation, ctx: Pick<OpContext, 'client' | 'schema'>): Promise<ColumnRewrite> {
  const col = (await listColumns(ctx.client, ctx.schema, op.table)).find((c) => c.name === op.column);
  if (!col) throw new Error(`column ${ctx.schema}.${op.table}.${op.column} is gone: the migration was changed outside the engine`);
  return rewriteOf(op, col);
}

function rewriteFromCatalog(op: RewriteOperation, catalog: CatalogSnapshot): ColumnRewrite | undefined {
  const col = catalog.get(op.table)?.columns.find((c) => c.name === op.column);
  return col ? rewriteOf(op, col) : undefined;
}

const ACCESS_EXCLUSIVE_BRIEF = (t: string) => `ACCESS EXCLUSIVE on ${t} (metadata only, brief; lock_timeout + retries)`;

/**
 * The backfill's value of a column: `up` on the row's current values, only where the column is still NULL, so a
 * value either version wrote after start is kept (the same rule the up triggers apply to the backfill's rows).
 */
export function fillMissing(column: string, up: string, type: string): string {
  return `CASE WHEN ${qi(column)} IS NULL THEN ${fragment(up)}::${type} ELSE ${qi(column)} END`;
}

export const columnRewrite = {
  check(op: RewriteOperation, ctx: CheckContext, where: string): string[] {
    const problems = requireExistingColumn(ctx, where, op.table, op.column, 'column');
    const t = ctx.catalog.get(op.table);
    if (t && t.primaryKey.length === 0) problems.push(`${where}: ${ctx.schema}.${op.table} must have a primary key (the backfill walks it), found none`);
    if (t?.primaryKey.some((k) => k.name === op.column)) problems.push(`${where}: column ${op.column} is part of the primary key; rewriting a key column is not supported`);
    const col = t?.columns.find((c) => c.name === op.column);
    if (op.op === 'alterColumn' && col) {
      if (op.nullable === false && !col.notNull && op.up === undefined) {
        problems.push(`${where}: up must be given to make ${op.column} NOT NULL: it fills the NULLs of existing rows and of the old version's writes (e.g. "coalesce(${op.column}, <value>)")`);
      }
      if (op.nullable === true && col.notNull && op.down === undefined) {
        problems.push(`${where}: down must be given to drop NOT NULL from ${op.column}: the old version's column stays NOT NULL, so the NULLs the new version writes need a value there (e.g. "coalesce(${op.column}, <value>)")`);
      }
    }
    problems.push(...dependentProblems(ctx, where, op.table, op.column));
    return problems;
  },

  plan(op: RewriteOperation, ctx: CheckContext): PlanStepDescription[] {
    const t = `${ctx.schema}.${op.table}`;
    const r = rewriteFromCatalog(op, ctx.catalog);
    const tmp = newTypeColumn(op.column);
    const attrs = r ? [r.type, ...(r.notNull ? ['NOT NULL (as CHECK NOT VALID until complete)'] : []), ...(r.default !== null ? [`DEFAULT ${r.default}`] : [])].join(' ') : '?';
    return [
      { phase: 'start', action: `ALTER TABLE ${t} ADD COLUMN ${tmp} ${attrs}; up/down triggers (up: ${r?.up ?? '?'}; down: ${r?.down ?? '?'}); twins on ${tmp} of the indexes and constraints of ${op.column} (CHECK / FOREIGN KEY NOT VALID, indexes CONCURRENTLY)`, locks: [ACCESS_EXCLUSIVE_BRIEF(t), `SHARE UPDATE EXCLUSIVE on ${t} for the concurrent index builds`], rollback: `DROP COLUMN ${tmp} (${op.column} keeps every write of both versions)`, risk: 'low' },
      { phase: 'backfill', action: `${tmp} := up(${op.column}) for existing rows, keyset batches`, locks: ['row locks of one batch at a time'], rollback: 'dropped with the column', risk: 'low' },
      { phase: 'validate', action: `every row: ${tmp} = up(${op.column}); checksums${r?.notNull ? '; VALIDATE the NOT NULL check' : ''}`, locks: [r?.notNull ? `SHARE UPDATE EXCLUSIVE on ${t}` : 'none'], rollback: 'none needed', risk: 'low' },
      {
        phase: 'complete', action: `DROP COLUMN ${op.column}; RENAME ${tmp} TO ${op.column}${r?.notNull ? '; SET NOT NULL (from the valid check, no scan)' : ''}`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'none after complete', risk: 'low',
        note: 'the old values are replaced by their validated conversion; the indexes and constraints of the old column go with it, their twins on the new column (built at start) take their names',
      },
    ];
  },

  probes(op: RewriteOperation, ctx: CheckContext, row: (table: string) => string | undefined): Probe[] {
    const r = rewriteFromCatalog(op, ctx.catalog);
    if (!r) return [];
    const probes: Probe[] = [typeProbe('type', r.type)];
    if (op.default !== undefined && op.default !== null) probes.push({ field: 'default', sql: `SELECT ${fragment(op.default)}::${r.type}` });
    probes.push({ field: 'up', sql: `SELECT ${fragment(r.up)}::${r.type} FROM ${oldRow(ctx, op.table)}` });
    const from = row(op.table);
    if (from) probes.push({ field: 'down', sql: `SELECT ${fragment(r.down)}::${r.oldType} FROM ${from}` });
    return probes;
  },

  dataChecks(op: RewriteOperation, ctx: CheckContext): DataCheck[] {
    const r = rewriteFromCatalog(op, ctx.catalog);
    return r ? [{ field: 'up', table: op.table, expression: `${fragment(r.up)}::${r.type}`, show: [op.column] }] : [];
  },

  async expand(op: RewriteOperation, ctx: OpContext, catalog: CatalogSnapshot): Promise<void> {
    const r = rewriteFromCatalog(op, catalog)!;
    const tmp = newTypeColumn(op.column);
    const t = table(ctx, op.table);
    await ctx.client.query(`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${qi(tmp)} ${r.type}`);
    // Existing rows stay NULL (the backfill converts them); the default applies to rows inserted from now on.
    if (r.default !== null) await ctx.client.query(`ALTER TABLE ${t} ALTER COLUMN ${qi(tmp)} SET DEFAULT ${r.default}`);
    if (r.comment !== null) await ctx.client.query(`COMMENT ON COLUMN ${t}.${qi(tmp)} IS ${ql(r.comment)}`);
    if (r.notNull) await ctx.client.query(`ALTER TABLE ${t} ADD CONSTRAINT ${qi(notNullCheckName(tmp))} CHECK (${qi(tmp)} IS NOT NULL) NOT VALID`);
  },

  view(op: RewriteOperation, model: VersionModel): void {
    const col = model.get(op.table)?.find((c) => c.physical === op.column);
    if (col) col.physical = newTypeColumn(op.column);
  },

  async triggers(op: RewriteOperation, ctx: OpContext, catalog: CatalogSnapshot, model: VersionModel, suffix = ''): Promise<void> {
    const r = rewriteFromCatalog(op, catalog)!;
    const tmp = newTypeColumn(op.column);
    await ctx.client.query(rowTriggerSql(ctx, {
      table: op.table, timing: 'BEFORE', events: 'INSERT OR UPDATE', suffix,
      // New-version writes of the column flow down to the old column. A new-version UPDATE that leaves the column
      // as it was must not: on a row the backfill has not reached, the new column is still NULL and down(NULL)
      // would erase the old value; the new column is computed from the old one instead.
      body: `IF _zdt_in_new AND NOT (TG_OP = 'UPDATE' AND NEW.${qi(tmp)} IS NOT DISTINCT FROM OLD.${qi(tmp)}) THEN
        ${withColumns(ctx.schema, op.table, model.get(op.table) ?? [], `NEW.${qi(op.column)} := ${fragment(r.down)};`)}
      ELSIF NOT _zdt_in_new OR NEW.${qi(tmp)} IS NULL THEN
        ${withColumns(ctx.schema, op.table, oldColumns(catalog, op.table), `NEW.${qi(tmp)} := ${fragment(r.up)};`)}
      END IF;`,
    }));
  },

  async backfillStep(op: RewriteOperation, ctx: OpContext): Promise<BackfillStep> {
    const r = await rewriteFromDb(op, ctx);
    const tmp = newTypeColumn(op.column);
    return { table: op.table, set: [{ column: tmp, value: fillMissing(tmp, r.up, r.type) }] };
  },

  /**
   * Every row holds a consistent pair: the new value is up(old value) (the old version or the backfill wrote it), or
   * the old value is down(new value) (the new version wrote it: a lossy down, e.g. a NULL written back as a default,
   * is consistent, not a divergence). `down` names the columns as the new version does, so it is evaluated on the
   * row of the new version's view.
   */
  async validate(op: RewriteOperation, ctx: OpContext): Promise<Check[]> {
    const r = await rewriteFromDb(op, ctx);
    const tmp = newTypeColumn(op.column);
    const keys = await primaryKey(ctx.client, ctx.schema, op.table);
    const up = `(SELECT ${fragment(r.up)}::${r.type} FROM (SELECT t.*) AS ${qi(op.table)})`;
    const down = `(SELECT ${fragment(r.down)}::${r.oldType} FROM (SELECT v.*) AS ${qi(op.table)})`;
    const q = await ctx.client.query(
      `SELECT count(*)::bigint AS total,
              count(*) FILTER (WHERE NOT (t.${qi(tmp)} IS NOT DISTINCT FROM ${up} OR t.${qi(op.column)} IS NOT DISTINCT FROM ${down}))::bigint AS diverged,
              count(*) FILTER (WHERE t.${qi(tmp)} IS DISTINCT FROM ${up})::bigint AS by_down,
              coalesce(sum(hashtextextended(t.${qi(tmp)}::text, 0)::numeric), 0)::text AS checksum
       FROM ${table(ctx, op.table)} t JOIN ${qn(ctx.versionSchema, op.table)} v ON ${keys.map((k) => `v.${qi(k.name)} = t.${qi(k.name)}`).join(' AND ')}`);
    const { total, diverged, by_down: byDown, checksum } = q.rows[0];
    const checks: Check[] = [{
      name: `${op.table}.${op.column} converted`,
      ok: Number(diverged) === 0,
      detail: `${total} rows; ${diverged} where ${tmp} differs from up(${op.column}) and ${op.column} from down(${tmp}); ${byDown} written by the new version (old = down(new)); checksum of ${tmp} ${checksum}`,
    }];
    if (r.notNull) checks.push(await validateConstraint(ctx, op.table, notNullCheckName(tmp), `${op.table}.${op.column} has no NULLs`));
    return checks;
  },

  async contract(op: RewriteOperation, ctx: OpContext, suffix = ''): Promise<void> {
    const r = await rewriteFromDb(op, ctx);
    const tmp = newTypeColumn(op.column);
    await ctx.client.query(dropTriggerFunctionSql(ctx, suffix));
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} DROP COLUMN ${qi(op.column)}`);
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} RENAME COLUMN ${qi(tmp)} TO ${qi(op.column)}`);
    // The stand-in check was made for the temporary column (now renamed to op.column), so it carries tmp's name.
    if (r.notNull) await promoteNotNull(ctx, op.table, op.column, { check: notNullCheckName(tmp) });
  },

  async rollback(op: RewriteOperation, ctx: OpContext, suffix = ''): Promise<void> {
    const tmp = newTypeColumn(op.column);
    // The triggers and the column (with its stand-in NOT NULL check, its twins and the constraints added on it) go in
    // one transaction: apart, old-version inserts in between would meet a check without the trigger that fills the column.
    await ctx.ddl.transaction(`drop triggers of operation ${ctx.index} and column ${op.table}.${tmp}`, async (c) => {
      await c.query(dropTriggerFunctionSql(ctx, suffix));
      await c.query(`ALTER TABLE ${table(ctx, op.table)} DROP COLUMN IF EXISTS ${qi(tmp)}`);
    });
  },
};

/**
 * One operation's rewrite of one or more columns of a table (changeColumnType, alterColumn, createConstraint), with
 * the twins of the columns' indexes and constraints and the constraints the operation adds (rewrite-objects.ts).
 * With several columns, each has its own trigger (function suffix `_c<i>`).
 */
export interface RewriteGroup {
  readonly table: string;
  readonly parts: readonly RewriteOperation[];
  readonly constraints: readonly NewConstraint[];
  /** Constraints of the columns that get no twin: the new version is free of them (dropConstraint with up/down). */
  readonly dropped?: readonly string[];
}

/** The old columns' indexes and constraints that get twins on the new columns. */
async function carriedObjects(g: RewriteGroup, ctx: Pick<OpContext, 'client' | 'schema'>): Promise<ColumnObject[]> {
  return (await objectsOnColumns(ctx.client, ctx.schema, g.table, columnsOf(g))).filter((o) => !g.dropped?.includes(o.name));
}

function suffixOf(g: RewriteGroup, i: number): string {
  return g.parts.length > 1 ? `_c${i}` : '';
}

/** Old column -> new column, for the group's columns. */
function renamesOf(g: RewriteGroup): Map<string, string> {
  return new Map(g.parts.map((p) => [p.column, newTypeColumn(p.column)]));
}

function columnsOf(g: RewriteGroup): string[] {
  return g.parts.map((p) => p.column);
}

export const rewriteGroup = {
  check(g: RewriteGroup, ctx: CheckContext, where: string): string[] {
    return g.parts.flatMap((p) => columnRewrite.check(p, ctx, where));
  },
  plan(g: RewriteGroup, ctx: CheckContext): PlanStepDescription[] {
    const steps = g.parts.flatMap((p) => columnRewrite.plan(p, ctx));
    const t = `${ctx.schema}.${g.table}`;
    for (const c of g.constraints) {
      steps.push(c.type === 'unique'
        ? { phase: 'start', action: `CREATE UNIQUE INDEX CONCURRENTLY ${c.name} ON ${t} on the new column(s) (${c.columns.join(', ')}): the new version's ${describeNewConstraint(c)}`, locks: [`SHARE UPDATE EXCLUSIVE on ${t}`], rollback: 'dropped with the new columns', risk: 'low', note: 'the old version never sees it; up must give unique values or the old version\'s writes and the backfill fail on duplicates' }
        : { phase: 'start', action: `ADD CONSTRAINT ${c.name} ${describeNewConstraint(c)} NOT VALID on the new column(s)`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'dropped with the new columns', risk: 'low', note: 'enforced at once for writes of the new version (and for the values up computes from the old version\'s writes); the old version never sees it' });
      steps.push(c.type === 'unique'
        ? { phase: 'complete', action: `ADD CONSTRAINT ${c.name} UNIQUE USING INDEX ${c.name}`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'none after complete', risk: 'low' }
        : { phase: 'validate', action: `VALIDATE CONSTRAINT ${c.name}`, locks: [`SHARE UPDATE EXCLUSIVE on ${t}`], rollback: 'none needed', risk: 'low' });
    }
    return steps;
  },
  probes(g: RewriteGroup, ctx: CheckContext, row: (table: string, as?: 'view' | 'physical') => string | undefined): Probe[] {
    const probes = g.parts.flatMap((p) => columnRewrite.probes(p, ctx, row));
    const from = row(g.table, 'view');
    for (const c of g.constraints) if (c.type === 'check' && from) probes.push({ field: 'check', sql: `SELECT ${fragment(c.check!)}::boolean FROM ${from}` });
    return probes;
  },
  dataChecks(g: RewriteGroup, ctx: CheckContext): DataCheck[] {
    return g.parts.flatMap((p) => columnRewrite.dataChecks(p, ctx));
  },
  async expand(g: RewriteGroup, ctx: OpContext, catalog: CatalogSnapshot): Promise<void> {
    for (const p of g.parts) await columnRewrite.expand(p, ctx, catalog);
    const objects = await carriedObjects(g, ctx);
    const elsewhere = new Set([...(ctx.rewritten ?? [])].filter((k) => k.startsWith(`${g.table}.`)).map((k) => k.slice(g.table.length + 1)));
    requireCarriable(ctx, g.table, objects, columnsOf(g), elsewhere);
    await expandTwins(ctx, g.table, objects, renamesOf(g));
  },
  view(g: RewriteGroup, model: VersionModel): void {
    for (const p of g.parts) columnRewrite.view(p, model);
  },
  async triggers(g: RewriteGroup, ctx: OpContext, catalog: CatalogSnapshot, model: VersionModel): Promise<void> {
    for (const [i, p] of g.parts.entries()) await columnRewrite.triggers(p, ctx, catalog, model, suffixOf(g, i));
    // The constraints after the triggers' functions exist, in the same transaction: enforced from the first write on.
    for (const c of g.constraints) await expandNewConstraint(ctx, c, renamesOf(g));
  },
  async expandConcurrently(g: RewriteGroup, ctx: OpContext): Promise<void> {
    await buildTwinIndexes(ctx, g.table, await carriedObjects(g, ctx), renamesOf(g));
    for (const c of g.constraints) await buildNewConstraintIndex(ctx, c, renamesOf(g));
  },
  async backfillStep(g: RewriteGroup, ctx: OpContext): Promise<BackfillStep> {
    const steps = await Promise.all(g.parts.map((p) => columnRewrite.backfillStep(p, ctx)));
    return { table: g.table, set: steps.flatMap((s) => s.set ?? []) };
  },
  async validate(g: RewriteGroup, ctx: OpContext): Promise<Check[]> {
    const checks: Check[] = [];
    for (const p of g.parts) checks.push(...await columnRewrite.validate(p, ctx));
    checks.push(...await validateTwins(ctx, g.table, await carriedObjects(g, ctx)));
    for (const c of g.constraints) checks.push(await validateNewConstraint(ctx, c));
    return checks;
  },
  async contract(g: RewriteGroup, ctx: OpContext): Promise<void> {
    // The originals, read before the old columns (and they with them) are dropped.
    const objects = await carriedObjects(g, ctx);
    for (const [i, p] of g.parts.entries()) await columnRewrite.contract(p, ctx, suffixOf(g, i));
    await renameTwins(ctx, g.table, objects);
    for (const c of g.constraints) await contractNewConstraint(ctx, c);
  },
  async rollback(g: RewriteGroup, ctx: OpContext): Promise<void> {
    // Dropping the new columns drops their twins and the added constraints (PostgreSQL drops the indexes and
    // constraints of a dropped column); a unique index whose build was interrupted is on them too.
    for (const [i, p] of [...g.parts.entries()].reverse()) await columnRewrite.rollback(p, ctx, suffixOf(g, i));
  },
};
