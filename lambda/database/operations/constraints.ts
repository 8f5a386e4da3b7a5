/** addIndex, addUnique (via a concurrent unique index), addForeignKey and addCheck (NOT VALID, then VALIDATE). */
import { describeOp, droppedConstraintColumns } from '../definition';
import { RewriteGroup, rewriteGroup } from './column-rewrite';
import {
  AddCheckOperation, AddForeignKeyOperation, AlterColumnOperation, AddIndexOperation, AddUniqueOperation, DropConstraintOperation, DropIndexOperation, RenameConstraintOperation,
} from '../types';
import { fragment, qi, qn } from '../sql';
import { createIndexConcurrently, dropIndexConcurrently, indexCheck } from './index-build';
import { CheckContext, OpContext, OperationImpl, VersionModel } from './operation';
import { columnList, physicalOf, requireKnownColumn, requireTable, table, validateConstraint } from './helpers';

/**
 * CREATE [UNIQUE] INDEX CONCURRENTLY, retried on lock timeouts. A failed concurrent build leaves an INVALID
 * index behind: it is dropped (concurrently) before a retry and before the error is reported.
 */
async function buildIndexConcurrently(ctx: OpContext, model: VersionModel, spec: {
  table: string; name: string; columns: readonly string[]; unique: boolean; method?: string; where?: string;
}): Promise<void> {
  const cols = spec.columns.map((c) => physicalOf(model, spec.table, c));
  const sql = `CREATE ${spec.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${qi(spec.name)} ON ${table(ctx, spec.table)}`
    + `${spec.method ? ` USING ${spec.method}` : ''} (${columnList(cols)})${spec.where ? ` WHERE ${spec.where}` : ''}`;
  await createIndexConcurrently(ctx, spec.name, sql, `${ctx.schema}.${spec.table} (${spec.columns.join(', ')})`);
}

function checkColumns(op: { table: string; columns: readonly string[]; op: string }, ctx: Parameters<OperationImpl<AddIndexOperation>['check']>[1], index: number): string[] {
  const w = describeOp(index, op);
  const problems = requireTable(ctx, w, op.table);
  if (problems.length) return problems;
  return op.columns.flatMap((c, i) => requireKnownColumn(ctx, w, op.table, c, `columns[${i}]`));
}

const SHARE_UPDATE_EXCLUSIVE = (t: string) => `SHARE UPDATE EXCLUSIVE on ${t} (reads and writes continue)`;

export const addIndex: OperationImpl<AddIndexOperation> = {
  check: (op, ctx, index) => checkColumns(op, ctx, index),
  probes(op, _ctx, row) {
    const from = row(op.table, 'physical');
    return op.where !== undefined && from ? [{ field: 'where', sql: `SELECT 1 FROM ${from} WHERE ${fragment(op.where)}` }] : [];
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    return [
      { phase: 'start', action: `CREATE ${op.unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY ${op.name} ON ${t} (${op.columns.join(', ')})`, locks: [SHARE_UPDATE_EXCLUSIVE(t)], rollback: `DROP INDEX CONCURRENTLY ${op.name}`, risk: 'low', note: 'no statement_timeout; an invalid index left by a failed build is dropped' },
      { phase: 'validate', action: `index ${op.name} is valid`, locks: ['none'], rollback: 'none needed', risk: 'low' },
    ];
  },
  async expand() { /* built concurrently after the start transaction */ },
  async expandConcurrently(op, ctx, model) {
    await buildIndexConcurrently(ctx, model, { table: op.table, name: op.name, columns: op.columns, unique: op.unique ?? false, method: op.method, where: op.where });
  },
  async validate(op, ctx) {
    return [await indexCheck(ctx, op.name, op.table)];
  },
  async rollback(op, ctx) {
    await dropIndexConcurrently(ctx, op.name);
  },
};

