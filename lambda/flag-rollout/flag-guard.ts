import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { eventBridge } from '../shared/clients';
import { clock } from '../shared/clock';
import { EVENT_SOURCE, MetricDimension, StateTable } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';
import { requireInteger, requireObject, requireString } from '../shared/validate';
import { EXECUTION_ENDED_TRIGGER, ExecutionEnded, GuardAttempt, GuardFailureReport, withGuardReport } from '../rollout/guard-report';
import { readStateItem, releaseLock } from '../rollout/lock';
import { awaitDeployment } from './appconfig-store';
import {
  FlagGuardConfig, FlagGuardResult, FlagRolloutErrorName, FlagRolloutEvent, FlagRolloutRecord, StartResult,
} from './flag-rollout-contract';
import { restoreFlag } from './flag-restore';

/**
 * The flag rollout's execution guard: the safety net for a GuardedFlagRollout execution that ended without cleaning
 * up after itself (StopExecution, the state machine's timeout, a failure its own Catch could not handle). Such an
 * execution still holds the flag's lock, and the flag may serve the treatment to a phase's share of users with
 * nobody judging it. The guard does what the state machine's rollback does, in the same order: the flag's
 * definition from before the rollout deployed (flag-restore.ts, the same code) and waited for; then the lock; then
 * the events (Rollback Triggered, Rolled Back, trigger `execution-ended`). An execution that released its lock is
 * left alone, so a second delivery of the same event is a no-op.
 *
 * What the flag was before the rollout comes from the lock's item, where the execution recorded it
 * (FlagRolloutRecord) before its first phase; without a record of this execution the flag was never changed by it
 * (it ended before its first phase), and only the lock is released.
 */

/**
 * The phase's deployment uses the rollout's immediate strategy (no growth, no bake): seconds. The guard waits for
 * it this long, polling every DEPLOYMENT_POLL_MS, within its 2-minute timeout; a deployment still running after
 * that fails the try, and the next try (Lambda's retries, then the retry queue) finds it done.
 */
const DEPLOYMENT_POLL_MS = 2_000;
const DEPLOYMENT_POLLS = 30;
const SOURCE = 'Flag rollout record';

/** The StartResult an execution recorded on the lock's item, when that execution is `owner`. */
function recordOf(config: FlagGuardConfig, item: Awaited<ReturnType<typeof readStateItem>>, owner: string): StartResult | undefined {
  if (item?.[FlagRolloutRecord.OWNER]?.S !== owner) return undefined;
  const originalFlag = item[FlagRolloutRecord.ORIGINAL_FLAG]?.S;
  if (originalFlag === undefined) return undefined;
  const fields = {
    originalFlag,
    baseVersion: Number(item[FlagRolloutRecord.BASE_VERSION]?.N),
    control: item[FlagRolloutRecord.CONTROL]?.S,
  };
  requireObject(JSON.parse(originalFlag), SOURCE, FlagRolloutRecord.ORIGINAL_FLAG);
  return {
    flagKey: config.flagRollout.flagKey,
    treatment: config.flagRollout.treatment,
    originalFlag,
    baseVersion: requireInteger(fields, 'baseVersion', { min: 1 }, SOURCE),
    control: requireString(fields, 'control', SOURCE),
  };
}

/** Waits for the restore's deployment: COMPLETE returns; still running after DEPLOYMENT_POLLS throws (retried). */
async function awaitRestore(config: FlagGuardConfig, deploymentNumber: number): Promise<void> {
  for (let poll = 1; ; poll++) {
    try {
      await awaitDeployment(config.flagRollout, deploymentNumber);
      return;
    } catch (err) {
      if ((err as Error).name !== FlagRolloutErrorName.DEPLOYMENT_IN_PROGRESS || poll >= DEPLOYMENT_POLLS) throw err;
    }
    await clock().sleep(DEPLOYMENT_POLL_MS);
  }
}

export async function guardEndedFlagRollout(config: FlagGuardConfig, ended: ExecutionEnded): Promise<FlagGuardResult> {
  const { lock } = config;
  const flagKey = config.flagRollout.flagKey;
  const item = await readStateItem(lock);
  const owner = item?.[StateTable.LOCK_OWNER]?.S;
  if (owner !== ended.executionArn) {
    const reason = owner === undefined ? 'the execution released its lock' : `the lock belongs to ${owner}`;
    log('info', 'flag guard: nothing to restore', { ...ended, flag: flagKey, reason });
    return { ...ended, action: 'none', reason };
  }
  const original = recordOf(config, item, ended.executionArn);
  // The flag first, deployed and read back (the same restore as the state machine's rollback); the lock after.
  const restored = original === undefined ? undefined : await restoreFlag(config.flagRollout, original);
  if (restored?.deploymentNumber !== undefined) await awaitRestore(config, restored.deploymentNumber);
  await releaseLock(lock, ended.executionArn);
  const reason = original === undefined
    ? `execution ended ${ended.status} while holding the flag's lock, before it changed the flag`
    : `execution ended ${ended.status} while holding the flag's lock: the flag is back to its definition before the rollout`;
  const detail = {
    service: config.service,
    flag: flagKey,
    execution: ended.executionArn,
    ...(original ? { treatment: original.treatment, control: original.control } : {}),
    trigger: { kind: EXECUTION_ENDED_TRIGGER, reason },
    flagChanged: restored?.changed ?? false,
  };
  await awsCall('PutEvents', () => eventBridge().send(new PutEventsCommand({
    Entries: [FlagRolloutEvent.ROLLBACK_TRIGGERED, FlagRolloutEvent.ROLLED_BACK].map((type) => ({
      Source: EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(detail), EventBusName: config.eventBusName,
    })),
  })));
  log('warn', 'flag guard: restored the flag after an execution ended holding its lock', { ...ended, flag: flagKey, restored });
  return { ...ended, action: 'restored', flagChanged: restored?.changed ?? false, versionNumber: restored?.versionNumber, reason };
}

/** The flag guard's report of a failed try: a "Flag Rollout Guard Failed" event and a GuardFailures datapoint (Service, Flag). */
function failureReport(config: FlagGuardConfig): GuardFailureReport {
  const flagKey = config.flagRollout.flagKey;
  return {
    eventBusName: config.eventBusName,
    detailType: FlagRolloutEvent.GUARD_FAILED,
    restores: `restore flag ${flagKey}`,
    risk: `Flag ${flagKey} may still serve ${config.flagRollout.treatment} to a share of users`,
    subject: { service: config.service, flag: flagKey },
    dimensions: [{ Name: MetricDimension.SERVICE, Value: config.service }, { Name: MetricDimension.FLAG, Value: flagKey }],
  };
}

/** Runs the guard; a failed try is reported at once (event + metric) and rethrown, so it is retried. */
export async function guardFlagRolloutWithReport(config: FlagGuardConfig, ended: ExecutionEnded, attempt: GuardAttempt): Promise<FlagGuardResult> {
  return withGuardReport(failureReport(config), ended, attempt, () => guardEndedFlagRollout(config, ended));
}
