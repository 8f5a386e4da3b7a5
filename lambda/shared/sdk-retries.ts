import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who retries a failed AWS call: one layer, chosen on purpose for each handler by the caller that invokes it.
 *
 * Two layers multiply: an SDK client with its default 3 attempts under a Step Functions Retry of 7 attempts makes 21
 * calls, with the SDK's backoff (up to 20 s a wait) hidden inside each task attempt and its timeout, so under
 * throttling production reaches safety later than the state machine's own Retry says (and than the rehearsal shows,
 * whose fakes answer without the SDK's retry middleware). So:
 * - a handler invoked by a Step Functions task leaves retries to the task's Retry (its interval, backoff and jitter
 *   are in the definition, visible in the console and in the rehearsal): its SDK clients make one attempt;
 * - a handler nobody retries promptly keeps SDK retries, bounded and stated here: the guard (EventBridge invokes it
 *   asynchronously; Lambda retries a failed asynchronous invocation only twice, after about 1 and 2 minutes, see
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html) and the live-route custom
 *   resource (CloudFormation does not retry a failed custom resource: the stack update fails).
 *
 * The rehearsal replays the same policy: its fakes read the client's maxAttempts and repeat a call that fails with a
 * retryable error as the SDK's standard retry strategy would (test/lambda/retry-layers.test.ts).
 */
export interface SdkRetryPolicy {
  /** Name shown in logs and tests. */
  readonly name: string;
  /** The SDK client's maxAttempts (1 = no SDK retry). */
  readonly maxAttempts: number;
}

/** Handlers run by a Step Functions task: the task's Retry is the only retry layer. */
export const CALLER_RETRIES: SdkRetryPolicy = { name: 'caller-retries', maxAttempts: 1 };

/**
 * Handlers whose caller does not retry promptly (the guard, the live-route custom resource): the SDK's standard
 * retry strategy (exponential backoff with full jitter: base 500 ms for throttling, 100 ms for other transient
 * errors, at most 20 s a wait) with 4 attempts: at most 3.5 s of waiting under throttling, well inside the
 * functions' 30 s timeout even for a handler that makes several calls.
 */
export const SDK_RETRIES: SdkRetryPolicy = { name: 'sdk-retries', maxAttempts: 4 };

/** When no handler set a policy (a test calling a module directly): one attempt, as under a Step Functions task. */
export const DEFAULT_RETRY_POLICY = CALLER_RETRIES;

const current = new AsyncLocalStorage<SdkRetryPolicy>();

/**
 * Wraps a Lambda handler so that every SDK client it uses (lambda/shared/clients.ts) retries per `policy`.
 * An AsyncLocalStorage, not a module variable: the rehearsal runs every handler in one process.
 */
export function withRetryPolicy<A extends unknown[], R>(policy: SdkRetryPolicy, handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return (...args: A) => current.run(policy, () => handler(...args));
}

/** The policy of the handler running now. */
export function currentRetryPolicy(): SdkRetryPolicy {
  return current.getStore() ?? DEFAULT_RETRY_POLICY;
}

/** The SDK client configuration of a policy. */
export function sdkClientConfig(policy: SdkRetryPolicy): { maxAttempts: number; retryMode: 'standard' } {
  return { maxAttempts: policy.maxAttempts, retryMode: 'standard' };
}
