import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DefinitionContext, INCONCLUSIVE_COUNT, UNJUDGED_STEPS } from './context';
import { notify } from './notify';
import { releaseLock } from './tasks';
import { RolloutEvent } from '../../../lambda/shared/contracts';

/**
 * The release, once every step is done (and the post-traffic hooks passed): record the new color as live and release
 * the lock in one conditional write, then the Completed event (also when the write fails after its retries: the error is
 * kept in $.lockError), then the execution succeeds. Returns the first state.
 */
export function releaseStates(ctx: DefinitionContext): sfn.IChainable {
  const recordLive = releaseLock(ctx, 'Record Live Color', true);
  const completedDetail = { ...ctx.colorsDetail, 'weights.$': '$.shift.after' };
  const completed = ctx.plan.onInconclusive === 'PROCEED'
    ? completedJudgedOrNot(ctx, completedDetail)
    : notify(ctx, 'Completed', RolloutEvent.COMPLETED, completedDetail);
  recordLive.addCatch(completed.start, { resultPath: '$.lockError' });
  recordLive.next(completed.start);
  completed.end.next(new sfn.Succeed(ctx.scope, 'Released'));
  return recordLive;
}

/**
 * The completion of an onInconclusive PROCEED rollout: the Completed event counts the inconclusive judgements that
 * were counted as healthy and the steps whose bake ended on one; when every step did, no judgement ever found the new
 * color healthy: the release was never judged. It then also sends 'Rollout Released Unjudged' and ends with
 * `$.release.judged` false, so neither subscribers nor the execution's output read it as a release that passed.
 */
function completedJudgedOrNot(ctx: DefinitionContext, detail: Record<string, unknown>): { start: sfn.State; end: sfn.Pass } {
  const { scope, plan } = ctx;
  const counted = { ...detail, 'inconclusiveJudgements.$': INCONCLUSIVE_COUNT, 'unjudgedSteps.$': UNJUDGED_STEPS };
  const judged = notify(ctx, 'Completed', RolloutEvent.COMPLETED, { ...counted, judged: true });
  const unjudged = notify(ctx, 'Completed Unjudged', RolloutEvent.COMPLETED, { ...counted, judged: false }, [RolloutEvent.RELEASED_UNJUDGED]);
  const outcome = (id: string, judgedFlag: boolean, summary: string) => new sfn.Pass(scope, id, {
    parameters: { 'judged': judgedFlag, 'inconclusiveJudgements.$': INCONCLUSIVE_COUNT, 'unjudgedSteps.$': UNJUDGED_STEPS, 'steps': plan.stepCount, 'summary': summary },
    resultPath: '$.release',
  });
  const end = new sfn.Pass(scope, 'Release Recorded');
  judged.end.next(outcome('Release Judged', true, 'released: a judgement found the new color healthy in at least one step')).next(end);
  unjudged.end.next(outcome('Release Unjudged', false,
    'released WITHOUT JUDGEMENT: every judgement was inconclusive (too little data) and onInconclusive is PROCEED')).next(end);
  const choice = new sfn.Choice(scope, 'Released Unjudged?')
    .when(sfn.Condition.numberGreaterThanEquals(UNJUDGED_STEPS, plan.stepCount), unjudged.start)
    .otherwise(judged.start);
  return { start: choice, end };
}
