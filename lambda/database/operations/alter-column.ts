/**
 * alterColumn: several changes to one column in one operation (pgroll's alter_column). A change of `type`,
 * `nullable`, or an added `check` / `unique` / `references` is a column rewrite (column-rewrite.ts) that also carries
 * the new default and comment, with the added constraints on the new column (rewrite-objects.ts). A change of only
 * the default and/or the comment copies nothing: the new version's view gets them at once (a view column's own
 * default applies to inserts through the view), the table at complete; the old version keeps the table's until then.
 */
import { describeOp } from '../definition';
import { fragment, qi, ql } from '../sql';
import { AlterColumnOperation } from '../types';
import { RewriteGroup, rewriteGroup } from './column-rewrite';
import { requireNewConstraint } from './create-constraint';
import { NewConstraint } from './rewrite-objects';
import { requireExistingColumn, table } from './helpers';
import { OperationImpl, PlanStepDescription } from './operation';

/** Whether the operation rewrites the column (a new column swapped in at complete) rather than changing its metadata. */
export function rewritesColumn(op: AlterColumnOperation): boolean {
  return op.type !== undefined || op.nullable !== undefined || op.check !== undefined || op.unique !== undefined || op.references !== undefined;
}

/** The rewrite of an alterColumn that rewrites: the column, with the constraints it adds (pgroll's alter_column check / unique / references). */
export function alterGroup(op: AlterColumnOperation): RewriteGroup {
  const constraints: NewConstraint[] = [];
  if (op.check) constraints.push({ table: op.table, name: op.check.name, type: 'check', columns: [op.column], check: op.check.constraint });
  if (op.unique) constraints.push({ table: op.table, name: op.unique.name, type: 'unique', columns: [op.column] });
  if (op.references) {
    constraints.push({ table: op.table, name: op.references.name, type: 'foreignKey', columns: [op.column],
      references: { table: op.references.table, columns: [op.references.column], onDelete: op.references.onDelete } });
  }
  return { table: op.table, parts: [op], constraints };
}

function metadataChanges(op: AlterColumnOperation): string[] {
  return [
    ...(op.default === undefined ? [] : [op.default === null ? 'DROP DEFAULT' : `SET DEFAULT ${op.default}`]),
    ...(op.comment === undefined ? [] : [op.comment === null ? 'comment removed' : `COMMENT ${ql(op.comment)}`]),
  ];
}

export const alterColumn: OperationImpl<AlterColumnOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    if (!rewritesColumn(op)) return requireExistingColumn(ctx, where, op.table, op.column, 'column');
    const g = alterGroup(op);
    return [...rewriteGroup.check(g, ctx, where), ...g.constraints.flatMap((c) => requireNewConstraint(c, ctx, where))];
  },
  plan(op, ctx) {
    if (rewritesColumn(op)) return rewriteGroup.plan(alterGroup(op), ctx);
    const t = `${ctx.schema}.${op.table}`;
    const changes = metadataChanges(op).join(', ');
    const steps: PlanStepDescription[] = [
      { phase: 'start', action: `the new version's view of ${op.table}.${op.column}: ${changes}`, locks: ['none on the table'], rollback: 'drop the version schema', risk: 'low' },
      { phase: 'complete', action: `ALTER TABLE ${t} ALTER COLUMN ${op.column}: ${changes}`, locks: [`ACCESS EXCLUSIVE on ${t} (metadata only, brief)`], rollback: 'none needed', risk: 'low' },
    ];
    return steps;
  },
  probes(op, ctx, row) {
    if (rewritesColumn(op)) return rewriteGroup.probes(alterGroup(op), ctx, row);
    const col = ctx.catalog.get(op.table)?.columns.find((c) => c.name === op.column);
    return col && typeof op.default === 'string' ? [{ field: 'default', sql: `SELECT ${fragment(op.default)}::${col.type}` }] : [];
  },
  dataChecks: (op, ctx) => (rewritesColumn(op) ? rewriteGroup.dataChecks(alterGroup(op), ctx) : []),
  async expand(op, ctx, catalog) {
    if (rewritesColumn(op)) await rewriteGroup.expand(alterGroup(op), ctx, catalog);
  },
  view(op, model) {
    if (rewritesColumn(op)) rewriteGroup.view(alterGroup(op), model);
    const col = model.get(op.table)?.find((c) => c.alias === op.column);
    if (!col) return;
    // A rewritten column carries its default itself; a metadata change shows on the view first.
    if (!rewritesColumn(op) && op.default !== undefined) col.default = op.default;
    if (op.comment !== undefined) col.comment = op.comment;
  },
  async triggers(op, ctx, catalog, model) {
    if (rewritesColumn(op)) await rewriteGroup.triggers(alterGroup(op), ctx, catalog, model);
  },
  async expandConcurrently(op, ctx) {
    if (rewritesColumn(op)) await rewriteGroup.expandConcurrently(alterGroup(op), ctx);
  },
  backfillStep: (op, ctx) => (rewritesColumn(op) ? rewriteGroup.backfillStep(alterGroup(op), ctx) : undefined),
  validate: async (op, ctx) => (rewritesColumn(op) ? rewriteGroup.validate(alterGroup(op), ctx) : []),
  async contract(op, ctx) {
    if (rewritesColumn(op)) return rewriteGroup.contract(alterGroup(op), ctx);
    const t = table(ctx, op.table);
    if (op.default !== undefined) {
      await ctx.client.query(`ALTER TABLE ${t} ALTER COLUMN ${qi(op.column)} ${op.default === null ? 'DROP DEFAULT' : `SET DEFAULT ${op.default}`}`);
    }
    if (op.comment !== undefined) await ctx.client.query(`COMMENT ON COLUMN ${t}.${qi(op.column)} IS ${op.comment === null ? 'NULL' : ql(op.comment)}`);
  },
  async rollback(op, ctx) {
    if (rewritesColumn(op)) await rewriteGroup.rollback(alterGroup(op), ctx);
  },
};
