import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { errorRateTripped, judgeErrorParameters, judgeSuccessParameters } from '../judge-circuit-breaker';
import { DefinitionContext, READ_RETRY } from './context';
import { TrafficHooks } from './hooks';
import { Rollback } from './rollback';
import { abortRequestedForThisExecution, invoke, readAbortFlag, RETRYABLE } from './tasks';
import { ErrorName, StateTable } from '../../../lambda/shared/contracts';

/** The bake loop of a step: enter at `wait`; after `judged` comes the verdict. */
export interface Bake {
  /** Waits one judge interval, then the abort check and the judgement. */
  readonly wait: sfn.Wait;
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
  const wait = new sfn.Wait(scope, 'Bake', { time: sfn.WaitTime.secondsPath('$.plan.judgeIntervalSeconds') });
  // The operator's `zdt abort` sets a flag on the state item: checked before every judgement, so an abort
  // takes effect within one judge interval whatever the step is doing.
  const checkAbort = readAbortFlag(ctx, 'Check Abort', [StateTable.LOCK_OWNER]);
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
  wait.next(checkAbort).next(abortChoice.otherwise(judge));
  judge.next(resetErrors).next(judged);
  return { wait, judged, abortRequested };
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