export const addUnique: OperationImpl<AddUniqueOperation> = {
  check: (op, ctx, index) => checkColumns(op, ctx, index),
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    return [
      { phase: 'start', action: `CREATE UNIQUE INDEX CONCURRENTLY ${op.name} ON ${t} (${op.columns.join(', ')})`, locks: [SHARE_UPDATE_EXCLUSIVE(t)], rollback: `DROP INDEX CONCURRENTLY ${op.name}`, risk: 'low', note: 'fails (and cleans up) if existing rows are not unique' },
      { phase: 'validate', action: `index ${op.name} is valid`, locks: ['none'], rollback: 'none needed', risk: 'low' },
      { phase: 'complete', action: `ALTER TABLE ${t} ADD CONSTRAINT ${op.name} UNIQUE USING INDEX ${op.name}`, locks: [`ACCESS EXCLUSIVE on ${t} (metadata only, brief)`], rollback: 'none needed', risk: 'low' },
    ];
  },
  async expand() { /* built concurrently after the start transaction */ },
  async expandConcurrently(op, ctx, model) {
    await buildIndexConcurrently(ctx, model, { table: op.table, name: op.name, columns: op.columns, unique: true });
  },
  async validate(op, ctx) {
    return [await indexCheck(ctx, op.name, op.table)];
  },
  async contract(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ADD CONSTRAINT ${qi(op.name)} UNIQUE USING INDEX ${qi(op.name)}`);
  },
  async rollback(op, ctx) {
    await ctx.ddl.transaction(`drop constraint ${op.name}`, (c) => c.query(`ALTER TABLE ${table(ctx, op.table)} DROP CONSTRAINT IF EXISTS ${qi(op.name)}`));
    await dropIndexConcurrently(ctx, op.name);
  },
};

export const addForeignKey: OperationImpl<AddForeignKeyOperation> = {
  check(op, ctx, index) {
    const problems = checkColumns(op, ctx, index);
    const w = describeOp(index, op);
    problems.push(...requireTable(ctx, w, op.references.table, 'references.table'));
    if (problems.length === 0) problems.push(...op.references.columns.flatMap((c, i) => requireKnownColumn(ctx, w, op.references.table, c, `references.columns[${i}]`)));
    return problems;
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    const rt = `${ctx.schema}.${op.references.table}`;
    return [
      { phase: 'start', action: `ADD CONSTRAINT ${op.name} FOREIGN KEY (${op.columns.join(', ')}) REFERENCES ${rt} (${op.references.columns.join(', ')}) NOT VALID`, locks: [`SHARE ROW EXCLUSIVE on ${t} and ${rt} (brief; lock_timeout + retries)`], rollback: `DROP CONSTRAINT ${op.name}`, risk: 'low', note: 'enforced for new writes at once' },
      { phase: 'validate', action: `VALIDATE CONSTRAINT ${op.name}`, locks: [SHARE_UPDATE_EXCLUSIVE(t), `ROW SHARE on ${rt}`], rollback: 'none needed', risk: 'low' },
    ];
  },
  async expand(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ADD CONSTRAINT ${qi(op.name)} FOREIGN KEY (${columnList(op.columns)})
      REFERENCES ${table(ctx, op.references.table)} (${columnList(op.references.columns)}) ON DELETE ${op.onDelete ?? 'NO ACTION'} NOT VALID`);
  },
  async validate(op, ctx) {
    return [await validateConstraint(ctx, op.table, op.name, `foreign key ${op.name} holds`)];
  },
  async rollback(op, ctx) {
    await ctx.ddl.transaction(`drop constraint ${op.name}`, (c) => c.query(`ALTER TABLE ${table(ctx, op.table)} DROP CONSTRAINT IF EXISTS ${qi(op.name)}`));
  },
};

