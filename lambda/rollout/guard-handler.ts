import { readConfig } from '../shared/config';
import { ErrorName, GuardConfig, GuardResult } from '../shared/contracts';
import { ZdtError } from '../shared/errors';
import { guardEndedExecution } from './guard';

/**
 * Target of the EventBridge rule on "Step Functions Execution Status Change" (ABORTED, TIMED_OUT, FAILED) of the
 * rollout state machine. EventBridge retries the invocation when it throws.
 */
export async function handler(event: { detail?: { executionArn?: unknown; status?: unknown } }): Promise<GuardResult> {
  const executionArn = event?.detail?.executionArn;
  const status = event?.detail?.status;
  if (typeof executionArn !== 'string' || typeof status !== 'string') {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `Guard event: "detail.executionArn" and "detail.status" must be strings; got ${JSON.stringify(event?.detail)}`);
  }
  return guardEndedExecution(readConfig<GuardConfig>(), { executionArn, status });
}
