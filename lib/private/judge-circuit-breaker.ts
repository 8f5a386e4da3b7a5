import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RolloutPlan } from '../../lambda/shared/contracts';

/**
 * The judge's circuit breaker, as state-machine data ($.judge). It trips on either of:
 *
 * - `maxJudgeErrors` consecutive judge errors (the judge failing after its retries), and
 * - an error RATE: `maxJudgeErrorsInWindow` errors among the last `judgeErrorWindow` judgements, so a judge that
 *   fails 4 times in 5 (never 5 in a row) stops the rollout within a window instead of running it until the
 *   execution times out.
 *
 * Step Functions' JSONPath intrinsics have no array slicing or sum, so the window is kept as numbers: `count` is the
 * number of judgements so far, and `e1`..`eN` (N = maxJudgeErrorsInWindow) hold, for the N most recent errors
 * oldest first, the judgement count at which each leaves the window (its count + judgeErrorWindow); 0 for none yet.
 * An error shifts the slots and appends its own; the rate trips when the oldest of the last N errors is still in
 * the window (e1 > count). Every field is a number, so Pass states and Choice rules handle it
 * (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-math-operation).
 */

function slot(i: number): string {
  return `e${i}`;
}

function slots(plan: RolloutPlan): number[] {
  return Array.from({ length: plan.maxJudgeErrorsInWindow }, (_, i) => i + 1);
}

/** $.judge at the start of an execution. */
export function initialJudgeState(plan: RolloutPlan): Record<string, number> {
  return Object.fromEntries([['errors', 0], ['count', 0], ...slots(plan).map((i) => [slot(i), 0])]);
}

/** Parameters of the Pass after a judge error: one more error in a row, one more judgement, the error in the window. */
export function judgeErrorParameters(plan: RolloutPlan): Record<string, string> {
  const n = plan.maxJudgeErrorsInWindow;
  return {
    'errors.$': 'States.MathAdd($.judge.errors, 1)',
    'count.$': 'States.MathAdd($.judge.count, 1)',
    ...Object.fromEntries(slots(plan).slice(0, -1).map((i) => [`${slot(i)}.$`, `$.judge.${slot(i + 1)}`])),
    // This judgement's count is count + 1; the error leaves the window judgeErrorWindow judgements later.
    [`${slot(n)}.$`]: `States.MathAdd($.judge.count, ${plan.judgeErrorWindow + 1})`,
  };
}

/** Parameters of the Pass after a judgement that did not fail: no error in a row, one more judgement, the window kept. */
export function judgeSuccessParameters(plan: RolloutPlan): Record<string, unknown> {
  return {
    'errors': 0,
    'count.$': 'States.MathAdd($.judge.count, 1)',
    ...Object.fromEntries(slots(plan).map((i) => [`${slot(i)}.$`, `$.judge.${slot(i)}`])),
  };
}

/** True when the last maxJudgeErrorsInWindow errors all happened within the last judgeErrorWindow judgements. */
export function errorRateTripped(): sfn.Condition {
  return sfn.Condition.numberGreaterThanJsonPath(`$.judge.${slot(1)}`, '$.judge.count');
}

/** Why the rate tripped, for $.trigger.reason (an intrinsic: the last error's cause is only known at run time). */
export function errorRateReason(plan: RolloutPlan): string {
  return `States.Format('${plan.maxJudgeErrorsInWindow} judge errors in the last ${plan.judgeErrorWindow} judgements, last: {}', $.error.Cause)`;
}
