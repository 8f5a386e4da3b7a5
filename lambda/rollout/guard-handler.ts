import { readConfig } from '../shared/config';
import { CONFIG_ENV, GuardConfig, GuardResult } from '../shared/contracts';
import { requireObject, requireString } from '../shared/validate';
import { parseRouterConfig } from '../routing/router-request';
import { ExecutionEnded, guardWithReport } from './guard';
import { parseLockConfig } from './lock-request';
import { SDK_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

const EVENT = 'Guard event';
const CONFIG = `Guard ${CONFIG_ENV}`;

/** Validates the guard's configuration: the router's and the lock's, checked as theirs are. */
export function parseGuardConfig(raw: unknown): GuardConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  return {
    router: parseRouterConfig(obj.router),
    lock: parseLockConfig(obj.lock),
    eventBusName: obj.eventBusName === undefined ? undefined : requireString(obj, 'eventBusName', CONFIG),
  };
}

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

/**
 * Two ways in:
 * - the EventBridge rule on "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED) of the rollout state
 *   machine invokes it asynchronously; when it throws, Lambda retries it twice, then sends the invocation record to
 *   the on-failure destination, the guard's retry queue
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 * - the retry queue's event source mapping re-drives those records (batch size 1), a failed one coming back after
 *   the queue's visibility timeout, up to its maxReceiveCount, then to the dead-letter queue, which has an alarm
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
 * Each failed attempt sends a "Rollout Guard Failed" event and a GuardFailures datapoint at once.
 */
async function handle(event: unknown): Promise<GuardResult | GuardBatchResponse> {
  const config = parseGuardConfig(readConfig<unknown>());
  const records = (requireObject(event, EVENT) as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return guardWithReport(config, executionEnded(event, EVENT), { via: 'event' });
  const batchItemFailures: Array<{ itemIdentifier: string }> = [];
  for (const raw of records) {
    const record = requireObject(raw, `${EVENT} record`);
    const messageId = requireString(record, 'messageId', `${EVENT} record`);
    try {
      // The body is Lambda's invocation record: the original EventBridge event is its requestPayload.
      const body = JSON.parse(requireString(record, 'body', `${EVENT} record`)) as { requestPayload?: unknown };
      const receiveCount = Number((record.attributes as { ApproximateReceiveCount?: string } | undefined)?.ApproximateReceiveCount ?? NaN);
      await guardWithReport(config, executionEnded(body.requestPayload, `${EVENT} record requestPayload`),
        { via: 'retry-queue', ...(Number.isFinite(receiveCount) ? { receiveCount } : {}) });
    } catch {
      batchItemFailures.push({ itemIdentifier: messageId });
    }
  }
  return { batchItemFailures };
}

/** Invoked by EventBridge (asynchronously) or its retry queue: Lambda retries it only minutes apart, so the SDK retries throttling (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(SDK_RETRIES, handle);
