/** createTable and dropTable. */
import { describeOp } from '../definition';
import { CreateTableOperation, DropTableOperation, ColumnDefinition } from '../types';
import { fragment, qi } from '../sql';
import { OperationImpl } from './operation';
import { columnList, dependentProblems, table, typeProbe } from './helpers';

export function columnSql(c: ColumnDefinition, opts: { allowKeys: boolean }): string {
  const parts = [qi(c.name), c.type];
  if (c.default !== undefined) parts.push(`DEFAULT ${c.default}`);
  if (c.nullable === false) parts.push('NOT NULL');
  if (opts.allowKeys && c.primaryKey) parts.push('PRIMARY KEY');
  if (opts.allowKeys && c.unique) parts.push('UNIQUE');
  return parts.join(' ');
}

export const createTable: OperationImpl<CreateTableOperation> = {
  check(op, ctx, index) {
    return ctx.catalog.has(op.table) ? [`${describeOp(index, op)}: table ${ctx.schema}.${op.table} already exists`] : [];
  },
  probes(op) {
    return op.columns.flatMap((c, i) => [
      typeProbe(`columns[${i}].type`, c.type),
      ...(c.default !== undefined ? [{ field: `columns[${i}].default`, sql: `SELECT ${fragment(c.default)}::${c.type}` }] : []),
    ]);
  },
  plan(op, ctx) {
    return [{
      phase: 'start', action: `CREATE TABLE ${ctx.schema}.${op.table} (${op.columns.map((c) => c.name).join(', ')})`,
      locks: ['none on existing tables'], rollback: `DROP TABLE ${ctx.schema}.${op.table} (rows the new version wrote are discarded)`, risk: 'low',
    }];
  },
  async expand(op, ctx) {
    const defs = op.columns.map((c) => columnSql(c, { allowKeys: true }));
    if (op.primaryKey) defs.push(`PRIMARY KEY (${columnList(op.primaryKey)})`);
    await ctx.client.query(`CREATE TABLE ${table(ctx, op.table)} (${defs.join(', ')})`);
  },
  async rollback(op, ctx) {
    await ctx.ddl.transaction(`drop table ${op.table}`, (c) => c.query(`DROP TABLE IF EXISTS ${table(ctx, op.table)}`));
  },
};

export const dropTable: OperationImpl<DropTableOperation> = {
  check(op, ctx, index) {
    const t = ctx.catalog.get(op.table);
    if (!t) return [`${describeOp(index, op)}: table names ${ctx.schema}.${op.table}, which does not exist`];
    const foreign = t.referencedBy.filter((r) => !r.startsWith(`${op.table}.`));
    const problems = foreign.length > 0
      ? [`${describeOp(index, op)}: expected no foreign keys of other tables to reference it, found ${foreign.join(', ')}; drop them first (sql operation) or drop those tables in the same migration`]
      : [];
    // Foreign keys are reported above already.
    return [...problems, ...dependentProblems(ctx, describeOp(index, op), op.table).filter((p) => foreign.length === 0 || !/: constraint /.test(p))];
  },
  plan(op, ctx) {
    return [
      { phase: 'start', action: `hide ${op.table} from the new version (no view for it)`, locks: ['none'], rollback: 'none needed (the table is untouched)', risk: 'low' },
      {
        phase: 'complete', action: `DROP TABLE ${ctx.schema}.${op.table}`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (brief)`],
        rollback: 'none (irreversible: the table and its rows are gone)', risk: 'high', note: 'drops data',
      },
    ];
  },
  async expand() { /* the table stays as it is until complete */ },
  view(op, model) {
    model.delete(op.table);
  },
  async contract(op, ctx) {
    await ctx.client.query(`DROP TABLE IF EXISTS ${table(ctx, op.table)}`);
  },
};
