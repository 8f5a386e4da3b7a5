import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sfnTasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { errorRateTripped, judgeErrorParameters, judgeSuccessParameters } from '../judge-circuit-breaker';
import { DefinitionContext, READ_RETRY } from './context';
import { TrafficHooks } from './hooks';
import { Rollback } from './rollback';
import { abortRequestedForThisExecution, invoke, readAbortFlag, RETRYABLE } from './tasks';
import { ErrorName, StateTable } from '../../../lambda/shared/contracts';

/** The bake loop of a step: enter at `wait`; after `judged` comes the verdict. */
export interface Bake {
  /** Waits one judge interval (or less: a high-resolution alarm of the new color), then the abort check and the judgement. */
  readonly wait: sfn.State;
  /** The judgement recorded in $.bake (and $.verdict): the verdict decides what follows. */
  readonly judged: sfn.Pass;
  /** Rolls back for an abort the operator requested (`zdt abort`). */
  readonly abortRequested: sfn.IChainable;
}

/**
 * The bake: wait one judge interval -> the operator's abort flag -> judge. A judge error (after its retries) is
 * counted by the circuit breaker (judge-circuit-breaker.ts), which rolls back after maxJudgeErrors in a row or too
 * many in the window, else waits and judges again.
 */
export function bakeStates(ctx: DefinitionContext, rollback: Rollback): Bake {
  const { scope, props, plan } = ctx;
  // The operator's `zdt abort` sets a flag on the state item: checked before every judgement, so an abort
  // takes effect within one judge interval whatever the step is doing.
  const checkAbort = readAbortFlag(ctx, 'Check Abort', [StateTable.LOCK_OWNER]);
  const wait = props.eventDrivenBake ? eventDrivenWait(ctx, rollback, checkAbort)
    : new sfn.Wait(scope, 'Bake', { time: sfn.WaitTime.secondsPath('$.plan.judgeIntervalSeconds') });
  const abortRequested = rollback.trigger('Abort Requested', 'aborted', {
    'error': ErrorName.ABORTED,
    'reason.$': "States.Format('aborted by the operator: {}', $.control.item.abortReason.S)",
  });
  const abortChoice = new sfn.Choice(scope, 'Abort Requested?').when(abortRequestedForThisExecution(), abortRequested);
  const judge = invoke(ctx, 'Judge', props.judgeFunction, {
    'action': 'judge',
    'targetColor.$': '$.colors.target',
    'stableColor.$': '$.colors.stable',
    'bake.$': '$.bake',
    // The step's weight: the sequential judge merges a step too small to decide into the next (sequential-sizing.ts).
    'percent.$': '$.cursor.step.percent',
    // A step with header segments serves more than its weight: it is never sized by its weight alone.
    'segments.$': '$.cursor.step.segments',
  }, '$.verdict', READ_RETRY, RETRYABLE);
  const countJudgeError = new sfn.Pass(scope, 'Count Judge Error', { parameters: judgeErrorParameters(plan), resultPath: '$.judge' });
  judge.addCatch(countJudgeError, { resultPath: '$.error' });
  countJudgeError.next(new sfn.Choice(scope, 'Circuit Breaker')
    .when(sfn.Condition.numberGreaterThanEquals('$.judge.errors', plan.maxJudgeErrors), rollback.onBreaker)
    .when(errorRateTripped(), rollback.onErrorRate)
    .otherwise(wait));
  // The judge returns the whole bake: passes, required, startedAt and the sequential judge's evidence of the step.
  const judged = new sfn.Pass(scope, 'Record Verdict', { inputPath: '$.verdict.bake', resultPath: '$.bake' });
  const resetErrors = new sfn.Pass(scope, 'Reset Judge Errors', { parameters: judgeSuccessParameters(plan), resultPath: '$.judge' });

  // A failed abort check must not stop the rollout: it is judged as usual.
  checkAbort.addCatch(judge, { resultPath: '$.controlError' });
  if (wait instanceof sfn.Wait) wait.next(checkAbort);
  checkAbort.next(abortChoice.otherwise(judge));
  judge.next(resetErrors).next(judged);
  return { wait, judged, abortRequested };
}

/**
 * The event-driven bake: the lock stores this task's token on the state item ('bake') and the task waits for it. Its
 * timeout, one judge interval, is the ordinary end of the bake ("judge now": on to the abort check and the judge).
 * A high-resolution alarm of the new color answers the token with HIGH_RESOLUTION_ALARM (release-alarm-handler.ts),
 * or the lock refuses to store it because one already fired in this rollout: the execution itself rolls back (one
 * writer of the weights), traffic first and verified. Should the lock fail (after Lambda's own retries), the bake
 * falls back to a plain wait, as without the signal.
 */
function eventDrivenWait(ctx: DefinitionContext, rollback: Rollback, judgeNow: sfn.IChainable): sfn.State {
  const { scope, props, plan } = ctx;
  const bake = new sfnTasks.LambdaInvoke(scope, 'Bake', {
    lambdaFunction: props.lockFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      'action': 'bake',
      'owner.$': '$.execution',
      'taskToken': sfn.JsonPath.taskToken,
      'color.$': '$.colors.target',
    }),
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(plan.judgeIntervalSeconds)),
    retryOnServiceExceptions: true,
  });
  const alarmFired = rollback.trigger('High-Resolution Alarm', 'high-resolution-alarm', {
    'error': ErrorName.HIGH_RESOLUTION_ALARM,
    'reason.$': '$.error.Cause',
  });
  const fallback = new sfn.Wait(scope, 'Bake Without Token', { time: sfn.WaitTime.secondsPath('$.plan.judgeIntervalSeconds') });
  fallback.next(judgeNow);
  bake.addCatch(alarmFired, { errors: [ErrorName.HIGH_RESOLUTION_ALARM], resultPath: '$.error' });
  bake.addCatch(judgeNow, { errors: ['States.Timeout'], resultPath: sfn.JsonPath.DISCARD });
  bake.addCatch(fallback, { errors: ['States.ALL'], resultPath: '$.bakeError' });
  bake.next(judgeNow);
  return bake;
}

/**
 * A phase's hooks, then `next`. After the hooks (which may run for minutes) an abort requested meanwhile rolls back
 * there, before the first shift or before the live color is recorded, instead of at the next judgement (or never,
 * after the last step). No hooks: `next` itself.
 */
export function hooksThenAbortCheck(ctx: DefinitionContext, hooks: TrafficHooks, label: string, abortRequested: sfn.IChainable,
  next: sfn.IChainable): sfn.IChainable {
  if (hooks.hooks === 0) return next;
  const read = readAbortFlag(ctx, `Check Abort After ${label} Hooks`);
  read.addCatch(next, { resultPath: '$.controlError' });
  return hooks.then(read.next(new sfn.Choice(ctx.scope, `Abort Requested After ${label} Hooks?`)
    .when(abortRequestedForThisExecution(), abortRequested)
    .otherwise(next)));
}
