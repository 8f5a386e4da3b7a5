import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { bakeStates, hooksThenAbortCheck } from './rollout-definition/bake';
import { definitionContext, RolloutDefinitionProps } from './rollout-definition/context';
import { trafficHooks } from './rollout-definition/hooks';
import { judgementStates } from './rollout-definition/judgement';
import { preflightStates } from './rollout-definition/preflight';
import { promoteFullStates } from './rollout-definition/promote-full';
import { promotionStates } from './rollout-definition/promotion';
import { releaseStates } from './rollout-definition/release';
import { rollbackStates } from './rollout-definition/rollback';
import { stepStates } from './rollout-definition/step';

export type { RolloutDefinitionProps } from './rollout-definition/context';

/**
 * The rollout state machine (DESIGN.md), composed of named parts (lib/private/rollout-definition/*.ts) that share a
 * DefinitionContext:
 *
 *   preflight (Plan, lock, live weights, colors, target health, alarms exist, Started)
 *   -> pre-traffic hooks (then an abort check)
 *   -> for each step: check targets -> shift + verify -> bake (wait -> abort / promote-full check -> judge, circuit breaker)
 *      -> judgement (FAIL / HOLD / BASELINE_DEGRADED / INCONCLUSIVE / PASS) -> optional pause until promoted -> Step Completed
 *      (a full promotion, `zdt promote --full`, skips to the last step from the check or from the pause)
 *   -> post-traffic hooks (then an abort check) -> release (record the live color and release the lock, Completed).
 *
 * Any FAIL, step error after retries, abort, hook failure or tripped judge circuit breaker -> rollback: 100% stable,
 * verified, THEN events, then the lock, then a failed execution whose cause says why.
 *
 * The execution state is one JSON document: $.input (caller), $.plan, $.execution, $.lock, $.route, $.colors,
 * $.cursor {index, step}, $.shift, $.bake, $.verdict, $.promotion (a pause's answer), $.promotedFull {fromStep, lastIndex}, $.judge {errors, count, e1..eN: judge-circuit-breaker.ts}, $.error, $.trigger, $.rollback.
 */
export function buildRolloutDefinition(scope: Construct, props: RolloutDefinitionProps): sfn.IChainable {
  const ctx = definitionContext(scope, props);
  const rollback = rollbackStates(ctx);
  const preTraffic = trafficHooks(ctx, rollback, 'preTraffic', 'Pre-Traffic', props.preTrafficHooks);
  const postTraffic = trafficHooks(ctx, rollback, 'postTraffic', 'Post-Traffic', props.postTrafficHooks);
  const preflight = preflightStates(ctx);
  const step = stepStates(ctx, rollback);
  const bake = bakeStates(ctx, rollback);
  const promotion = promotionStates(ctx, rollback);
  judgementStates(ctx, rollback, bake, promotion);
  const release = releaseStates(ctx);

  // The step loop: after a completed step, the next one, or once all are done the post-traffic hooks and the release.
  const moreSteps = new sfn.Choice(scope, 'More Steps?')
    .when(sfn.Condition.numberLessThanJsonPath('$.cursor.index', '$.plan.stepCount'), step.load)
    .otherwise(hooksThenAbortCheck(ctx, postTraffic, 'Post-Traffic', bake.abortRequested, release));
  preflight.started.end.next(hooksThenAbortCheck(ctx, preTraffic, 'Pre-Traffic', bake.abortRequested, step.first));
  step.first.next(step.load).next(step.shift).next(bake.wait);
  step.advance.next(moreSteps);
  // `zdt promote --full`: from the bake's operator check, or after a pause it answered, on to the last step.
  promotion.completed.end.next(promoteFullStates(ctx, step, bake, step.advance).afterStep);

  return preflight.start;
}
