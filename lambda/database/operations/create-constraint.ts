/**
 * createConstraint: a UNIQUE, CHECK or FOREIGN KEY constraint over one or more columns with up/down data fix-up
 * (pgroll's create_constraint, docs/operations/create_constraint.mdx). Each column is rewritten (column-rewrite.ts,
 * type unchanged): the new version sees new columns that `up[column]` fills from the old ones and `down[column]`
 * writes back; the constraint is made on the new columns (rewrite-objects.ts), so it binds the new version at once
 * and the old version never. Complete swaps the columns; rollback drops them with the constraint.
 */
import { describeOp } from '../definition';
import { AlterColumnOperation, CreateConstraintOperation } from '../types';
import { RewriteGroup, rewriteGroup } from './column-rewrite';
import { requireKnownColumn, requireTable } from './helpers';
import { CheckContext, OperationImpl } from './operation';
import { NewConstraint } from './rewrite-objects';

/** The operation as a rewrite of its columns (identity up/down where not given) with the constraint on them. */
export function constraintGroup(op: CreateConstraintOperation): RewriteGroup {
  const parts: AlterColumnOperation[] = op.columns.map((column) => ({ op: 'alterColumn', table: op.table, column, up: op.up?.[column], down: op.down?.[column] }));
  return { table: op.table, parts, constraints: [{ table: op.table, name: op.name, type: op.type, columns: op.columns, check: op.check, references: op.references }] };
}

/** Problems with a constraint an operation adds: its name is taken, or what it references is missing. */
export function requireNewConstraint(c: NewConstraint, ctx: CheckContext, where: string): string[] {
  const problems: string[] = [];
  const t = ctx.catalog.get(c.table);
  if (t?.constraints?.some((x) => x.name === c.name) || t?.indexes?.some((x) => x.name === c.name)) {
    problems.push(`${where}: name ${c.name} is already a constraint or index of ${ctx.schema}.${c.table}`);
  }
  if (c.type === 'foreignKey' && c.references) {
    problems.push(...requireTable(ctx, where, c.references.table, 'references.table'));
    if (problems.length === 0) problems.push(...c.references.columns.flatMap((col, i) => requireKnownColumn(ctx, where, c.references!.table, col, `references.columns[${i}]`)));
  }
  return problems;
}

export const createConstraint: OperationImpl<CreateConstraintOperation> = {
  check(op, ctx, index) {
    const where = describeOp(index, op);
    const g = constraintGroup(op);
    return [...rewriteGroup.check(g, ctx, where), ...g.constraints.flatMap((c) => requireNewConstraint(c, ctx, where))];
  },
  plan: (op, ctx) => rewriteGroup.plan(constraintGroup(op), ctx),
  probes: (op, ctx, row) => rewriteGroup.probes(constraintGroup(op), ctx, row),
  dataChecks: (op, ctx) => rewriteGroup.dataChecks(constraintGroup(op), ctx),
  expand: (op, ctx, catalog) => rewriteGroup.expand(constraintGroup(op), ctx, catalog),
  view: (op, model) => rewriteGroup.view(constraintGroup(op), model),
  triggers: (op, ctx, catalog, model) => rewriteGroup.triggers(constraintGroup(op), ctx, catalog, model),
  expandConcurrently: (op, ctx) => rewriteGroup.expandConcurrently(constraintGroup(op), ctx),
  backfillStep: (op, ctx) => rewriteGroup.backfillStep(constraintGroup(op), ctx),
  validate: (op, ctx) => rewriteGroup.validate(constraintGroup(op), ctx),
  contract: (op, ctx) => rewriteGroup.contract(constraintGroup(op), ctx),
  rollback: (op, ctx) => rewriteGroup.rollback(constraintGroup(op), ctx),
};
