/** createTable and dropTable. */
import { describeOp } from '../definition';
import { ColumnDefinition, CreateTableOperation, DropTableOperation, RenameTableOperation, SetReplicaIdentityOperation } from '../types';
import { fragment, qi, ql, qn } from '../sql';
import { OperationImpl } from './operation';
import { columnList, dependentProblems, requireKnownColumn, requireTable, table, typeProbe } from './helpers';

export function columnSql(c: ColumnDefinition, opts: { allowKeys: boolean; schema?: string }): string {
  const parts = [qi(c.name), c.type];
  if (c.default !== undefined) parts.push(`DEFAULT ${c.default}`);
  if (c.nullable === false) parts.push('NOT NULL');
  if (opts.allowKeys && c.primaryKey) parts.push('PRIMARY KEY');
  if (opts.allowKeys && c.unique) parts.push('UNIQUE');
  if (opts.allowKeys && c.check !== undefined) parts.push(`CHECK ${fragment(c.check)}`);
  if (opts.allowKeys && c.references && opts.schema) {
    parts.push(`REFERENCES ${qn(opts.schema, c.references.table)} (${qi(c.references.column)}) ON DELETE ${c.references.onDelete ?? 'NO ACTION'}`);
  }
  return parts.join(' ');
}

/** The tables a new table's foreign keys reference (the inline ones and the table-level ones). */
function referencedTables(op: CreateTableOperation): string[] {
  return [...new Set([...op.columns.flatMap((c) => (c.references ? [c.references.table] : [])), ...(op.foreignKeys ?? []).map((f) => f.references.table)])];
}

