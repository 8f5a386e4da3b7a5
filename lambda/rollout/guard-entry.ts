import { readConfig } from '../shared/config';
import { requireObject, requireString } from '../shared/validate';
import { SDK_RETRIES, withRetryPolicy } from '../shared/sdk-retries';
import { ExecutionEnded, GuardAttempt } from './guard-report';

/**
 * The way into an execution guard, shared by the traffic rollout's (guard-handler.ts) and the flag rollout's
 * (lambda/flag-rollout/flag-guard-handler.ts). Two ways in:
 * - the EventBridge rule on "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED) of the rollout state
 *   machine invokes it asynchronously; when it throws, Lambda retries it twice, then sends the invocation record to
 *   the on-failure destination, the guard's retry queue
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 * - the retry queue's event source mapping re-drives those records (batch size 1), a failed one coming back after
 *   the queue's visibility timeout, up to its maxReceiveCount, then to the dead-letter queue, which has an alarm
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
 * Each failed attempt sends the guard's failure event and a GuardFailures datapoint at once (guard-report.ts).
 */

const EVENT = 'Guard event';

function executionEnded(event: unknown, source: string): ExecutionEnded {
  const detail = requireObject(requireObject(event, source).detail, source, 'detail');
  return {
    executionArn: requireString(detail, 'executionArn', `${source} detail`),
    status: requireString(detail, 'status', `${source} detail`),
  };
}

/** SQS's partial batch response: the messages that failed go back to the queue (ReportBatchItemFailures). */
export interface GuardBatchResponse {
  readonly batchItemFailures: ReadonlyArray<{ readonly itemIdentifier: string }>;
}

/** One guard: its configuration's check, and what it does about one ended execution (reporting its own failures). */
export interface ExecutionGuard<C, R> {
  parseConfig(raw: unknown): C;
  guard(config: C, ended: ExecutionEnded, attempt: GuardAttempt): Promise<R>;
}

/**
 * The Lambda handler of `guard`. Invoked by EventBridge (asynchronously) or its retry queue: Lambda retries it only
 * minutes apart, so the SDK retries throttling (lambda/shared/sdk-retries.ts).
 */
export function guardHandler<C, R>(guard: ExecutionGuard<C, R>): (event: unknown) => Promise<R | GuardBatchResponse> {
  const handle = async (event: unknown): Promise<R | GuardBatchResponse> => {
    const config = guard.parseConfig(readConfig<unknown>());
    const records = (requireObject(event, EVENT) as { Records?: unknown }).Records;
    if (!Array.isArray(records)) return guard.guard(config, executionEnded(event, EVENT), { via: 'event' });
    const batchItemFailures: Array<{ itemIdentifier: string }> = [];
    for (const raw of records) {
      const record = requireObject(raw, `${EVENT} record`);
      const messageId = requireString(record, 'messageId', `${EVENT} record`);
      try {
        // The body is Lambda's invocation record: the original EventBridge event is its requestPayload.
        const body = JSON.parse(requireString(record, 'body', `${EVENT} record`)) as { requestPayload?: unknown };
        const receiveCount = Number((record.attributes as { ApproximateReceiveCount?: string } | undefined)?.ApproximateReceiveCount ?? NaN);
        await guard.guard(config, executionEnded(body.requestPayload, `${EVENT} record requestPayload`),
          { via: 'retry-queue', ...(Number.isFinite(receiveCount) ? { receiveCount } : {}) });
      } catch {
        batchItemFailures.push({ itemIdentifier: messageId });
      }
    }
    return { batchItemFailures };
  };
  return withRetryPolicy(SDK_RETRIES, handle);
}
