import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Bake } from './bake';
import { DefinitionContext } from './context';
import { notify } from './notify';
import { StepStates } from './step';
import { operatorRequestFor } from '../state-lock';
import { RolloutEvent, StateTable } from '../../../lambda/shared/contracts';

/** Where the full promotion is recorded in the execution state: the step it skipped from and the last step's index. */
const PROMOTED_FULL = '$.promotedFull';

/** The states of `zdt promote --full`: enter at `afterStep` once a step completed (instead of the next step). */
export interface PromoteFull {
  /** After a completed step: a pause answered with `zdt promote --full` skips to the last step, else the next step. */
  readonly afterStep: sfn.Choice;
}

/**
 * `zdt promote --full`: the remaining steps are skipped and the new color gets the last step's share (100%) next,
 * like Argo Rollouts' `promote --full`, but that step still bakes and is judged, and the post-traffic hooks still run:
 * a hotfix that is bad still rolls back. Two ways in: the operator's flag on the state item
 * (StateTable.PROMOTE_FULL_REQUESTED, lambda/rollout/operator-request.ts), read with the abort flag before every
 * judgement, so the step being baked is cut short at its next judgement; or a pause answered with `{ full: true }`,
 * after the paused step's Step Completed. Once only per execution ($.promotedFull): the last step then bakes as usual.
 * An abort requested at the same time wins (its branch comes first).
 */
export function promoteFullStates(ctx: DefinitionContext, step: StepStates, bake: Bake, next: sfn.IChainable): PromoteFull {
  const { scope } = ctx;
  const notPromoted = sfn.Condition.isNotPresent(PROMOTED_FULL);
  const recordPromotion = (id: string) => new sfn.Pass(scope, id, {
    parameters: { 'fromStep.$': '$.cursor.step', 'lastIndex.$': 'States.MathAdd($.plan.stepCount, -1)' },
    resultPath: PROMOTED_FULL,
  });
  const record = recordPromotion('Record Promote Full');
  const promoted = notify(ctx, 'Promoted Full', RolloutEvent.PROMOTED_FULL,
    { ...ctx.colorsDetail, 'step.$': '$.cursor.step', 'weights.$': '$.shift.after' });
  const toLast = new sfn.Pass(scope, 'Skip To Last Step', { parameters: { 'index.$': `${PROMOTED_FULL}.lastIndex` }, resultPath: '$.cursor' });
  promoted.end.next(toLast).next(step.load);
  // Already at the last step: nothing to skip; the request is recorded (once only) and the bake goes on.
  const anyStepLeft = new sfn.Choice(scope, 'Steps Left To Skip?')
    .when(sfn.Condition.numberLessThanJsonPath('$.cursor.index', `${PROMOTED_FULL}.lastIndex`), promoted.start);

  // While baking: the flag names this execution. Back to the operator's choice afterwards: recorded, it now judges.
  bake.operatorChoice.when(sfn.Condition.and(operatorRequestFor(StateTable.PROMOTE_FULL_REQUESTED, '$.execution'), notPromoted), record);
  record.next(anyStepLeft.otherwise(bake.operatorChoice));

  // At a pause: `zdt promote --full` answers it with { full: true } ($.promotion, promotion.ts).
  const afterPause = recordPromotion('Record Promote Full At Pause');
  const afterPauseLeft = new sfn.Choice(scope, 'Steps Left After Pause?')
    .when(sfn.Condition.numberLessThanJsonPath('$.cursor.index', `${PROMOTED_FULL}.lastIndex`), promoted.start)
    .otherwise(next);
  afterPause.next(afterPauseLeft);
  const afterStep = new sfn.Choice(scope, 'Promoted Full At Pause?')
    .when(sfn.Condition.and(notPromoted, sfn.Condition.isPresent('$.promotion.full'), sfn.Condition.booleanEquals('$.promotion.full', true)), afterPause)
    .otherwise(next);
  return { afterStep };
}
