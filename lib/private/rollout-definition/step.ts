import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { DefinitionContext, SHIFT_RETRY } from './context';
import { Rollback } from './rollback';
import { checkTargets, invoke } from './tasks';
import { ErrorName } from '../../../lambda/shared/contracts';

/** The states that move through the plan's steps ($.cursor). */
export interface StepStates {
  /** The cursor at the first step. */
  readonly first: sfn.Pass;
  /** The step at the cursor into $.cursor.step. */
  readonly load: sfn.Pass;
  /** The new color's targets checked, the step's traffic shifted and verified, the bake started. */
  readonly shift: sfn.Chain;
  /** The cursor one step further. */
  readonly advance: sfn.Pass;
}

/**
 * A step: the new color's targets healthy -> shift the traffic (the router reads the weights back) -> start the
 * bake. A task failing after its retries rolls back.
 */
export function stepStates(ctx: DefinitionContext, rollback: Rollback): StepStates {
  const { scope, props } = ctx;
  const first = new sfn.Pass(scope, 'First Step', { result: sfn.Result.fromObject({ index: 0 }), resultPath: '$.cursor' });
  const load = new sfn.Pass(scope, 'Load Step', {
    parameters: { 'index.$': '$.cursor.index', 'step.$': 'States.ArrayGetItem($.plan.steps, $.cursor.index)' },
    resultPath: '$.cursor',
  });
  const targets = checkTargets(ctx, 'Check Targets Before Shift');
  targets.addCatch(rollback.onStepError, { resultPath: '$.error' });
  const shift = invoke(ctx, 'Shift Traffic', props.routerFunction, {
    'action': 'shift',
    'targetColor.$': '$.colors.target',
    'percent.$': '$.cursor.step.percent',
    'segments.$': '$.cursor.step.segments',
  }, '$.shift', SHIFT_RETRY, [ErrorName.RETRYABLE, ErrorName.WEIGHT_VERIFICATION_FAILED]);
  shift.addCatch(rollback.onStepError, { resultPath: '$.error' });
  const startBake = new sfn.Pass(scope, 'Start Bake', {
    // The step's data begins with its shift: judgements that read data from before it do not count (judge.ts). The
    // sequential judge's evidence carries on from the last step (its 5xx tests run over the whole rollout).
    parameters: {
      'passes': 0, 'required.$': '$.cursor.step.bakeIntervals', 'startedAt.$': '$$.State.EnteredTime', 'evidence.$': '$.bake.evidence',
      // The judge sets the next wait from here on (it reads the release signal): the plan's interval first.
      ...(props.judgeSetsWait ? { 'waitSeconds.$': '$.plan.judgeIntervalSeconds' } : {}),
    },
    resultPath: '$.bake',
  });
  const advance = new sfn.Pass(scope, 'Next Step', {
    parameters: { 'index.$': 'States.MathAdd($.cursor.index, 1)' },
    resultPath: '$.cursor',
  });
  return { first, load, shift: sfn.Chain.start(targets).next(shift).next(startBake), advance };
}
