/** addColumn, renameColumn, changeColumnType and dropColumn. */
import { AddColumnOperation, ChangeColumnTypeOperation, DropColumnOperation, RenameColumnOperation } from '../types';
import { describeOp, newTypeColumn } from '../definition';
import { fragment, qi } from '../sql';
import { dropTriggerFunctionSql, rowTriggerSql, triggerFunction, withColumns } from '../triggers';
import { Check, OpContext, OperationImpl, PlanStepDescription, Probe } from './operation';
import {
  dependentProblems, isNotNull, typeProbe, notNullCheckName, oldColumns, oldRow, promoteNotNull, requireExistingColumn, requireTable, table, validateConstraint,
} from './helpers';

const ACCESS_EXCLUSIVE_BRIEF = (t: string) => `ACCESS EXCLUSIVE on ${t} (metadata only, brief; lock_timeout + retries)`;

async function dropTriggers(ctx: OpContext): Promise<void> {
  await ctx.ddl.transaction(`drop triggers of operation ${ctx.index}`, (c) => c.query(dropTriggerFunctionSql(ctx)));
}

/**
 * Rollback of a new column: its up/down triggers and the column (with its stand-in NOT NULL check) go in one
 * transaction. Apart, old-version inserts in between would meet the check without the trigger that fills the column.
 */
async function dropTriggersAndColumn(ctx: OpContext, tableName: string, column: string): Promise<void> {
  await ctx.ddl.transaction(`drop triggers of operation ${ctx.index} and column ${tableName}.${column}`, async (c) => {
    await c.query(dropTriggerFunctionSql(ctx));
    await c.query(`ALTER TABLE ${table(ctx, tableName)} DROP COLUMN IF EXISTS ${qi(column)}`);
  });
}

/**
 * The backfill's value of a column: `up` on the row's current values, only where the column is still NULL, so a
 * value either version wrote after start is kept (the same rule the up triggers apply to the backfill's rows).
 */
function fillMissing(column: string, up: string, type: string): string {
  // On lines of its own, so that a trailing `--` comment in `up` cannot swallow the rest of the statement.
  return `CASE WHEN ${qi(column)} IS NULL THEN (\n${up}\n)::${type} ELSE ${qi(column)} END`;
}

