import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  FLAG_VALIDATION_FAILED_TRIGGER, FlagPhase, FlagRolloutErrorName, FlagRolloutEvent, FlagRolloutEventType, FlagRolloutRecord,
} from '../../lambda/flag-rollout/flag-rollout-contract';
import { ErrorName, EVENT_SOURCE, StateTable } from '../../lambda/shared/contracts';
import { LAMBDA_SERVICE_ERRORS } from './lambda-errors';
import { abortRequestedFor, readAbortFlagTask, recordOnLockTask, releaseLockTask, StateLockItem } from './state-lock';

export interface FlagRolloutDefinitionProps {
  readonly service: string;
  readonly flagKey: string;
  readonly phases: readonly FlagPhase[];
  readonly handler: lambda.IFunction;
  readonly topic: sns.ITopic;
  readonly eventBus?: events.IEventBus;
  /** An INCONCLUSIVE phase passes (true) or rolls the flag back (false). */
  readonly proceedOnInconclusive: boolean;
  readonly pauseTimeout: Duration;
  /** The flag's lock: its table, its item's key, and the lock handler (lambda/rollout/lock-handler.ts). */
  readonly lock: { readonly table: dynamodb.ITable; readonly key: string; readonly fn: lambda.IFunction };
  /** How long after a phase's end its last judgement can come (metric delay + propagation), seconds. */
  readonly judgeLagSeconds: number;
}

const LAMBDA_TIMEOUT = Duration.minutes(1);
const RETRYABLE = 'ZdtRetryableError';
/** Transient faults of a task: AWS throttling / 5xx (the handler's ZdtRetryableError) and Lambda's own. */
const TRANSIENT = { errors: [RETRYABLE, ...LAMBDA_SERVICE_ERRORS], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 };
/**
 * AppConfig deploys one configuration at a time to an environment (StartDeployment answers ConflictException:
 * AppConfig API Reference, API_StartDeployment "Errors"): a phase waits for the deployment in progress, which with
 * AppConfig's own strategies lasts up to their duration plus bake (20 + 10 minutes for the predefined canary), so
 * up to about an hour of retries.
 */
const CONFLICT = { errors: [FlagRolloutErrorName.DEPLOYMENT_CONFLICT], interval: Duration.seconds(30), maxAttempts: 40, backoffRate: 1.1, maxDelay: Duration.minutes(5) };
/** The phase's own deployment uses an immediate strategy (no growth, no bake): seconds, polled for up to 5 minutes. */
const IN_PROGRESS = { errors: [FlagRolloutErrorName.DEPLOYMENT_IN_PROGRESS], interval: Duration.seconds(5), maxAttempts: 60, backoffRate: 1 };
const NOTIFY_RETRY = { errors: ['States.ALL'], interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };
/** The lock's transient faults: its own retryable error (a race between two takers) and Lambda's. */
const LOCK_RETRY = { errors: [RETRYABLE, ...LAMBDA_SERVICE_ERRORS], interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };

/** The longest a retry policy waits in all (each wait at most maxDelay), seconds. */
function retrySeconds(r: { interval: Duration; maxAttempts: number; backoffRate: number; maxDelay?: Duration }): number {
  let total = 0;
  for (let i = 0; i < r.maxAttempts; i++) total += Math.min(r.interval.toSeconds() * r.backoffRate ** i, r.maxDelay?.toSeconds() ?? Infinity);
  return Math.ceil(total);
}
/** One deployment of a document: AppConfig busy elsewhere (CONFLICT), then its own deployment (IN_PROGRESS), and the tasks. */
const DEPLOY_SECONDS = retrySeconds(CONFLICT) + retrySeconds(IN_PROGRESS) + 4 * LAMBDA_TIMEOUT.toSeconds();
const LEASE_SLACK_SECONDS = 30 * 60;

/**
 * The lease of the flag's lock through a phase, renewed when the phase starts: its deployment, its judgements (up to
 * its duration, one interval and the judge's lag past its end), its pause, and a rollback's deployment. A crashed
 * execution's lock is free again at most this long after its phase began.
 */
export function phaseLeaseSeconds(phase: FlagPhase, judgeLagSeconds: number, pauseTimeout: Duration): number {
  return DEPLOY_SECONDS + phase.durationSeconds + phase.intervalSeconds + judgeLagSeconds
    + (phase.pause ? pauseTimeout.toSeconds() : 0) + DEPLOY_SECONDS + LEASE_SLACK_SECONDS;
}

type RetryPolicy = typeof TRANSIENT | typeof CONFLICT | typeof IN_PROGRESS;

