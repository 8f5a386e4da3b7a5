import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridge } from '../shared/clients';
import { EVENT_SOURCE, GuardConfig, GuardResult, RolloutEvent } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';
import { AlbRouter } from '../routing/alb-router';
import { readLock, releaseLock } from './lock';

/**
 * The execution guard: the safety net for an execution that ended without cleaning up after itself, because it
 * was stopped by hand (StopExecution), timed out, or failed in a way its own Catch could not handle. Such an
 * execution still holds the service's lock, and traffic may be split. The guard then does what the state
 * machine's rollback does, in the same order: 100% to the recorded live color, verified; then the lock; then the
 * event. An execution that released its lock (released, rolled back, refused) is left alone.
 */


export interface ExecutionEnded {
  readonly executionArn: string;
  readonly status: string;
}

export async function guardEndedExecution(config: GuardConfig, ended: ExecutionEnded): Promise<GuardResult> {
  const { lock } = config;
  const state = await readLock(lock);
  if (state.owner !== ended.executionArn) {
    const reason = state.owner === undefined ? 'the execution released its lock' : `the lock belongs to ${state.owner}`;
    log('info', 'guard: nothing to restore', { ...ended, reason });
    return { ...ended, action: 'none', reason };
  }
  const liveColor = state.recordedLiveColor;
  // Traffic first, verified (the router reads it back), exactly as the state machine's rollback.
  const restored = await new AlbRouter(config.router).rollback(liveColor);
  await releaseLock(lock, ended.executionArn);
  const reason = `execution ended ${ended.status} while holding the lock`;
  const detail = {
    service: lock.service,
    execution: ended.executionArn,
    stableColor: liveColor,
    trigger: { kind: 'execution-ended', reason },
    weights: restored.after,
  };
  await awsCall('PutEvents', () => eventBridge().send(new PutEventsCommand({
    Entries: [RolloutEvent.ROLLBACK_TRIGGERED, RolloutEvent.ROLLED_BACK].map((type) => ({
      Source: EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(detail), EventBusName: config.eventBusName,
    })),
  })));
  log('warn', 'guard: restored traffic after an execution ended holding the lock', { ...ended, liveColor, weights: restored.after });
  return { ...ended, action: 'restored', liveColor, weights: restored.after, reason };
}
