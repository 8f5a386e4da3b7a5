import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { BaselineDegradedAction } from '../../rollout/baseline-policy';
import { Bake } from './bake';
import { DefinitionContext, INCONCLUSIVE_COUNT, UNJUDGED_STEPS } from './context';
import { notify } from './notify';
import { Promotion } from './promotion';
import { Rollback } from './rollback';
import { RolloutEvent } from '../../../lambda/shared/contracts';

/**
 * The judgement of a bake: FAIL rolls back; a HOLD that starts a baseline hold sends Baseline Degraded and bakes on;
 * BASELINE_DEGRADED applies onBaselineDegraded; INCONCLUSIVE applies onInconclusive; PASS ends the step's bake once
 * enough passes are in (the judge counts them); anything else bakes on.
 */
export function judgementStates(ctx: DefinitionContext, rollback: Rollback, bake: Bake, promotion: Promotion): sfn.Choice {
  const verdict = new sfn.Choice(ctx.scope, 'Verdict')
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'FAIL'), rollback.onJudgeFail)
    .when(sfn.Condition.and(sfn.Condition.stringEquals('$.verdict.verdict', 'HOLD'),
      sfn.Condition.isPresent('$.verdict.baseline.holdStarted'), sfn.Condition.booleanEquals('$.verdict.baseline.holdStarted', true)), baselineHold(ctx, bake))
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'BASELINE_DEGRADED'), baselinePolicy(ctx, rollback, promotion))
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'INCONCLUSIVE'), inconclusivePolicy(ctx, rollback, bake, promotion))
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'PASS'), promotion.baked)
    .otherwise(bake.wait);
  bake.judged.next(verdict);
  return verdict;
}

/**
 * A degraded stable color holds the step (the judgement did not count): the event once, when the hold starts; once
 * the hold has lasted longer than the judge's baselineHoldSeconds, the verdict is BASELINE_DEGRADED and the policy applies.
 */
function baselineHold(ctx: DefinitionContext, bake: Bake): sfn.IChainable {
  const baselineDegraded = notify(ctx, 'Baseline Degraded', RolloutEvent.BASELINE_DEGRADED,
    { ...ctx.colorsDetail, 'step.$': '$.cursor.step', 'weights.$': '$.shift.after', 'reasons.$': '$.verdict.reasons' });
  baselineDegraded.end.next(bake.wait);
  return baselineDegraded.start;
}

/** onBaselineDegraded: ROLLBACK rolls back, PAUSE pauses for the operator. */
function baselinePolicy(ctx: DefinitionContext, rollback: Rollback, promotion: Promotion): sfn.IChainable {
  return ctx.props.onBaselineDegraded === BaselineDegradedAction.ROLLBACK
    ? rollback.trigger('Baseline Still Degraded', 'baseline-degraded', { 'reason.$': 'States.JsonToString($.verdict.reasons)' })
    : promotion.paused.start;
}

/**
 * onInconclusive. Each policy builds only its own states: a state nothing reaches is refused by Step Functions
 * (MISSING_TRANSITION_TARGET), so the ROLLBACK trigger exists only under ROLLBACK.
 */
function inconclusivePolicy(ctx: DefinitionContext, rollback: Rollback, bake: Bake, promotion: Promotion): sfn.IChainable {
  const { scope } = ctx;
  switch (ctx.plan.onInconclusive) {
    case 'PROCEED': {
      // The judge's bake already counts an inconclusive judgement (as healthy, should the policy proceed) and keeps
      // the step's evidence; Record Verdict stored it in $.bake. Counted for the Completed event: a release whose every judgement was inconclusive says it was never judged.
      const record = new sfn.Pass(scope, 'Record Inconclusive Judgement', {
        parameters: { 'count.$': `States.MathAdd(${INCONCLUSIVE_COUNT}, 1)`, 'steps.$': UNJUDGED_STEPS },
        resultPath: '$.inconclusive',
      });
      // A step whose bake ends on an inconclusive judgement was never found healthy: counted for the completion.
      const unjudgedStep = new sfn.Pass(scope, 'Record Unjudged Step', {
        parameters: { 'count.$': INCONCLUSIVE_COUNT, 'steps.$': `States.MathAdd(${UNJUDGED_STEPS}, 1)` },
        resultPath: '$.inconclusive',
      });
      unjudgedStep.next(promotion.baked);
      return record.next(new sfn.Choice(scope, 'Bake Done?')
        .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.bake.passes', '$.bake.required'), unjudgedStep)
        .otherwise(bake.wait));
    }
    case 'PAUSE':
      return promotion.paused.start;
    default:
      return rollback.trigger('Inconclusive', 'inconclusive', { 'reason.$': 'States.JsonToString($.verdict.reasons)' });
  }
}
