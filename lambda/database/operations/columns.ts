/** addColumn, renameColumn, changeColumnType and dropColumn. */
import { AddColumnOperation, ChangeColumnTypeOperation, DropColumnOperation, RenameColumnOperation } from '../types';
import { describeOp } from '../definition';
import { fragment, qi } from '../sql';
import { dropTriggerFunctionSql, rowTriggerSql, triggerFunction, withColumns } from '../triggers';
import { OpContext, OperationImpl, PlanStepDescription, Probe } from './operation';
import { fillMissing, RewriteGroup, rewriteGroup } from './column-rewrite';
import {
  dependentProblems, typeProbe, notNullCheckName, oldColumns, oldRow, promoteNotNull, requireExistingColumn, requireTable, table, validateConstraint,
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

/** changeColumnType: a column rewrite (column-rewrite.ts) to a new type; the default is `default` (none unless given). */
export const changeColumnType: OperationImpl<ChangeColumnTypeOperation> = {
  check: (op, ctx, index) => rewriteGroup.check(typeGroup(op), ctx, describeOp(index, op)),
  plan: (op, ctx) => rewriteGroup.plan(typeGroup(op), ctx),
  probes: (op, ctx, row) => rewriteGroup.probes(typeGroup(op), ctx, row),
  dataChecks: (op, ctx) => rewriteGroup.dataChecks(typeGroup(op), ctx),
  expand: (op, ctx, catalog) => rewriteGroup.expand(typeGroup(op), ctx, catalog),
  view: (op, model) => rewriteGroup.view(typeGroup(op), model),
  triggers: (op, ctx, catalog, model) => rewriteGroup.triggers(typeGroup(op), ctx, catalog, model),
  expandConcurrently: (op, ctx) => rewriteGroup.expandConcurrently(typeGroup(op), ctx),
  backfillStep: (op, ctx) => rewriteGroup.backfillStep(typeGroup(op), ctx),
  validate: (op, ctx) => rewriteGroup.validate(typeGroup(op), ctx),
  contract: (op, ctx) => rewriteGroup.contract(typeGroup(op), ctx),
  rollback: (op, ctx) => rewriteGroup.rollback(typeGroup(op), ctx),
};

function typeGroup(op: ChangeColumnTypeOperation): RewriteGroup {
  return { table: op.table, parts: [op], constraints: [] };
}

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
