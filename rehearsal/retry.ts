import type { AslRetrier } from './asl';

/** Defaults of a Retry entry, from the Amazon States Language specification. */
export const RETRY_DEFAULTS = {
  intervalSeconds: 1,
  maxAttempts: 3,
  backoffRate: 2,
} as const;

/** Matches every error. */
export const STATES_ALL = 'States.ALL';
/** Matches every error of a Task state except States.Timeout. */
export const STATES_TASK_FAILED = 'States.TaskFailed';
/** The error of a Task that ran past its TimeoutSeconds. */
export const STATES_TIMEOUT = 'States.Timeout';

const MS_PER_SECOND = 1000;

/** Decides, like Step Functions, whether a failed Task attempt is retried and after how long. */
export class RetryPolicy {
  private readonly attempts: number[];

  /** @param random source of [0, 1) for JitterStrategy FULL (pass a seeded one for reproducible runs) */
  constructor(private readonly retriers: readonly AslRetrier[], private readonly random: () => number = Math.random) {
    this.attempts = retriers.map(() => 0);
  }

  /**
   * The delay before the next attempt, in ms, or undefined when the error is not retried: the first
   * retrier whose ErrorEquals matches decides; once its MaxAttempts are used up the error stands.
   * Each call that returns a delay counts one attempt of that retrier.
   */
  nextDelayMs(errorName: string): { readonly delayMs: number; readonly retrierIndex: number; readonly attempt: number } | undefined {
    const index = this.retriers.findIndex((r) => r.ErrorEquals.some((e) => matchesError(e, errorName)));
    if (index < 0) return undefined;
    const retrier = this.retriers[index];
    const maxAttempts = retrier.MaxAttempts ?? RETRY_DEFAULTS.maxAttempts;
    if (this.attempts[index] >= maxAttempts) return undefined;
    const interval = retrier.IntervalSeconds ?? RETRY_DEFAULTS.intervalSeconds;
    const backoff = retrier.BackoffRate ?? RETRY_DEFAULTS.backoffRate;
    let seconds = interval * Math.pow(backoff, this.attempts[index]);
    if (retrier.MaxDelaySeconds !== undefined) seconds = Math.min(seconds, retrier.MaxDelaySeconds);
    let delayMs = Math.round(seconds * MS_PER_SECOND);
    if (retrier.JitterStrategy === 'FULL') delayMs = Math.round(this.random() * delayMs);
    this.attempts[index] += 1;
    return { delayMs, retrierIndex: index, attempt: this.attempts[index] };
  }
}

/** Whether an ErrorEquals entry of a Task's Retry or Catch matches the error name. */
export function matchesError(errorEquals: string, errorName: string): boolean {
  if (errorEquals === STATES_ALL || errorEquals === errorName) return true;
  return errorEquals === STATES_TASK_FAILED && errorName !== STATES_TIMEOUT;
}
