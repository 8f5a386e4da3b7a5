/**
 * moveColumns: split a table. The new table holds the moved columns, one row per source row, keyed by the
 * source's primary key. Triggers copy old-version writes of the source into the new table, and new-version
 * writes of the new table back into the source's columns, so both versions see every write.
 */
import { describeOp } from '../definition';
import { MoveColumnsOperation } from '../types';
import { primaryKey } from '../catalog';
import { pgCode } from '../ddl';
import { qi } from '../sql';
import { dropTriggerFunctionSql, rowTriggerSql, triggerFunction } from '../triggers';
import { OpContext, OperationImpl } from './operation';
import { columnList, dependentProblems, notNullCheckName, promoteNotNull, requireExistingColumn, requireTable, table } from './helpers';
import { log } from '../../shared/log';

const SOURCE = '_src';
const TARGET_WRITE = '_tgt';
const TARGET_DELETE = '_tgd';

function keyOf(op: MoveColumnsOperation, pk: string): string {
  return op.key ?? pk;
}

/** The source table's (single-column, see check) primary key. */
async function sourceKey(ctx: OpContext, op: MoveColumnsOperation): Promise<string> {
  return (await primaryKey(ctx.client, ctx.schema, op.table))[0].name;
}

export const moveColumns: OperationImpl<MoveColumnsOperation> = {
  check(op, ctx, index) {
    const w = describeOp(index, op);
    const problems = requireTable(ctx, w, op.table);
    if (problems.length) return problems;
    const t = ctx.catalog.get(op.table)!;
    if (t.primaryKey.length !== 1) problems.push(`${w}: ${ctx.schema}.${op.table} must have a single-column primary key to key the new table, found ${t.primaryKey.length === 0 ? 'none' : t.primaryKey.map((k) => k.name).join(', ')}`);
    op.columns.forEach((c, i) => problems.push(...requireExistingColumn(ctx, w, op.table, c, `columns[${i}]`)));
    if (t.primaryKey.some((k) => op.columns.includes(k.name))) problems.push(`${w}: columns must not include the primary key ${t.primaryKey[0].name}`);
    if (ctx.catalog.has(op.to)) problems.push(`${w}: to names table ${ctx.schema}.${op.to}, which already exists`);
    if (op.key && op.columns.includes(op.key)) problems.push(`${w}: key ${op.key} must differ from the moved columns`);
    for (const c of op.columns) problems.push(...dependentProblems(ctx, w, op.table, c));
    return problems;
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    const pk = ctx.catalog.get(op.table)?.primaryKey[0]?.name ?? '?';
    const notNull = ctx.catalog.get(op.table)?.columns.filter((c) => op.columns.includes(c.name) && c.notNull).map((c) => c.name) ?? [];
    return [
      {
        phase: 'start', action: `CREATE TABLE ${ctx.schema}.${op.to} (${keyOf(op, pk)} PRIMARY KEY REFERENCES ${op.table} ON DELETE CASCADE, ${op.columns.join(', ')}); sync triggers both ways${notNull.length ? `; DROP NOT NULL on ${op.table}.${notNull.join(', ')}` : ''}`,
        locks: [`SHARE ROW EXCLUSIVE on ${t} (trigger, brief)`, ...(notNull.length ? [`ACCESS EXCLUSIVE on ${t} (metadata only, brief)`] : [])],
        rollback: `DROP TABLE ${op.to} and the triggers (${op.table} keeps every write of both versions)${notNull.length ? '; NOT NULL restored via a validated check' : ''}`, risk: 'low',
      },
      { phase: 'backfill', action: `copy ${op.columns.join(', ')} of existing ${op.table} rows into ${op.to}, keyset batches`, locks: ['row locks of one batch at a time'], rollback: 'dropped with the table', risk: 'low' },
      { phase: 'validate', action: `row counts match; every row's moved columns equal (${op.table} vs ${op.to})`, locks: ['none'], rollback: 'none needed', risk: 'low' },
      {
        phase: 'complete', action: `ALTER TABLE ${t} DROP COLUMN ${op.columns.join(', ')}`, locks: [`ACCESS EXCLUSIVE on ${t} (metadata only, brief)`], rollback: 'none after complete', risk: 'low',
        note: `the values live on in ${op.to}, validated equal before the drop`,
      },
    ];
  },
  async expand(op, ctx, catalog) {
    const src = catalog.get(op.table)!;
    const pk = src.primaryKey[0];
    const key = keyOf(op, pk.name);
    const cols = op.columns.map((name) => src.columns.find((c) => c.name === name)!);
    const defs = [`${qi(key)} ${pk.type} PRIMARY KEY REFERENCES ${table(ctx, op.table)} (${qi(pk.name)}) ON DELETE CASCADE`,
      ...cols.map((c) => `${qi(c.name)} ${c.type}${c.default !== null ? ` DEFAULT ${c.default}` : ''}${c.notNull ? ' NOT NULL' : ''}`)];
    await ctx.client.query(`CREATE TABLE ${table(ctx, op.to)} (${defs.join(', ')})`);
    for (const c of cols.filter((x) => x.notNull)) {
      // The new version inserts source rows without these columns; the new table enforces NOT NULL instead.
      await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ALTER COLUMN ${qi(c.name)} DROP NOT NULL`);
    }
  },
  async triggers(op, ctx) {
    const pk = await sourceKey(ctx, op);
    const key = keyOf(op, pk);
    const cols = columnList(op.columns);
    const newValues = op.columns.map((c) => `NEW.${qi(c)}`).join(', ');
    const set = op.columns.map((c) => `${qi(c)} = EXCLUDED.${qi(c)}`).join(', ');
    // Old-version writes of the source upsert the new table (the backfill copies existing rows itself: backfillStep).
    await ctx.client.query(rowTriggerSql(ctx, {
      table: op.table, timing: 'AFTER', events: 'INSERT OR UPDATE', suffix: SOURCE,
      body: `IF NOT _zdt_in_new THEN
        INSERT INTO ${table(ctx, op.to)} (${qi(key)}, ${cols}) VALUES (NEW.${qi(pk)}, ${newValues})
        ON CONFLICT (${qi(key)}) DO UPDATE SET ${set};
      END IF;`,
    }));
    // New-version writes of the new table flow back into the source's columns.
    await ctx.client.query(rowTriggerSql(ctx, {
      table: op.to, timing: 'AFTER', events: 'INSERT OR UPDATE', suffix: TARGET_WRITE,
      body: `IF _zdt_in_new THEN
        UPDATE ${table(ctx, op.table)} SET (${cols}) = ROW(${newValues}) WHERE ${qi(pk)} = NEW.${qi(key)};
      END IF;`,
    }));
    // A row the new version deletes from the new table (not a cascade from the source) clears the old columns.
    await ctx.client.query(rowTriggerSql(ctx, {
      table: op.to, timing: 'AFTER', events: 'DELETE', suffix: TARGET_DELETE,
      body: `IF _zdt_in_new AND pg_trigger_depth() = 1 THEN
        UPDATE ${table(ctx, op.table)} SET (${cols}) = ROW(${op.columns.map(() => 'NULL').join(', ')}) WHERE ${qi(pk)} = OLD.${qi(key)};
      END IF;`,
    }));
  },
  view(op, model) {
    const cols = model.get(op.table);
    if (cols) model.set(op.table, cols.filter((c) => !op.columns.includes(c.physical)));
  },
  async backfillStep(op, ctx) {
    // Each existing source row is copied into the new table unless a writer copied it already (as the _src trigger does).
    const pk = await sourceKey(ctx, op);
    return { table: op.table, copy: { table: op.to, key: keyOf(op, pk), sourceKey: pk, columns: op.columns } };
  },
  async validate(op, ctx) {
    const pk = await sourceKey(ctx, op);
    const key = keyOf(op, pk);
    const s = op.columns.map((c) => `s.${qi(c)}`).join(', ');
    const t = op.columns.map((c) => `t.${qi(c)}`).join(', ');
    const r = await ctx.client.query(
      `SELECT (SELECT count(*) FROM ${table(ctx, op.table)})::bigint AS source_rows,
              (SELECT count(*) FROM ${table(ctx, op.to)})::bigint AS target_rows,
              (SELECT count(*) FROM ${table(ctx, op.table)} s LEFT JOIN ${table(ctx, op.to)} t ON t.${qi(key)} = s.${qi(pk)}
                WHERE t.${qi(key)} IS NULL OR ROW(${s}) IS DISTINCT FROM ROW(${t}))::bigint AS diverged`);
    const { source_rows: sourceRows, target_rows: targetRows, diverged } = r.rows[0];
    return [{
      name: `${op.table} -> ${op.to} copied`,
      ok: sourceRows === targetRows && Number(diverged) === 0,
      detail: `${sourceRows} rows in ${op.table}, ${targetRows} in ${op.to}; ${diverged} missing or different`,
    }];
  },
  async contract(op, ctx) {
    for (const suffix of [SOURCE, TARGET_WRITE, TARGET_DELETE]) await ctx.client.query(dropTriggerFunctionSql(ctx, suffix));
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ${op.columns.map((c) => `DROP COLUMN IF EXISTS ${qi(c)}`).join(', ')}`);
  },
  async rollback(op, ctx) {
    await ctx.ddl.transaction(`drop triggers of operation ${ctx.index}`, async (c) => {
      for (const suffix of [SOURCE, TARGET_WRITE, TARGET_DELETE]) await c.query(dropTriggerFunctionSql(ctx, suffix));
    });
    const notNull = (await ctx.client.query(
      `SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attnotnull AND a.attnum > 0 AND a.attname = ANY($2)`,
      [`${table(ctx, op.to)}`, op.columns])).rows.map((r) => r.attname as string);
    await ctx.ddl.transaction(`drop table ${op.to}`, (c) => c.query(`DROP TABLE IF EXISTS ${table(ctx, op.to)}`));
    for (const col of notNull) await restoreNotNull(ctx, op.table, col);
  },
};