/** A task of the flag rollout's handler (lambda/flag-rollout/flag-rollout-handler.ts) with its retries. */
function flagTask(scope: Construct, handler: lambda.IFunction, id: string, payload: Record<string, unknown>, resultPath: string, ...retries: RetryPolicy[]): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: handler,
    payload: sfn.TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    resultPath,
    taskTimeout: sfn.Timeout.duration(LAMBDA_TIMEOUT),
  });
  for (const r of retries) task.addRetry({ ...r, jitterStrategy: sfn.JitterType.FULL });
  return task;
}

/**
 * The restore of a flag to its definition before its rollout: the handler's `rollback` with the rollout's StartResult
 * at `originalPath` (retried while AppConfig deploys something else), then its deployment waited for. The flag
 * rollout's own rollback, and a release plan's rollback of a flag whose rollout had completed.
 */
export function restoreFlagTasks(scope: Construct, handler: lambda.IFunction, ids: { readonly restore: string; readonly await: string },
  originalPath: string, resultPath: string): { readonly restore: tasks.LambdaInvoke; readonly await: tasks.LambdaInvoke } {
  const restore = flagTask(scope, handler, ids.restore, { 'action': 'rollback', 'original.$': originalPath }, resultPath, TRANSIENT, CONFLICT);
  const awaitRestore = flagTask(scope, handler, ids.await, { 'action': 'checkDeployment', 'deployment.$': resultPath }, `${resultPath}State`, TRANSIENT, IN_PROGRESS);
  restore.next(awaitRestore);
  return { restore, await: awaitRestore };
}

/**
 * The guarded flag rollout (GuardedFlagRollout): start (read the deployed flags, remember the flag) -> for each
 * phase: deploy the flag's document for the phase (retrying while AppConfig deploys something else) -> wait for the
 * deployment -> judge loop (wait -> judge the treatment against the control -> WAIT / PASS / FAIL / INCONCLUSIVE)
 * or hold -> optional pause (task token in the Paused event) -> Phase Completed -> ... -> Completed.
 * FAIL, an abort, a deployment AppConfig rolled back, or a step error after its retries -> rollback: the flag's
 * previous definition deployed and waited for, THEN the events, then a failed execution whose cause says why.
 *
 * One rollout at a time per flag: before anything is read the execution takes the flag's lock (the traffic rollout's
 * lock handler, with the flag's item as its key; a second execution is refused with ROLLOUT_IN_PROGRESS naming the
 * holder), renews its lease as each phase starts (phaseLeaseSeconds: a crashed execution's lock frees itself), and
 * releases it on every end: completed, refused, rolled back, rollback failed. `zdt abort` sets the abort flag on the
 * lock's item, read before each judgement. Before its first phase it records the flag's definition on the lock's
 * item (FlagRolloutRecord): an execution that ends holding the lock (StopExecution, a timeout) is undone from there by
 * the rollout's execution guard (lambda/flag-rollout/flag-guard.ts), which also frees the lock.
 *
 * State: the input, $.plan {phases, lockTable, lockKey, execution}, $.lock, $.start, $.cursor {index, phase},
 * $.deployment, $.bake, $.control, $.verdict, $.error, $.trigger, $.rollback.
 */
