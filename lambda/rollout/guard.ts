import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridge } from '../shared/clients';
import { EVENT_SOURCE, GuardConfig, GuardResult, MetricDimension, RolloutEvent } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';
import { AlbRouter } from '../routing/alb-router';
import { EXECUTION_ENDED_TRIGGER, ExecutionEnded, GuardAttempt, GuardFailureReport, withGuardReport } from './guard-report';
import { readLock, releaseLock } from './lock';

/**
 * The execution guard: the safety net for an execution that ended without cleaning up after itself, because it
 * was stopped by hand (StopExecution), timed out, or failed in a way its own Catch could not handle. Such an
 * execution still holds the service's lock, and traffic may be split. The guard then does what the state
 * machine's rollback does, in the same order: 100% to the recorded live color, verified; then the lock; then the
 * event. An execution that released its lock (released, rolled back, refused) is left alone.
 */

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
    trigger: { kind: EXECUTION_ENDED_TRIGGER, reason },
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

/** The traffic guard's report of a failed try: a "Rollout Guard Failed" event and a GuardFailures datapoint (Service). */
function failureReport(config: GuardConfig): GuardFailureReport {
  return {
    eventBusName: config.eventBusName,
    detailType: RolloutEvent.GUARD_FAILED,
    restores: 'restore traffic',
    risk: 'Traffic may be split',
    subject: { service: config.lock.service },
    dimensions: [{ Name: MetricDimension.SERVICE, Value: config.lock.service }],
  };
}

/**
 * Runs the guard; when it fails, says so at once — a "Rollout Guard Failed" event and a GuardFailures datapoint —
 * then rethrows, so the invocation is retried (Lambda's retries, then the retry queue: lib/private/guard-retries.ts).
 * Until it succeeds, traffic may be split: the event and the metric are what an operator and an alarm see.
 */
export async function guardWithReport(config: GuardConfig, ended: ExecutionEnded, attempt: GuardAttempt): Promise<GuardResult> {
  return withGuardReport(failureReport(config), ended, attempt, () => guardEndedExecution(config, ended));
}
