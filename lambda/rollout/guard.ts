import { PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { cloudWatch, eventBridge } from '../shared/clients';
import { clock } from '../shared/clock';
import {
  EVENT_SOURCE, GUARD_FAILURES_METRIC, GuardConfig, GuardResult, METRIC_NAMESPACE, MetricDimension, RolloutEvent,
} from '../shared/contracts';
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

/** Which try of the guard this is, as far as the invocation knows. */
export interface GuardAttempt {
  /** How the guard was invoked: by the ExecutionEnded rule (Lambda retries it twice), or re-driven from its retry queue. */
  readonly via: 'event' | 'retry-queue';
  /** The retry queue's receive count of the message (each receive is one more try), when re-driven. */
  readonly receiveCount?: number;
}

/**
 * Runs the guard; when it fails, says so at once — a "Rollout Guard Failed" event and a GuardFailures datapoint —
 * then rethrows, so the invocation is retried (Lambda's retries, then the retry queue: lib/rollout/execution-guard.ts).
 * Until it succeeds, traffic may be split: the event and the metric are what an operator and an alarm see.
 */
export async function guardWithReport(config: GuardConfig, ended: ExecutionEnded, attempt: GuardAttempt): Promise<GuardResult> {
  try {
    return await guardEndedExecution(config, ended);
  } catch (err) {
    await reportGuardFailure(config, ended, attempt, err as Error);
    throw err;
  }
}

/** The event and the metric of a failed attempt; each best effort (logged if it fails too), the error is the caller's. */
async function reportGuardFailure(config: GuardConfig, ended: ExecutionEnded, attempt: GuardAttempt, err: Error): Promise<void> {
  const { lock } = config;
  log('error', 'guard: could not restore traffic after an execution ended holding the lock; it will be retried', {
    ...ended, ...attempt, error: err.name, message: err.message,
  });
  const detail = {
    service: lock.service,
    execution: ended.executionArn,
    status: ended.status,
    error: err.name,
    reason: `the guard could not restore traffic after the execution ended ${ended.status} while holding the lock: ${err.message}. Traffic may be split until a retry succeeds; it is retried.`,
    attempt,
  };
  try {
    await awsCall('PutEvents', () => eventBridge().send(new PutEventsCommand({
      Entries: [{ Source: EVENT_SOURCE, DetailType: RolloutEvent.GUARD_FAILED, Detail: JSON.stringify(detail), EventBusName: config.eventBusName }],
    })));
  } catch (e) {
    log('error', 'guard: could not send the Rollout Guard Failed event', { error: (e as Error).message });
  }
  try {
    await awsCall(`PutMetricData(${METRIC_NAMESPACE}/${GUARD_FAILURES_METRIC})`, () => cloudWatch().send(new PutMetricDataCommand({
      Namespace: METRIC_NAMESPACE,
      MetricData: [{
        MetricName: GUARD_FAILURES_METRIC,
        Dimensions: [{ Name: MetricDimension.SERVICE, Value: lock.service }],
        Value: 1,
        Unit: StandardUnit.Count,
        Timestamp: new Date(clock().now()),
      }],
    })));
  } catch (e) {
    log('error', 'guard: could not publish the GuardFailures metric', { error: (e as Error).message });
  }
}