export const addCheck: OperationImpl<AddCheckOperation> = {
  check: (op, ctx, index) => requireTable(ctx, describeOp(index, op), op.table),
  probes(op, _ctx, row) {
    const from = row(op.table, 'physical');
    return from ? [{ field: 'check', sql: `SELECT ${fragment(op.check)}::boolean FROM ${from}` }] : [];
  },
  plan(op, ctx) {
    const t = `${ctx.schema}.${op.table}`;
    return [
      { phase: 'start', action: `ADD CONSTRAINT ${op.name} CHECK (${op.check}) NOT VALID`, locks: [`ACCESS EXCLUSIVE on ${t} (metadata only, brief)`], rollback: `DROP CONSTRAINT ${op.name}`, risk: 'low', note: 'enforced for new writes of both versions at once' },
      { phase: 'validate', action: `VALIDATE CONSTRAINT ${op.name}`, locks: [SHARE_UPDATE_EXCLUSIVE(t)], rollback: 'none needed', risk: 'low' },
    ];
  },
  async expand(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} ADD CONSTRAINT ${qi(op.name)} CHECK (${op.check}) NOT VALID`);
  },
  async validate(op, ctx) {
    return [await validateConstraint(ctx, op.table, op.name, `check ${op.name} holds`)];
  },
  async rollback(op, ctx) {
    await ctx.ddl.transaction(`drop constraint ${op.name}`, (c) => c.query(`ALTER TABLE ${table(ctx, op.table)} DROP CONSTRAINT IF EXISTS ${qi(op.name)}`));
  },
};

/** Problems when a table has no constraint of that name. */
function requireConstraint(op: { table: string }, ctx: CheckContext, where: string, name: string, field: string): string[] {
  const t = ctx.catalog.get(op.table);
  if (!t) return [`${where}: table names ${ctx.schema}.${op.table}, which does not exist`];
  if (t.constraints?.some((c) => c.name === name)) return [];
  return [`${where}: ${field} names constraint ${name}, which ${ctx.schema}.${op.table} does not have (it has ${(t.constraints ?? []).map((c) => c.name).join(', ') || 'none'})`];
}

export const dropIndex: OperationImpl<DropIndexOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    const t = ctx.catalog.get(op.table);
    if (!t) return [`${where}: table names ${ctx.schema}.${op.table}, which does not exist`];
    const idx = t.indexes?.find((i) => i.name === op.name);
    if (!idx) return [`${where}: name names index ${op.name}, which is not an index of ${ctx.schema}.${op.table} (it has ${(t.indexes ?? []).map((i) => i.name).join(', ') || 'none'})`];
    return idx.constraint ? [`${where}: index ${op.name} backs constraint ${idx.constraint}; drop the constraint instead (dropConstraint)`] : [];
  },
  plan(op, ctx) {
    return [{ phase: 'complete', action: `DROP INDEX ${ctx.schema}.${op.name}`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (brief; in the complete transaction)`], rollback: 'none needed (both versions keep it until complete)', risk: 'low',
      note: 'recreating it later means a new CREATE INDEX CONCURRENTLY' }];
  },
  async expand() { /* both versions keep the index until complete */ },
  async contract(op, ctx) {
    await ctx.client.query(`DROP INDEX IF EXISTS ${qn(ctx.schema, op.name)}`);
  },
};

export const renameConstraint: OperationImpl<RenameConstraintOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    const problems = requireConstraint(op, ctx, where, op.from, 'from');
    if (ctx.catalog.get(op.table)?.constraints?.some((c) => c.name === op.to)) problems.push(`${where}: to names constraint ${op.to}, which ${ctx.schema}.${op.table} already has`);
    return problems;
  },
  plan(op, ctx) {
    return [{ phase: 'complete', action: `ALTER TABLE ${ctx.schema}.${op.table} RENAME CONSTRAINT ${op.from} TO ${op.to}`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (metadata only, brief)`], rollback: 'none needed (the name changes at complete)', risk: 'low' }];
  },
  async expand() { /* renamed at complete: the old version may match on the old name in its error handling */ },
  async contract(op, ctx) {
    await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} RENAME CONSTRAINT ${qi(op.from)} TO ${qi(op.to)}`);
  },
};

/**
 * dropConstraint with up/down: the constraint's columns rewritten without it (pgroll's drop_multicolumn_constraint,
 * docs/operations/drop_multi_column_constraint.mdx), so the new version is free of it at once; the old columns keep
 * it, and go with it at complete.
 */
function dropGroup(op: DropConstraintOperation): RewriteGroup {
  const parts: AlterColumnOperation[] = droppedConstraintColumns(op).map((column) => ({ op: 'alterColumn', table: op.table, column, up: op.up?.[column], down: op.down?.[column] }));
  return { table: op.table, parts, constraints: [], dropped: [op.name] };
}