export const addColumn: OperationImpl<AddColumnOperation> = {
  check(op, ctx, index) {
    const problems = requireTable(ctx, describeOp(index, op), op.table);
    if (ctx.catalog.get(op.table)?.columns.some((c) => c.name === op.column.name)) {
      problems.push(`${describeOp(index, op)}: column.name ${op.column.name} already exists in ${ctx.schema}.${op.table}`);
    }
    return problems;
  },
  probes(op, ctx) {
    const c = op.column;
    const probes: Probe[] = [typeProbe('column.type', c.type)];
    if (c.default !== undefined) probes.push({ field: 'column.default', sql: `SELECT ${fragment(c.default)}::${c.type}` });
    if (op.up !== undefined && ctx.catalog.has(op.table)) probes.push({ field: 'up', sql: `SELECT ${fragment(op.up)}::${c.type} FROM ${oldRow(ctx, op.table)}` });
    return probes;
  },
  dataChecks(op, ctx) {
    return op.up !== undefined && ctx.catalog.has(op.table) ? [{ field: 'up', table: op.table, expression: `${fragment(op.up)}::${op.column.type}`, show: [] }] : [];
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    const volatile = ctx.volatileDefaults.has(`${op.table}.${op.column.name}`);
    const steps: PlanStepDescription[] = [{
      phase: 'start',
      action: `ALTER TABLE ${t} ADD COLUMN ${op.column.name} ${op.column.type}${op.column.default !== undefined && !volatile ? ` DEFAULT ${op.column.default}` : ''}`
        + `${op.column.nullable === false ? ` + CHECK (${op.column.name} IS NOT NULL) NOT VALID` : ''}${op.up || volatile ? ' + up trigger for old-version writes' : ''}`,
      locks: [ACCESS_EXCLUSIVE_BRIEF(t)],
      rollback: `DROP COLUMN ${op.column.name} (values the new version wrote in it are discarded; old columns keep everything)`,
      risk: 'low',
      note: volatile ? `the default ${op.column.default} is volatile: it is set for new rows only and existing rows are backfilled, so ADD COLUMN never rewrites the table` : undefined,
    }];
    const out = [...steps];
    if (op.up || volatile) out.push({ phase: 'backfill', action: `fill ${op.column.name} for existing rows of ${t} in keyset batches`, locks: ['row locks of one batch at a time'], rollback: 'dropped with the column', risk: 'low', note: undefined });
    if (op.column.nullable === false) {
      out.push({ phase: 'validate', action: `VALIDATE CONSTRAINT ${notNullCheckName(op.column.name)}`, locks: [`SHARE UPDATE EXCLUSIVE on ${t} (writers continue)`], rollback: 'dropped with the column', risk: 'low', note: undefined });
      out.push({ phase: 'complete', action: `SET NOT NULL on ${op.column.name} (uses the valid check, no scan), drop the check`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'none needed', risk: 'low', note: undefined });
    }
    return out;
  },
  async expand(op, ctx) {
    const c = op.column;
    const volatile = hasVolatileDefault(ctx, op);
    // With an up expression (or a volatile default) existing rows must stay NULL until the backfill fills them:
    // the default then applies to new rows only.
    const defaultInPlace = c.default !== undefined && !volatile && op.up === undefined;
    let sql = `ALTER TABLE ${table(ctx, op.table)} ADD COLUMN ${qi(c.name)} ${c.type}`;
    if (defaultInPlace) sql += ` DEFAULT ${c.default}`;
    await ctx.client.query(sql);
    if (c.default !== undefined && !defaultInPlace) await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ALTER COLUMN ${qi(c.name)} SET DEFAULT ${c.default}`);
    if (c.nullable === false) {
      await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ADD CONSTRAINT ${qi(notNullCheckName(c.name))} CHECK (${qi(c.name)} IS NOT NULL) NOT VALID`);
    }
  },
  async triggers(op, ctx, catalog) {
    const up = op.up ?? (hasVolatileDefault(ctx, op) ? op.column.default : undefined);
    if (!up) return;
    const col = `NEW.${qi(op.column.name)}`;
    const compute = withColumns(ctx.schema, op.table, oldColumns(catalog, op.table), `${col} := (${up});`);
    // Old-version writes compute the column (the backfill only where it is still missing). A new-version write
    // leaves it NULL only on a row the backfill has not reached yet (or, for NOT NULL, by mistake): compute it too.
    // A volatile default used as `up` only ever fills NULLs.
    const body = op.up
      ? `IF NOT _zdt_in_new THEN
          ${compute}
        ELSIF ${col} IS NULL AND (${op.column.nullable === false ? 'true' : `TG_OP = 'UPDATE' AND OLD.${qi(op.column.name)} IS NULL`}) THEN
          ${compute}
        END IF;`
      : `IF ${col} IS NULL THEN ${compute} END IF;`;
    await ctx.client.query(rowTriggerSql(ctx, { table: op.table, timing: 'BEFORE', events: 'INSERT OR UPDATE', body }));
  },
  async backfillStep(op, ctx) {
    let up = op.up;
    if (up === undefined && op.column.default !== undefined) {
      // A volatile default got an up trigger at start (see expand); a constant one needs no backfill at all.
      const r = await ctx.client.query('SELECT to_regprocedure($1) IS NOT NULL AS exists', [`${triggerFunction(ctx)}()`]);
      if (r.rows[0].exists) up = op.column.default;
    }
    if (up === undefined) return undefined;
    return { table: op.table, set: [{ column: op.column.name, value: fillMissing(op.column.name, up, op.column.type) }] };
  },
  async validate(op, ctx) {
    if (op.column.nullable !== false) return [];
    return [await validateConstraint(ctx, op.table, notNullCheckName(op.column.name), `${op.table}.${op.column.name} has no NULLs`)];
  },
  async contract(op, ctx) {
    await ctx.client.query(dropTriggerFunctionSql(ctx));
    if (op.column.nullable === false) await promoteNotNull(ctx, op.table, op.column.name);
  },
  async rollback(op, ctx) {
    await dropTriggersAndColumn(ctx, op.table, op.column.name);
  },
};

