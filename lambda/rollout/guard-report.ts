import { Dimension, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { cloudWatch, eventBridge } from '../shared/clients';
import { clock } from '../shared/clock';
import { EVENT_SOURCE, GUARD_FAILURES_METRIC, METRIC_NAMESPACE } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';

/** `trigger.kind` of a guard's restore after a rollout execution ended holding the lock (traffic: guard.ts; flag: flag-guard.ts). */
export const EXECUTION_ENDED_TRIGGER = 'execution-ended';

/**
 * What every execution guard shares (the traffic rollout's, lambda/rollout/guard.ts, and the flag rollout's,
 * lambda/flag-rollout/flag-guard.ts): the execution that ended, which try this is, and the report of a failed try
 * — an event and a GuardFailures datapoint at once — before the error goes back to Lambda to be retried.
 */

/** An execution that ended without success (Step Functions "Execution Status Change": ABORTED, TIMED_OUT, FAILED). */
export interface ExecutionEnded {
  readonly executionArn: string;
  readonly status: string;
}

/** Which try of the guard this is, as far as the invocation knows. */
export interface GuardAttempt {
  /** How the guard was invoked: by the ExecutionEnded rule (Lambda retries it twice), or re-driven from its retry queue. */
  readonly via: 'event' | 'retry-queue';
  /** The retry queue's receive count of the message (each receive is one more try), when re-driven. */
  readonly receiveCount?: number;
}

/** How one guard reports a failed try. */
export interface GuardFailureReport {
  /** Event bus of the rollout's events (absent: the default bus). */
  readonly eventBusName?: string;
  /** detail-type of the failure event. */
  readonly detailType: string;
  /** What the guard restores, for the messages ("restore traffic"). */
  readonly restores: string;
  /** What stays wrong until a retry succeeds ("Traffic may be split"). */
  readonly risk: string;
  /** Fields that name the rollout in the event's detail (service, flag). */
  readonly subject: Record<string, string>;
  /** Dimensions of the GuardFailures datapoint (namespace METRIC_NAMESPACE). */
  readonly dimensions: Dimension[];
}

/**
 * Runs `guard`; when it fails, says so at once — the report's event and a GuardFailures datapoint — then rethrows, so
 * the invocation is retried (Lambda's retries, then the retry queue: lib/private/guard-retries.ts).
 */
export async function withGuardReport<T>(report: GuardFailureReport, ended: ExecutionEnded, attempt: GuardAttempt, guard: () => Promise<T>): Promise<T> {
  try {
    return await guard();
  } catch (err) {
    await reportGuardFailure(report, ended, attempt, err as Error);
    throw err;
  }
}

/** The event and the metric of a failed attempt; each best effort (logged if it fails too), the error is the caller's. */
async function reportGuardFailure(report: GuardFailureReport, ended: ExecutionEnded, attempt: GuardAttempt, err: Error): Promise<void> {
  log('error', `guard: could not ${report.restores} after an execution ended holding the lock; it will be retried`, {
    ...ended, ...attempt, error: err.name, message: err.message,
  });
  const detail = {
    ...report.subject,
    execution: ended.executionArn,
    status: ended.status,
    error: err.name,
    reason: `the guard could not ${report.restores} after the execution ended ${ended.status} while holding the lock: ${err.message}. ${report.risk} until a retry succeeds; it is retried.`,
    attempt,
  };
  try {
    await awsCall('PutEvents', () => eventBridge().send(new PutEventsCommand({
      Entries: [{ Source: EVENT_SOURCE, DetailType: report.detailType, Detail: JSON.stringify(detail), EventBusName: report.eventBusName }],
    })));
  } catch (e) {
    log('error', `guard: could not send the ${report.detailType} event`, { error: (e as Error).message });
  }
  try {
    await awsCall(`PutMetricData(${METRIC_NAMESPACE}/${GUARD_FAILURES_METRIC})`, () => cloudWatch().send(new PutMetricDataCommand({
      Namespace: METRIC_NAMESPACE,
      MetricData: [{
        MetricName: GUARD_FAILURES_METRIC,
        Dimensions: report.dimensions,
        Value: 1,
        Unit: StandardUnit.Count,
        Timestamp: new Date(clock().now()),
      }],
    })));
  } catch (e) {
    log('error', 'guard: could not publish the GuardFailures metric', { error: (e as Error).message });
  }
}