export const createTable: OperationImpl<CreateTableOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    const problems = ctx.catalog.has(op.table) ? [`${where}: table ${ctx.schema}.${op.table} already exists`] : [];
    const known = (t: string, field: string, check: () => string[]) => {
      const missing = requireTable(ctx, where, t, field);
      return missing.length > 0 ? missing : check();
    };
    op.columns.forEach((c, i) => {
      if (!c.references || c.references.table === op.table) return;
      problems.push(...known(c.references.table, `columns[${i}].references.table`,
        () => requireKnownColumn(ctx, where, c.references!.table, c.references!.column, `columns[${i}].references.column`)));
    });
    (op.foreignKeys ?? []).forEach((f, i) => {
      if (f.references.table === op.table) return;
      problems.push(...known(f.references.table, `foreignKeys[${i}].references.table`,
        () => f.references.columns.flatMap((c, j) => requireKnownColumn(ctx, where, f.references.table, c, `foreignKeys[${i}].references.columns[${j}]`))));
    });
    return problems;
  },
  probes(op) {
    const typeProbes = op.columns.flatMap((c, i) => [
      typeProbe(`columns[${i}].type`, c.type),
      ...(c.default !== undefined ? [{ field: `columns[${i}].default`, sql: `SELECT ${fragment(c.default)}::${c.type}` }] : []),
    ]);
    // Checks name the new table's columns: tried on a row of NULLs of their types.
    const row = `(SELECT ${op.columns.map((c) => `NULL::${typeProbe('', c.type).sql.replace(/^SELECT NULL::/, '')} AS ${qi(c.name)}`).join(', ')}) AS ${qi(op.table)}`;
    return [...typeProbes,
      ...op.columns.flatMap((c, i) => (c.check !== undefined ? [{ field: `columns[${i}].check`, sql: `SELECT ${fragment(c.check)}::boolean FROM ${row}` }] : [])),
      ...(op.checks ?? []).map((c, i) => ({ field: `checks[${i}].check`, sql: `SELECT ${fragment(c.check)}::boolean FROM ${row}` }))];
  },
  plan(op, ctx) {
    const refs = referencedTables(op).filter((t) => t !== op.table);
    const constraints = [...op.columns.flatMap((c) => [...(c.check ? [`CHECK on ${c.name}`] : []), ...(c.references ? [`${c.name} REFERENCES ${c.references.table}`] : [])]),
      ...(op.checks ?? []).map((c) => `CHECK ${c.name}`), ...(op.foreignKeys ?? []).map((f) => `FOREIGN KEY ${f.name} (${f.columns.join(', ')}) REFERENCES ${f.references.table}`)];
    return [{
      phase: 'start', action: `CREATE TABLE ${ctx.schema}.${op.table} (${op.columns.map((c) => c.name).join(', ')})${constraints.length ? ` with ${constraints.join(', ')}` : ''}`,
      locks: refs.length ? refs.map((t) => `SHARE ROW EXCLUSIVE on ${ctx.schema}.${t} (brief, for the foreign key; lock_timeout + retries)`) : ['none on existing tables'],
      rollback: `DROP TABLE ${ctx.schema}.${op.table} (rows the new version wrote are discarded)`, risk: 'low',
    }];
  },
  async expand(op, ctx) {
    const defs = op.columns.map((c) => columnSql(c, { allowKeys: true, schema: ctx.schema }));
    if (op.primaryKey) defs.push(`PRIMARY KEY (${columnList(op.primaryKey)})`);
    for (const c of op.checks ?? []) defs.push(`CONSTRAINT ${qi(c.name)} CHECK ${fragment(c.check)}`);
    for (const f of op.foreignKeys ?? []) {
      defs.push(`CONSTRAINT ${qi(f.name)} FOREIGN KEY (${columnList(f.columns)}) REFERENCES ${table(ctx, f.references.table)} (${columnList(f.references.columns)}) ON DELETE ${f.onDelete ?? 'NO ACTION'}`);
    }
    await ctx.client.query(`CREATE TABLE ${table(ctx, op.table)} (${defs.join(', ')})`);
    if (op.comment !== undefined) await ctx.client.query(`COMMENT ON TABLE ${table(ctx, op.table)} IS ${ql(op.comment)}`);
    for (const c of op.columns) if (c.comment !== undefined) await ctx.client.query(`COMMENT ON COLUMN ${table(ctx, op.table)}.${qi(c.name)} IS ${ql(c.comment)}`);
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

export const renameTable: OperationImpl<RenameTableOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    if (!ctx.catalog.has(op.table)) return [`${where}: table names ${ctx.schema}.${op.table}, which does not exist`];
    return ctx.catalog.has(op.to) || ctx.createdTables.has(op.to) ? [`${where}: to names table ${ctx.schema}.${op.to}, which already exists`] : [];
  },
  plan(op, ctx) {
    return [
      { phase: 'start', action: `new version sees ${op.table} as ${op.to} (a view; no data copied)`, locks: ['none on the table'], rollback: 'drop the version schema', risk: 'low' },
      { phase: 'complete', action: `ALTER TABLE ${ctx.schema}.${op.table} RENAME TO ${op.to}`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (metadata only, brief)`], rollback: 'none needed', risk: 'low',
        note: 'its sequences, indexes and constraints keep their names' },
    ];
  },
  async expand() { /* a rename is a view name until complete */ },
  view(op, model) {
    model.viewNames.set(op.table, op.to);
  },
  async contract(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} RENAME TO ${qi(op.to)}`);
  },
};

/**
 * setReplicaIdentity: what logical replication sends for UPDATE and DELETE. Set at complete, so that rollback has
 * nothing to restore; until then the table keeps its replica identity for both versions.
 */
export const setReplicaIdentity: OperationImpl<SetReplicaIdentityOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    const t = ctx.catalog.get(op.table);
    if (!t) return [`${where}: table names ${ctx.schema}.${op.table}, which does not exist`];
    if (op.identity !== 'index') return [];
    const idx = t.indexes?.find((i) => i.name === op.index);
    if (!idx) return [`${where}: index names ${op.index}, which is not an index of ${ctx.schema}.${op.table} (it has ${(t.indexes ?? []).map((i) => i.name).join(', ') || 'none'})`];
    return idx.unique ? [] : [`${where}: index ${op.index} must be unique to be a replica identity`];
  },
  plan(op, ctx) {
    const identity = op.identity === 'index' ? `USING INDEX ${op.index}` : op.identity.toUpperCase();
    return [{ phase: 'complete', action: `ALTER TABLE ${ctx.schema}.${op.table} REPLICA IDENTITY ${identity}`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (metadata only, brief)`], rollback: 'none needed (nothing changes before complete)', risk: 'low' }];
  },
  async expand() { /* set at complete */ },
  async contract(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} REPLICA IDENTITY ${op.identity === 'index' ? `USING INDEX ${qi(op.index!)}` : op.identity.toUpperCase()}`);
  },
};