/**
 * A volatile default (random(), gen_random_uuid(), clock_timestamp()) makes ADD COLUMN rewrite the whole table
 * under an ACCESS EXCLUSIVE lock. Probed on a one-row temporary table: a non-volatile default is stored as the
 * "missing value" (atthasmissing), a volatile one is not.
 */
export async function probeVolatileDefault(client: import('pg').ClientBase, type: string, defaultExpr: string): Promise<boolean> {
  await client.query('BEGIN');
  try {
    await client.query('CREATE TEMP TABLE _zdt_probe (x int) ON COMMIT DROP');
    await client.query('INSERT INTO _zdt_probe VALUES (1)');
    await client.query(`ALTER TABLE _zdt_probe ADD COLUMN c ${type} DEFAULT ${defaultExpr}`);
    const r = await client.query(`SELECT atthasmissing FROM pg_attribute WHERE attrelid = '_zdt_probe'::regclass AND attname = 'c'`);
    return !r.rows[0].atthasmissing;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Whether the engine probed the added column's default as volatile (see probeVolatileDefault). */
function hasVolatileDefault(ctx: OpContext, op: AddColumnOperation): boolean {
  return ctx.volatileDefaults.has(`${op.table}.${op.column.name}`);
}

export const renameColumn: OperationImpl<RenameColumnOperation> = {
  check(op, ctx, index) {
    const problems = requireExistingColumn(ctx, describeOp(index, op), op.table, op.from, 'from');
    if (ctx.catalog.get(op.table)?.columns.some((c) => c.name === op.to)) problems.push(`${describeOp(index, op)}: to names column ${op.to}, which already exists in ${ctx.schema}.${op.table}`);
    return problems;
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    return [
      { phase: 'start', action: `new version sees ${op.table}.${op.from} as ${op.to} (view alias; no data copied)`, locks: ['none on the table'], rollback: 'drop the version schema', risk: 'low' },
      { phase: 'complete', action: `ALTER TABLE ${t} RENAME COLUMN ${op.from} TO ${op.to}`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'none needed', risk: 'low' },
    ];
  },
  async expand() { /* a rename is a view alias until complete */ },
  view(op, model) {
    const col = model.get(op.table)?.find((c) => c.physical === op.from);
    if (col) col.alias = op.to;
  },
  async contract(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} RENAME COLUMN ${qi(op.from)} TO ${qi(op.to)}`);
  },
};

export const changeColumnType: OperationImpl<ChangeColumnTypeOperation> = {
  check(op, ctx, index) {
    const w = describeOp(index, op);
    const problems = requireExistingColumn(ctx, w, op.table, op.column, 'column');
    const t = ctx.catalog.get(op.table);
    if (t && t.primaryKey.length === 0) problems.push(`${w}: ${ctx.schema}.${op.table} must have a primary key (the backfill walks it), found none`);
    if (t?.primaryKey.some((k) => k.name === op.column)) problems.push(`${w}: column ${op.column} is part of the primary key; changing a key's type is not supported`);
    problems.push(...dependentProblems(ctx, w, op.table, op.column));
    return problems;
  },
  probes(op, ctx, newRow) {
    const col = ctx.catalog.get(op.table)?.columns.find((c) => c.name === op.column);
    if (!col) return [];
    const probes: Probe[] = [typeProbe('type', op.type)];
    if (op.default !== undefined) probes.push({ field: 'default', sql: `SELECT ${fragment(op.default)}::${op.type}` });
    probes.push({ field: 'up', sql: `SELECT ${fragment(op.up ?? `${qi(op.column)}::${op.type}`)}::${op.type} FROM ${oldRow(ctx, op.table)}` });
    const row = newRow(op.table);
    if (row) probes.push({ field: 'down', sql: `SELECT ${fragment(op.down ?? `${qi(op.column)}::${col.type}`)}::${col.type} FROM ${row}` });
    return probes;
  },
  dataChecks(op, ctx) {
    if (!ctx.catalog.get(op.table)?.columns.some((c) => c.name === op.column)) return [];
    return [{ field: 'up', table: op.table, expression: `${fragment(op.up ?? `${qi(op.column)}::${op.type}`)}::${op.type}`, show: [op.column] }];
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    const col = ctx.catalog.get(op.table)?.columns.find((c) => c.name === op.column);
    const tmp = newTypeColumn(op.column);
    return [
      { phase: 'start', action: `ALTER TABLE ${t} ADD COLUMN ${tmp} ${op.type}; up/down triggers (up: ${op.up ?? `${op.column}::${op.type}`}; down: ${op.down ?? `${op.column}::${col?.type ?? '?'}`})`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: `DROP COLUMN ${tmp} (${op.column} keeps every write of both versions)`, risk: 'low' },
      { phase: 'backfill', action: `${tmp} := up(${op.column}) for existing rows, keyset batches`, locks: ['row locks of one batch at a time'], rollback: 'dropped with the column', risk: 'low' },
      { phase: 'validate', action: `every row: ${tmp} = up(${op.column}); checksums${col?.notNull ? '; VALIDATE the NOT NULL check' : ''}`, locks: [col?.notNull ? `SHARE UPDATE EXCLUSIVE on ${t}` : 'none'], rollback: 'none needed', risk: 'low' },
      {
        phase: 'complete', action: `DROP COLUMN ${op.column}; RENAME ${tmp} TO ${op.column}`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'none after complete', risk: 'low',
        note: 'the old values are replaced by their validated conversion; indexes and constraints on the old column are dropped with it — recreate them (addIndex) in this or the next migration',
      },
    ];
  },
  async expand(op, ctx, catalog) {
    const col = catalog.get(op.table)!.columns.find((c) => c.name === op.column)!;
    const tmp = newTypeColumn(op.column);
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ADD COLUMN IF NOT EXISTS ${qi(tmp)} ${op.type}`);
    // Existing rows stay NULL (the backfill converts them); the default applies to rows inserted from now on.
    if (op.default !== undefined) await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ALTER COLUMN ${qi(tmp)} SET DEFAULT ${op.default}`);
    if (col.notNull) {
      await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ADD CONSTRAINT ${qi(notNullCheckName(tmp))} CHECK (${qi(tmp)} IS NOT NULL) NOT VALID`);
    }
  },
  view(op, model) {
    const col = model.get(op.table)?.find((c) => c.physical === op.column);
    if (col) col.physical = newTypeColumn(op.column);
  },
  async triggers(op, ctx, catalog, model) {
    const col = catalog.get(op.table)!.columns.find((c) => c.name === op.column)!;
    const tmp = newTypeColumn(op.column);
    const up = op.up ?? `${qi(op.column)}::${op.type}`;
    const down = op.down ?? `${qi(op.column)}::${col.type}`;
    await ctx.client.query(rowTriggerSql(ctx, {
      table: op.table, timing: 'BEFORE', events: 'INSERT OR UPDATE',
      // New-version writes of the column flow down to the old column. A new-version UPDATE that leaves the column
      // as it was must not: on a row the backfill has not reached, the new column is still NULL and down(NULL)
      // would erase the old value; the new column is computed from the old one instead.
      body: `IF _zdt_in_new AND NOT (TG_OP = 'UPDATE' AND NEW.${qi(tmp)} IS NOT DISTINCT FROM OLD.${qi(tmp)}) THEN
        ${withColumns(ctx.schema, op.table, model.get(op.table) ?? [], `NEW.${qi(op.column)} := (${down});`)}
      ELSIF NOT _zdt_in_new OR NEW.${qi(tmp)} IS NULL THEN
        ${withColumns(ctx.schema, op.table, oldColumns(catalog, op.table), `NEW.${qi(tmp)} := (${up});`)}
      END IF;`,
    }));
  },
  backfillStep(op) {
    const tmp = newTypeColumn(op.column);
    return { table: op.table, set: [{ column: tmp, value: fillMissing(tmp, op.up ?? `${qi(op.column)}::${op.type}`, op.type) }] };
  },
  async validate(op, ctx) {
    const tmp = newTypeColumn(op.column);
    const up = op.up ?? `${qi(op.column)}::${op.type}`;
    const r = await ctx.client.query(
      `SELECT count(*)::bigint AS total,
              count(*) FILTER (WHERE ${qi(tmp)} IS DISTINCT FROM (${up})::${op.type})::bigint AS diverged,
              coalesce(sum(hashtextextended(${qi(tmp)}::text, 0)::numeric), 0)::text AS actual,
              coalesce(sum(hashtextextended(((${up})::${op.type})::text, 0)::numeric), 0)::text AS expected
       FROM ${table(ctx, op.table)}`);
    const { total, diverged, actual, expected } = r.rows[0];
    const checks: Check[] = [{
      name: `${op.table}.${op.column} converted`,
      ok: Number(diverged) === 0 && actual === expected,
      detail: `${total} rows; ${diverged} where ${tmp} differs from up(${op.column}); checksum ${actual} (expected ${expected})`,
    }];
    if (await isNotNull(ctx, op.table, op.column)) checks.push(await validateConstraint(ctx, op.table, notNullCheckName(tmp), `${op.table}.${op.column} has no NULLs`));
    return checks;
  },
  async contract(op, ctx) {
    const tmp = newTypeColumn(op.column);
    const notNull = await isNotNull(ctx, op.table, op.column);
    await ctx.client.query(dropTriggerFunctionSql(ctx));
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} DROP COLUMN ${qi(op.column)}`);
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} RENAME COLUMN ${qi(tmp)} TO ${qi(op.column)}`);
    // The stand-in check was made for the temporary column (now renamed to op.column), so it carries tmp's name.
    if (notNull) await promoteNotNull(ctx, op.table, op.column, { check: notNullCheckName(tmp) });
  },
  async rollback(op, ctx) {
    await dropTriggersAndColumn(ctx, op.table, newTypeColumn(op.column));
  },
};

export const dropColumn: OperationImpl<DropColumnOperation> = {
  check(op, ctx, index) {
    const w = describeOp(index, op);
    const problems = requireExistingColumn(ctx, w, op.table, op.column, 'column');
    const col = ctx.catalog.get(op.table)?.columns.find((c) => c.name === op.column);
    if (col?.notNull && col.default === null && op.down === undefined) {
      problems.push(`${w}: down must be given: ${op.column} is NOT NULL without a default, so rows the new version inserts (it no longer sees the column) need a value for it`);
    }
    if (ctx.catalog.get(op.table)?.primaryKey.some((k) => k.name === op.column)) problems.push(`${w}: column ${op.column} is part of the primary key and cannot be dropped`);
    problems.push(...dependentProblems(ctx, w, op.table, op.column));
    return problems;
  },
  probes(op, ctx, newRow) {
    const col = ctx.catalog.get(op.table)?.columns.find((c) => c.name === op.column);
    const row = newRow(op.table);
    return op.down !== undefined && col && row ? [{ field: 'down', sql: `SELECT ${fragment(op.down)}::${col.type} FROM ${row}` }] : [];
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    return [
      { phase: 'start', action: `hide ${op.column} from the new version${op.down ? ` (down trigger fills it on new-version inserts: ${op.down})` : ''}`, locks: [op.down ? ACCESS_EXCLUSIVE_BRIEF(t) : 'none'], rollback: 'drop the view and trigger; the column is untouched', risk: 'low' },
      { phase: 'complete', action: `ALTER TABLE ${t} DROP COLUMN ${op.column}`, locks: [ACCESS_EXCLUSIVE_BRIEF(t)], rollback: 'none (irreversible: the column\'s data is gone)', risk: 'high', note: 'drops data' },
    ];
  },
  async expand() { /* the column stays until complete */ },
  view(op, model) {
    const cols = model.get(op.table);
    if (cols) model.set(op.table, cols.filter((c) => c.physical !== op.column));
  },
  async triggers(op, ctx, _catalog, model) {
    if (!op.down) return;
    await ctx.client.query(rowTriggerSql(ctx, {
      table: op.table, timing: 'BEFORE', events: 'INSERT',
      body: `IF _zdt_in_new THEN
        ${withColumns(ctx.schema, op.table, model.get(op.table) ?? [], `NEW.${qi(op.column)} := (${op.down});`)}
      END IF;`,
    }));
  },
  async contract(op, ctx) {
    await ctx.client.query(dropTriggerFunctionSql(ctx));
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} DROP COLUMN IF EXISTS ${qi(op.column)}`);
  },
  async rollback(_op, ctx) {
    await dropTriggers(ctx);
  },
};
