import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { DefinitionContext } from './context';
import { notify, NotifyStates } from './notify';
import { Rollback } from './rollback';
import { RolloutEvent } from '../../../lambda/shared/contracts';

/** The end of a baked step: enter at `baked`; after `completed.end` comes the next step. */
export interface Promotion {
  /** The step baked: pause when the step says so, else the step is completed. */
  readonly baked: sfn.Choice;
  /** The Paused event, then the wait for `zdt promote`. */
  readonly paused: NotifyStates;
  /** The Step Completed event. */
  readonly completed: NotifyStates;
}

/**
 * Pause and promote: a step with `pause` (or a judgement policy that pauses) sends the Paused event and waits for
 * `zdt promote` (the lock handler keeps the task token) up to pauseTimeout; no promotion in time, or an abort, rolls
 * back. Then the Step Completed event.
 */
export function promotionStates(ctx: DefinitionContext, rollback: Rollback): Promotion {
  const { scope, props } = ctx;
  const stepDetail = { ...ctx.colorsDetail, 'step.$': '$.cursor.step', 'weights.$': '$.shift.after' };
  // The last judgement's reasons: why the step completed (the evidence it cleared, or a step merged into the next
  // because the traffic is too low to judge it, lambda/judge/sequential-sizing.ts); and its last reason alone, as a
  // string (`reason`: the judge's conclusion, "Bake done ... the step completes." or "... merged into the next one"),
  // which a notification's input transformer can put in its text (an array inside a string template would not read).
  // A PASS always has reasons (lambda/judge/verdict.ts), so the index is never -1.
  const completed = notify(ctx, 'Step Completed', RolloutEvent.STEP_COMPLETED, {
    ...stepDetail,
    'reasons.$': '$.verdict.reasons',
    'reason.$': 'States.ArrayGetItem($.verdict.reasons, States.MathAdd(States.ArrayLength($.verdict.reasons), -1))',
  });
  const paused = notify(ctx, 'Paused', RolloutEvent.PAUSED, stepDetail);
  const waitForPromote = new tasks.LambdaInvoke(scope, 'Wait For Promote', {
    lambdaFunction: props.lockFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      'action': 'pause',
      'owner.$': '$.execution',
      'taskToken': sfn.JsonPath.taskToken,
      'step.$': '$.cursor.step.number',
    }),
    resultPath: '$.promotion',
    taskTimeout: sfn.Timeout.duration(props.pauseTimeout),
  });
  waitForPromote.addCatch(rollback.onAbort, { resultPath: '$.error' });
  paused.end.next(waitForPromote);
  waitForPromote.next(completed.start);

  const baked = new sfn.Choice(scope, 'Pause After Step?')
    .when(sfn.Condition.booleanEquals('$.cursor.step.pause', true), paused.start)
    .otherwise(completed.start);
  return { baked, paused, completed };
}