/** SET NOT NULL without a long ACCESS EXCLUSIVE scan: CHECK NOT VALID, VALIDATE (writers continue), SET NOT NULL, drop the check. */
async function restoreNotNull(ctx: OpContext, tableName: string, column: string): Promise<void> {
  const check = notNullCheckName(column);
  const t = table(ctx, tableName);
  await ctx.ddl.transaction(`add NOT NULL check on ${tableName}.${column}`, async (c) => {
    await c.query(`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${qi(check)}`);
    await c.query(`ALTER TABLE ${t} ADD CONSTRAINT ${qi(check)} CHECK (${qi(column)} IS NOT NULL) NOT VALID`);
  });
  try {
    await ctx.ddl.transaction(`validate NOT NULL check on ${tableName}.${column}`, (c) => c.query(`ALTER TABLE ${t} VALIDATE CONSTRAINT ${qi(check)}`), { noStatementTimeout: true });
    await ctx.ddl.transaction(`SET NOT NULL on ${tableName}.${column}`, (c) => promoteNotNull(ctx, tableName, column, { client: c, check }));
  } catch (err) {
    if (pgCode(err) !== '23514') throw err;
    await ctx.ddl.transaction(`drop NOT NULL check on ${tableName}.${column}`, (c) => c.query(`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${qi(check)}`));
    log('warn', 'column left nullable after rollback: rows written by the new version have no value for it', { table: tableName, column, triggerFunction: triggerFunction(ctx, SOURCE) });
  }
}
