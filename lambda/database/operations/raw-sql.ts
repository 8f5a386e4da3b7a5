/** sql: raw SQL with an explicit inverse, for what the other operations cannot express. */
import { SqlOperation } from '../types';
import { OperationImpl, PlanStepDescription } from './operation';

export const rawSql: OperationImpl<SqlOperation> = {
  check: () => [],
  plan(op) {
    const risk = op.risk ?? 'high';
    const steps: PlanStepDescription[] = [{
      phase: 'start', action: `run SQL: ${oneLine(op.up)}`, locks: ['unknown (raw SQL; runs with lock_timeout + retries)'],
      rollback: `run SQL: ${oneLine(op.down)}`, risk, note: op.risk ? 'risk declared by the author' : 'raw SQL is high risk unless the migration declares risk: "low"',
    }];
    if (op.complete) steps.push({ phase: 'complete', action: `run SQL: ${oneLine(op.complete)}`, locks: ['unknown (raw SQL)'], rollback: 'none after complete', risk, note: steps[0].note });
    return steps;
  },
  async expand(op, ctx) {
    await ctx.client.query(op.up);
  },
  async contract(op, ctx) {
    if (op.complete) await ctx.client.query(op.complete);
  },
  async rollback(op, ctx) {
    await ctx.ddl.transaction(`rollback SQL of operation ${ctx.index}`, (c) => c.query(op.down));
  },
};

function oneLine(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}
