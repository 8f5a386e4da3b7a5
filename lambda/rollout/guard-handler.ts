import { readConfig } from '../shared/config';
import { CONFIG_ENV, GuardConfig, GuardResult } from '../shared/contracts';
import { requireObject, requireString } from '../shared/validate';
import { parseRouterConfig } from '../routing/router-request';
import { guardEndedExecution } from './guard';
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

/**
 * Target of the EventBridge rule on "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED) of the
 * rollout state machine. Lambda retries the (asynchronous) invocation when it throws.
 */
async function handle(event: unknown): Promise<GuardResult> {
  const detail = requireObject(requireObject(event, EVENT).detail, EVENT, 'detail');
  const executionArn = requireString(detail, 'executionArn', `${EVENT} detail`);
  const status = requireString(detail, 'status', `${EVENT} detail`);
  return guardEndedExecution(parseGuardConfig(readConfig<unknown>()), { executionArn, status });
}

/** Invoked by EventBridge, asynchronously: Lambda retries it only minutes apart, so the SDK retries throttling (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(SDK_RETRIES, handle);
