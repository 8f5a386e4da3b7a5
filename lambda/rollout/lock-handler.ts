import { LockAcquireResult } from '../shared/contracts';
import { readConfig } from '../shared/config';
import { acquireLock, LockPauseResult, pauseRollout } from './lock';
import { parseLockConfig, parseLockRequest } from './lock-request';

/** The rollout lock: acquire (one rollout at a time per service) / pause (store a task token). */
export async function handler(event: unknown): Promise<LockAcquireResult | LockPauseResult> {
  const config = parseLockConfig(readConfig<unknown>());
  const request = parseLockRequest(event);
  switch (request.action) {
    case 'acquire': return acquireLock(config, request.owner, request.ttlSeconds);
    case 'pause': return pauseRollout(config, request.owner, request.taskToken, request.step);
  }
}