const rewritesDropped = (op: DropConstraintOperation) => op.up !== undefined || op.down !== undefined;

export const dropConstraint: OperationImpl<DropConstraintOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    const problems = requireConstraint(op, ctx, where, op.name, 'name');
    const c = ctx.catalog.get(op.table)?.constraints?.find((x) => x.name === op.name);
    if (c?.type === 'p') problems.push(`${where}: ${op.name} is the primary key of ${ctx.schema}.${op.table}; the engine's backfill walks it, so it cannot be dropped`);
    if (c && c.referencedBy.length > 0) problems.push(`${where}: foreign keys ${c.referencedBy.join(', ')} depend on ${op.name}; drop them first (dropConstraint on their tables)`);
    if (c && rewritesDropped(op)) {
      if (!['c', 'u', 'f'].includes(c.type)) problems.push(`${where}: up/down apply to CHECK, UNIQUE and FOREIGN KEY constraints; ${op.name} is not one (drop it without up/down, at complete)`);
      const given = droppedConstraintColumns(op).sort();
      const columns = [...(c.columns ?? [])].sort();
      if (given.join() !== columns.join()) {
        problems.push(`${where}: up/down must name exactly the columns of ${op.name} (${columns.join(', ')}), got ${given.join(', ')}`);
      } else if (problems.length === 0) {
        problems.push(...rewriteGroup.check(dropGroup(op), ctx, where));
      }
    }
    return problems;
  },
  plan(op, ctx) {
    if (rewritesDropped(op)) {
      return [
        { phase: 'start', action: `the new version's ${droppedConstraintColumns(op).join(', ')} without ${op.name} (a rewrite of the constraint's columns; the old version keeps it)`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (metadata only, brief)`], rollback: 'drop the new columns', risk: 'low' },
        ...rewriteGroup.plan(dropGroup(op), ctx),
      ];
    }
    return [{ phase: 'complete', action: `ALTER TABLE ${ctx.schema}.${op.table} DROP CONSTRAINT ${op.name}`, locks: [`ACCESS EXCLUSIVE on ${ctx.schema}.${op.table} (metadata only, brief)`], rollback: 'none needed (both versions keep it until complete)', risk: 'low',
      note: 'the constraint holds for both versions until complete (give up/down to free the new version at once)' }];
  },
  probes: (op, ctx, row) => (rewritesDropped(op) ? rewriteGroup.probes(dropGroup(op), ctx, row) : []),
  dataChecks: (op, ctx) => (rewritesDropped(op) ? rewriteGroup.dataChecks(dropGroup(op), ctx) : []),
  async expand(op, ctx, catalog) {
    // Without up/down both versions keep the constraint until complete.
    if (rewritesDropped(op)) await rewriteGroup.expand(dropGroup(op), ctx, catalog);
  },
  view(op, model) {
    if (rewritesDropped(op)) rewriteGroup.view(dropGroup(op), model);
  },
  async triggers(op, ctx, catalog, model) {
    if (rewritesDropped(op)) await rewriteGroup.triggers(dropGroup(op), ctx, catalog, model);
  },
  async expandConcurrently(op, ctx) {
    if (rewritesDropped(op)) await rewriteGroup.expandConcurrently(dropGroup(op), ctx);
  },
  backfillStep: (op, ctx) => (rewritesDropped(op) ? rewriteGroup.backfillStep(dropGroup(op), ctx) : undefined),
  validate: async (op, ctx) => (rewritesDropped(op) ? rewriteGroup.validate(dropGroup(op), ctx) : []),
  async contract(op, ctx) {
    // With up/down, the old columns go at complete and the constraint with them.
    if (rewritesDropped(op)) await rewriteGroup.contract(dropGroup(op), ctx);
    else await ctx.client.query(`ALTER TABLE ${table(ctx, op.table)} DROP CONSTRAINT IF EXISTS ${qi(op.name)}`);
  },
  async rollback(op, ctx) {
    if (rewritesDropped(op)) await rewriteGroup.rollback(dropGroup(op), ctx);
  },
};