export function buildFlagRolloutDefinition(scope: Construct, props: FlagRolloutDefinitionProps): sfn.IChainable {
  const invoke = (id: string, payload: Record<string, unknown>, resultPath: string, ...retries: RetryPolicy[]) => flagTask(scope, props.handler, id, payload, resultPath, ...retries);
  const lockItem: StateLockItem = {
    table: props.lock.table, key: { [StateTable.PARTITION_KEY]: tasks.DynamoAttributeValue.fromString(props.lock.key) }, ownerPath: '$.plan.execution',
  };
  /** The lock handler's acquire for this execution (also a renewal: the holder takes it again with a new lease). */
  const takeLock = (id: string, ttl: Record<string, unknown>) => {
    const task = new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: props.lock.fn,
      payload: sfn.TaskInput.fromObject({ 'action': 'acquire', 'owner.$': '$.plan.execution', ...ttl }),
      payloadResponseOnly: true,
      resultPath: '$.lock',
      taskTimeout: sfn.Timeout.duration(LAMBDA_TIMEOUT),
    });
    task.addRetry({ ...LOCK_RETRY, jitterStrategy: sfn.JitterType.FULL });
    return task;
  };
  /** Releases this execution's lock, then `then` (also when the release fails: the error is kept in $.lockError). */
  const releaseThen = (id: string, then: sfn.State) => {
    const task = releaseLockTask(scope, id, lockItem);
    task.addCatch(then, { resultPath: '$.lockError' });
    task.next(then);
    return task;
  };
  const detail = {
    'service': props.service,
    'flag': props.flagKey,
    'execution.$': '$$.Execution.Id',
    'treatment.$': '$.start.treatment',
    'control.$': '$.start.control',
  };
  /** Event to EventBridge, then the SNS notification; a failure of either (after retries) does not stop the flow. */
  const notify = (id: string, type: FlagRolloutEventType, extra: Record<string, unknown>, also: FlagRolloutEventType[] = []) => {
    const done = new sfn.Pass(scope, `${id} Sent`);
    const ev = new tasks.EventBridgePutEvents(scope, `${id} Event`, {
      entries: [...also, type].map((t) => ({
        source: EVENT_SOURCE, detailType: t, detail: sfn.TaskInput.fromObject({ ...detail, ...extra }), eventBus: props.eventBus,
      })),
      resultPath: sfn.JsonPath.DISCARD,
    });
    ev.addRetry(NOTIFY_RETRY);
    const sms = new tasks.SnsPublish(scope, `${id} Notification`, {
      topic: props.topic,
      subject: `[cdk-zero-downtime] ${props.service} flag ${props.flagKey}: ${type}`.slice(0, 100),
      message: sfn.TaskInput.fromObject({ event: type, ...detail, ...extra }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    sms.addRetry(NOTIFY_RETRY);
    ev.addCatch(sms, { resultPath: '$.notifyError' });
    sms.addCatch(done, { resultPath: '$.notifyError' });
    return { start: ev, end: done, chain: sfn.Chain.start(ev).next(sms).next(done) };
  };

  // -- rollback ---------------------------------------------------------------------------------------------
  const { restore: rollback, await: awaitRollback } = restoreFlagTasks(scope, props.handler, { restore: 'Roll Back Flag', await: 'Await Rollback Deployment' }, '$.start', '$.rollback');
  const rolledBack = notify('Rolled Back', FlagRolloutEvent.ROLLED_BACK, { 'trigger.$': '$.trigger', 'phase.$': '$.cursor.phase' }, [FlagRolloutEvent.ROLLBACK_TRIGGERED]);
  awaitRollback.next(rolledBack.chain);
  rolledBack.chain.next(releaseThen('Release Lock After Rollback', new sfn.Fail(scope, 'Flag Rolled Back', {
    error: FlagRolloutErrorName.ROLLED_BACK,
    causePath: sfn.JsonPath.format(`Flag ${props.flagKey} rolled back to its definition before the rollout ({}): {}`,
      sfn.JsonPath.stringAt('$.trigger.kind'), sfn.JsonPath.stringAt('$.trigger.reason')),
  })));
  const rollbackFailed = notify('Rollback Failed', FlagRolloutEvent.ROLLBACK_FAILED,
    { 'trigger.$': '$.trigger', 'rollbackError.$': '$.rollbackError' }, [FlagRolloutEvent.ROLLBACK_TRIGGERED]);
  rollback.addCatch(rollbackFailed.start, { resultPath: '$.rollbackError' });
  awaitRollback.addCatch(rollbackFailed.start, { resultPath: '$.rollbackError' });
  rollbackFailed.chain.next(releaseThen('Release Lock After Rollback Failure', new sfn.Fail(scope, 'Flag Rollback Failed', {
    error: FlagRolloutErrorName.ROLLBACK_FAILED,
    causePath: sfn.JsonPath.format(`Could not deploy flag ${props.flagKey}'s previous definition ({}); it may still serve the treatment. Rollback was triggered by {}: {}`,
      sfn.JsonPath.stringAt('$.rollbackError.Cause'), sfn.JsonPath.stringAt('$.trigger.kind'), sfn.JsonPath.stringAt('$.trigger.reason')),
  })));
  const trigger = (id: string, kind: string, reason: Record<string, string>) =>
    new sfn.Pass(scope, id, { parameters: { kind, ...reason }, resultPath: '$.trigger' }).next(rollback);
  const onStepError = trigger('Step Failed', 'step-error', { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' });
  // AppConfig refused the phase's document: nothing of it was deployed; the flag goes back as it was before the rollout.
  const onValidationFailed = trigger('Validation Failed', FLAG_VALIDATION_FAILED_TRIGGER, { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' });
  const onJudgeFail = trigger('Regression Found', 'judge-fail', { 'reason.$': 'States.JsonToString($.verdict.reasons)' });
  // Built only under ROLLBACK: a state nothing reaches is refused by Step Functions (MISSING_TRANSITION_TARGET).
  const onInconclusive = () => trigger('Too Little Data', 'inconclusive', { 'reason.$': 'States.JsonToString($.verdict.reasons)' });
  const onAbort = trigger('Aborted', 'aborted', { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' });
  const onAbortRequested = trigger('Abort Requested', 'aborted', { 'error': ErrorName.ABORTED, 'reason.$': '$.control.item.abortReason.S' });

  // -- start ------------------------------------------------------------------------------------------------
  const phases = props.phases.map((p) => ({ ...p, leaseSeconds: phaseLeaseSeconds(p, props.judgeLagSeconds, props.pauseTimeout) }));
  const plan = new sfn.Pass(scope, 'Plan', {
    parameters: { phases, 'lockTable': props.lock.table.tableName, 'lockKey': props.lock.key, 'execution.$': '$$.Execution.Id' },
    resultPath: '$.plan',
  });
  const acquire = takeLock('Acquire Lock', { ttlSeconds: phases[0].leaseSeconds });
  // Another execution holds the flag: fail without touching the flag or the lock (the error names the holder).
  acquire.addCatch(new sfn.Fail(scope, 'Refused: Flag Locked', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), { resultPath: '$.error' });
  const start = invoke('Read Flag', { action: 'start' }, '$.start', TRANSIENT);
  const started = notify('Started', FlagRolloutEvent.STARTED, { 'phases.$': '$.plan.phases' });
  const first = new sfn.Pass(scope, 'First Phase', { parameters: { index: 0 }, resultPath: '$.cursor' });
  const load = new sfn.Pass(scope, 'Load Phase', {
    parameters: { 'index.$': '$.cursor.index', 'phase.$': 'States.ArrayGetItem($.plan.phases, $.cursor.index)' },
    resultPath: '$.cursor',
  });

  // -- one phase --------------------------------------------------------------------------------------------
  // The lease through this phase; lost to another execution (this one's expired): end without touching the flag.
  const renew = takeLock('Renew Lock', { 'ttlSeconds.$': '$.cursor.phase.leaseSeconds' });
  renew.addCatch(new sfn.Fail(scope, 'Lock Lost', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), { errors: [ErrorName.ROLLOUT_IN_PROGRESS], resultPath: '$.error' });
  const setPhase = invoke('Deploy Phase', { 'action': 'setPhase', 'phase.$': '$.cursor.phase' }, '$.deployment', TRANSIENT, CONFLICT);
  const awaitPhase = invoke('Await Phase Deployment', { 'action': 'checkDeployment', 'deployment.$': '$.deployment' }, '$.deploymentState', TRANSIENT, IN_PROGRESS);
  setPhase.addCatch(onValidationFailed, { errors: [FlagRolloutErrorName.VALIDATION_FAILED], resultPath: '$.error' });
  setPhase.addCatch(onStepError, { resultPath: '$.error' });
  awaitPhase.addCatch(onStepError, { resultPath: '$.error' });
  const bakeStart = new sfn.Pass(scope, 'Phase Deployed', { parameters: { 'startedAt.$': '$$.State.EnteredTime' }, resultPath: '$.bake' });
  const wait = new sfn.Wait(scope, 'Wait For Judgement', { time: sfn.WaitTime.secondsPath('$.cursor.phase.intervalSeconds') });
  // A phase held but not judged (a final hold) waits one judge interval at a time, reading the abort flag after each
  // (an abort is taken within an interval, as `zdt abort` says, not at the end of the hold); intervalSeconds >= 60.
  const holdStart = new sfn.Pass(scope, 'Hold Phase', { result: sfn.Result.fromObject({ elapsed: 0 }), resultPath: '$.hold' });
  const holdWait = new sfn.Wait(scope, 'Hold Interval', { time: sfn.WaitTime.secondsPath('$.cursor.phase.intervalSeconds') });
  const holdCheckAbort = readAbortFlagTask(scope, 'Check Abort While Held', lockItem);
  holdCheckAbort.addCatch(onStepError, { resultPath: '$.error' });
  const holdCount = new sfn.Pass(scope, 'Count Hold Interval', {
    parameters: { 'elapsed.$': 'States.MathAdd($.hold.elapsed, $.cursor.phase.intervalSeconds)' }, resultPath: '$.hold',
  });
  const checkAbort = readAbortFlagTask(scope, 'Check Abort', lockItem);
  const abortChoice = new sfn.Choice(scope, 'Abort Requested?').when(abortRequestedFor(lockItem.ownerPath), onAbortRequested);
  const judge = invoke('Judge Phase', {
    'action': 'judge', 'phase.$': '$.cursor.phase', 'bake.$': '$.bake', 'start.$': '$.start',
  }, '$.verdict', TRANSIENT);
  judge.addCatch(onStepError, { resultPath: '$.error' });
  checkAbort.addCatch(onStepError, { resultPath: '$.error' });
  renew.addCatch(onStepError, { resultPath: '$.error' });
  const record = new sfn.Pass(scope, 'Record Judgement', { inputPath: '$.verdict.bake', resultPath: '$.bake' });

  const phaseCompleted = notify('Phase Completed', FlagRolloutEvent.PHASE_COMPLETED, { 'phase.$': '$.cursor.phase', 'evidence.$': '$.bake' });
  const paused = new tasks.EventBridgePutEvents(scope, 'Wait For Promote', {
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    entries: [{
      source: EVENT_SOURCE,
      detailType: FlagRolloutEvent.PAUSED,
      detail: sfn.TaskInput.fromObject({ ...detail, 'phase.$': '$.cursor.phase', 'taskToken': sfn.JsonPath.taskToken }),
      eventBus: props.eventBus,
    }],
    resultPath: '$.promotion',
    taskTimeout: sfn.Timeout.duration(props.pauseTimeout),
  });
  paused.addCatch(onAbort, { resultPath: '$.error' });
  const phasePassed = new sfn.Choice(scope, 'Pause After Phase?')
    .when(sfn.Condition.booleanEquals('$.cursor.phase.pause', true), paused.next(phaseCompleted.chain))
    .otherwise(phaseCompleted.start);

  const verdict = new sfn.Choice(scope, 'Verdict')
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'FAIL'), onJudgeFail)
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'PASS'), phasePassed)
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'INCONCLUSIVE'), props.proceedOnInconclusive ? phasePassed : onInconclusive())
    .otherwise(wait);
  wait.next(checkAbort).next(abortChoice);
  abortChoice.otherwise(judge);
  judge.next(record).next(verdict);
  holdStart.next(holdWait).next(holdCheckAbort).next(new sfn.Choice(scope, 'Abort Requested While Held?')
    .when(abortRequestedFor(lockItem.ownerPath), onAbortRequested)
    .otherwise(holdCount));
  holdCount.next(new sfn.Choice(scope, 'Hold Done?')
    .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.hold.elapsed', '$.cursor.phase.durationSeconds'), phasePassed)
    .otherwise(holdWait));
  const judged = new sfn.Choice(scope, 'Judge This Phase?')
    .when(sfn.Condition.booleanEquals('$.cursor.phase.judge', true), wait)
    .when(sfn.Condition.numberGreaterThan('$.cursor.phase.durationSeconds', 0), holdStart)
    .otherwise(phasePassed);

  const next = new sfn.Pass(scope, 'Next Phase', { parameters: { 'index.$': 'States.MathAdd($.cursor.index, 1)' }, resultPath: '$.cursor' });
  const completed = notify('Completed', FlagRolloutEvent.COMPLETED, {});
  completed.chain.next(new sfn.Succeed(scope, 'Flag Rolled Out'));
  const more = new sfn.Choice(scope, 'More Phases?')
    .when(sfn.Condition.numberLessThan('$.cursor.index', props.phases.length), load)
    .otherwise(releaseThen('Release Lock', completed.start));
  phaseCompleted.end.next(next).next(more);
  load.next(renew).next(setPhase).next(awaitPhase).next(bakeStart).next(judged);

  // Nothing has changed yet: a refusal (no such flag, a disabled flag, nothing to roll out) ends the execution as is.
  const refused = releaseThen('Release Lock After Refusal', new sfn.Fail(scope, 'Refused', { errorPath: '$.error.Error', causePath: '$.error.Cause' }));
  start.addCatch(refused, { resultPath: '$.error' });
  // What the flag was, on the lock's item, before anything changes it: the execution guard restores it from there if
  // this execution ends holding the lock (StopExecution, a timeout). Not recorded: the rollout does not start.
  const recordOriginal = recordOnLockTask(scope, 'Record Flag Before Rollout', lockItem, {
    [FlagRolloutRecord.OWNER]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(lockItem.ownerPath)),
    [FlagRolloutRecord.ORIGINAL_FLAG]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.start.originalFlag')),
    [FlagRolloutRecord.BASE_VERSION]: tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.jsonToString(sfn.JsonPath.numberAt('$.start.baseVersion'))),
    [FlagRolloutRecord.CONTROL]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.start.control')),
  });
  recordOriginal.addCatch(refused, { resultPath: '$.error' });
  return sfn.Chain.start(plan).next(acquire).next(start).next(recordOriginal).next(started.chain).next(first).next(load);
}
