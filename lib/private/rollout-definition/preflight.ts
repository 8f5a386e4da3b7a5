import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { initialJudgeState } from '../judge-circuit-breaker';
import { DefinitionContext, READ_RETRY } from './context';
import { notify, NotifyStates } from './notify';
import { checkTargets, invoke, releaseLock, RETRYABLE } from './tasks';
import { ErrorName, RolloutEvent } from '../../../lambda/shared/contracts';

/** The preflight: enter at `start`; after the Started event (`started.end`) traffic may move. */
export interface Preflight {
  readonly start: sfn.IChainable;
  readonly started: NotifyStates;
}

/**
 * Preflight, before any traffic moves: Plan (the execution state), the lock, the live weights, the colors (the
 * input's target, else the one not live), the new color's target health, the alarms exist, then the Started event.
 * A refusal leaves traffic untouched and releases the lock when this execution holds it.
 */
export function preflightStates(ctx: DefinitionContext): Preflight {
  const { scope, props, plan } = ctx;
  const refuseWith = refusal(ctx);
  const refuseReleasingLock = refuseWith.releasingLock;

  const start = new sfn.Pass(scope, 'Plan', {
    parameters: {
      'input.$': '$', plan, 'stateTable': props.stateTable.tableName, 'execution.$': '$$.Execution.Id', 'judge': initialJudgeState(plan),
      // The sequential judge's evidence, carried from step to step by Start Bake: none before the first step.
      'bake': { passes: 0, required: 1, evidence: {}, ...(props.judgeSetsWait ? { waitSeconds: plan.judgeIntervalSeconds } : {}) },
      ...(plan.onInconclusive === 'PROCEED' ? { inconclusive: { count: 0, steps: 0 } } : {}),
    },
  });
  const acquire = invoke(ctx, 'Acquire Lock', props.lockFunction,
    { 'action': 'acquire', 'owner.$': '$.execution', 'ttlSeconds': plan.lockTtlSeconds }, '$.lock', READ_RETRY, RETRYABLE);
  // Not our lock: fail without touching it.
  acquire.addCatch(new sfn.Fail(scope, 'Refused: Lock Not Acquired', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), { resultPath: '$.error' });
  const describe = invoke(ctx, 'Read Live Weights', props.routerFunction, { action: 'describe' }, '$.route', READ_RETRY, RETRYABLE);
  describe.addCatch(refuseReleasingLock, { resultPath: '$.error' });

  const colors = (id: string, target: string, stable: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ target, stable }), resultPath: '$.colors' });
  const toGreen = colors('Release Green', 'green', 'blue');
  const toBlue = colors('Release Blue', 'blue', 'green');
  const hasInput = sfn.Condition.isPresent('$.input.targetColor');
  const liveIs = (c: string) => sfn.Condition.and(sfn.Condition.isString('$.route.liveColor'), sfn.Condition.stringEquals('$.route.liveColor', c));
  const chooseColors = new sfn.Choice(scope, 'Choose Colors')
    .when(sfn.Condition.and(hasInput, sfn.Condition.stringEquals('$.input.targetColor', 'green')), toGreen)
    .when(sfn.Condition.and(hasInput, sfn.Condition.stringEquals('$.input.targetColor', 'blue')), toBlue)
    .when(hasInput, refuseWith.error('Invalid Target Color', ErrorName.INVALID_REQUEST,
      "States.Format('input.targetColor must be \"blue\" or \"green\", got {}', States.JsonToString($.input.targetColor))"))
    .when(liveIs('blue'), toGreen)
    .when(liveIs('green'), toBlue)
    .when(sfn.Condition.stringEquals('$.lock.recordedLiveColor', 'blue'), toGreen)
    .otherwise(toBlue);

  const alreadyLive = new sfn.Choice(scope, 'Target Already Live?')
    .when(sfn.Condition.and(sfn.Condition.isString('$.route.liveColor'), sfn.Condition.stringEqualsJsonPath('$.route.liveColor', '$.colors.target')),
      refuseWith.error('Already Live', ErrorName.ALREADY_LIVE,
        "States.Format('{} already carries 100% of production traffic: deploy the new release to the other color, or pass input.targetColor', $.colors.target)"));
  const preflightTargets = checkTargets(ctx, 'Check New Color Targets');
  preflightTargets.addCatch(refuseReleasingLock, { resultPath: '$.error' });
  const checkAlarms = invoke(ctx, 'Check Alarms Exist', props.judgeFunction,
    { 'action': 'checkAlarms', 'targetColor.$': '$.colors.target' }, sfn.JsonPath.DISCARD, READ_RETRY, RETRYABLE);
  checkAlarms.addCatch(refuseReleasingLock, { resultPath: '$.error' });
  const started = notify(ctx, 'Started', RolloutEvent.STARTED, { ...ctx.colorsDetail, 'weights.$': '$.route.weights', 'steps': plan.steps });

  toGreen.next(alreadyLive);
  toBlue.next(alreadyLive);
  alreadyLive.otherwise(preflightTargets);
  preflightTargets.next(checkAlarms).next(started.start);

  return { start: sfn.Chain.start(start).next(acquire).next(describe).next(chooseColors), started };
}

/** The refusal: a failed execution whose error and cause are $.error's, after releasing the lock if this execution holds it. */
function refusal(ctx: DefinitionContext) {
  const refused = new sfn.Fail(ctx.scope, 'Refused', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const releasingLock = releaseLock(ctx, 'Release Lock After Refusal', false);
  releasingLock.addCatch(refused, { resultPath: '$.lockError' });
  releasingLock.next(refused);
  return {
    /** Refuses with $.error as it is (a failed task's). */
    releasingLock,
    /** Refuses with this error name and a cause (a JSONPath intrinsic). */
    error: (id: string, error: string, cause: string): sfn.IChainable =>
      new sfn.Pass(ctx.scope, id, { parameters: { 'Error': error, 'Cause.$': cause }, resultPath: '$.error' }).next(releasingLock),
  };
}
