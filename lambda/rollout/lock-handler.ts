import { LockAcquireResult } from '../shared/contracts';
import { readConfig } from '../shared/config';
import { acquireLock, LockPauseResult, pauseRollout } from './lock';
import { parseLockConfig, parseLockRequest } from './lock-request';
import { CALLER_RETRIES, withRetryPolicy } from '../shared/sdk-retries';

/** The rollout lock: acquire (one rollout at a time per service) / pause (store a paused step's task token). */
async function handle(event: unknown): Promise<LockAcquireResult | LockPauseResult> {
  const config = parseLockConfig(readConfig<unknown>());
  const request = parseLockRequest(event);
  switch (request.action) {
    case 'acquire': return acquireLock(config, request.owner, request.ttlSeconds);
    case 'pause': return pauseRollout(config, request.owner, request.taskToken, request.step);
  }
}

/** Invoked by a Step Functions task (its Retry is the retry layer) (lambda/shared/sdk-retries.ts). */
export const handler = withRetryPolicy(CALLER_RETRIES, handle);
