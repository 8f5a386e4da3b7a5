import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { LAMBDA_SERVICE_ERRORS } from './lambda-errors';
import { BaselineDegradedAction } from '../rollout/baseline-policy';
import { errorRateReason, errorRateTripped, initialJudgeState, judgeErrorParameters, judgeSuccessParameters } from './judge-circuit-breaker';
import type { GateTestBuild } from '../gates/validation-gate-binding';
import { TestBuildVariable } from '../../lambda/gates/gate-contract';
import {
  ErrorName, EVENT_SOURCE, METRIC_NAMESPACE, NOTIFICATION_FAILURES_METRIC, RolloutEvent, RolloutEventType, RolloutPlan, StateTable,
} from '../../lambda/shared/contracts';


/**
 * Retries of a routing write: throttling and read-back mismatches settle within seconds; 5 attempts with
 * backoff 2 from 2 s wait up to ~60 s in all.
 */
const SHIFT_RETRY = { interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2 };
/** The rollback tries longer than a forward step: it is the last thing between users and a bad release (~2 min). */
const ROLLBACK_RETRY = { interval: Duration.seconds(1), maxAttempts: 7, backoffRate: 2 };
/** Reads (describe, target health, alarms) retry a little; the judge's own errors feed the circuit breaker. */
const READ_RETRY = { interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };
/** Events and notifications retry, then the rollout goes on: a lost notification must not block a rollback. */
const NOTIFY_RETRY = { interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };
const LAMBDA_TIMEOUT = Duration.minutes(2);
/** Inconclusive judgements counted as healthy under onInconclusive PROCEED (set by Plan, counted in the bake). */
const INCONCLUSIVE_COUNT = '$.inconclusive.count';
/** Steps whose bake ended on an inconclusive judgement counted as healthy (PROCEED). */
const UNJUDGED_STEPS = '$.inconclusive.steps';

export interface RolloutDefinitionProps {
  readonly plan: RolloutPlan;
  readonly routerFunction: lambda.IFunction;
  readonly judgeFunction: lambda.IFunction;
  readonly lockFunction: lambda.IFunction;
  readonly stateTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
  readonly eventBus?: events.IEventBus;
  readonly pauseTimeout: Duration;
  readonly minHealthyTargetsPercent: number;
  /** Run in order before any traffic moves, after the Started event. */
  readonly preTrafficHooks: readonly lambda.IFunction[];
  /** Run in order once the last step has given the new color its share, before the live color is recorded. */
  readonly postTrafficHooks: readonly lambda.IFunction[];
  /** Longest run of one hook. */
  readonly hookTimeout: Duration;
  /** BlueGreenRouting's test-route header, handed to the hooks. */
  readonly testRouteHeader?: string;
  /** What a BASELINE_DEGRADED verdict (the stable color degraded for longer than the hold) does. */
  readonly onBaselineDegraded: BaselineDegradedAction;
  /** Builds to run before some hooks (a functional-test gate's suite), by hook function. */
  readonly hookBuilds?: ReadonlyMap<lambda.IFunction, GateTestBuild>;
}

/** Lambda's own faults retried for a hook; the hook's errors are its verdict and are not retried. */
const HOOK_RETRY = { errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 };

/**
 * The rollout state machine (DESIGN.md): preflight (lock, live weights, colors, target health, alarms exist)
 * -> for each step: check targets -> shift + verify -> bake loop (wait -> judge -> PASS / WAIT / INCONCLUSIVE / FAIL)
 * -> optional pause -> ... -> record the live color and release the lock -> events.
 * Any FAIL, step error after retries, abort, or N consecutive judge errors -> rollback: 100% stable, verified,
 * THEN events, then the lock, then a failed execution whose cause says why.
 *
 * The execution state is one JSON document: $.input (caller), $.plan, $.execution, $.lock, $.route, $.colors,
 * $.cursor {index, step}, $.shift, $.bake, $.verdict, $.judge {errors, count, e1..eN: judge-circuit-breaker.ts}, $.error, $.trigger, $.rollback.
 */
export function buildRolloutDefinition(scope: Construct, props: RolloutDefinitionProps): sfn.IChainable {
  const { plan } = props;

  // -- building blocks ----------------------------------------------------------------------------------------
  const invoke = (id: string, fn: lambda.IFunction, payload: Record<string, unknown>, resultPath: string,
    retry: { interval: Duration; maxAttempts: number; backoffRate: number }, retryOn: string[]) => {
    const task = new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: sfn.Timeout.duration(LAMBDA_TIMEOUT),
    });
    task.addRetry({ errors: retryOn, ...retry, jitterStrategy: sfn.JitterType.FULL });
    return task;
  };
  const retryable = [ErrorName.RETRYABLE];
  const colorsDetail = {
    'service': plan.service,
    'execution.$': '$.execution',
    'input.$': '$.input',
    'targetColor.$': '$.colors.target',
    'stableColor.$': '$.colors.stable',
  };
  const putEvents = (id: string, entries: Array<{ type: RolloutEventType; detail: Record<string, unknown> }>) => {
    const task = new tasks.EventBridgePutEvents(scope, id, {
      entries: entries.map((e) => ({
        source: EVENT_SOURCE,
        detailType: e.type,
        detail: sfn.TaskInput.fromObject(e.detail),
        eventBus: props.eventBus,
      })),
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry({ errors: ['States.ALL'], ...NOTIFY_RETRY });
    return task;
  };
  const publish = (id: string, type: RolloutEventType, detail: Record<string, unknown>) => {
    const task = new tasks.SnsPublish(scope, id, {
      topic: props.topic,
      subject: `[cdk-zero-downtime] ${plan.service}: ${type}`.slice(0, 100),
      message: sfn.TaskInput.fromObject({ event: type, ...detail }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry({ errors: ['States.ALL'], ...NOTIFY_RETRY });
    return task;
  };
  /**
   * Event to EventBridge, then the SNS notification. A failure of either (after its retries) does not stop the
   * rollout, a rollback least of all, but it is not silent: it is kept in $.notifyError and counted as the
   * NotificationFailures metric (dimension Service), which ProgressiveRollout.metricNotificationFailures() alarms on.
   */
  const notify = (id: string, type: RolloutEventType, detail: Record<string, unknown>, extra: RolloutEventType[] = []) => {
    const done = new sfn.Pass(scope, `${id} Sent`);
    const ev = putEvents(`${id} Event`, [...extra.map((t) => ({ type: t, detail })), { type, detail }]);
    const sms = publish(`${id} Notification`, type, detail);
    const eventFailed = countMetric(`${id} Event Failed`, NOTIFICATION_FAILURES_METRIC);
    const smsFailed = countMetric(`${id} Notification Failed`, NOTIFICATION_FAILURES_METRIC);
    // Counting the failure may fail too (CloudWatch down): then the error stays in $.metricError and the flow goes on.
    eventFailed.addCatch(sms, { resultPath: '$.metricError' });
    smsFailed.addCatch(done, { resultPath: '$.metricError' });
    ev.addCatch(eventFailed, { resultPath: '$.notifyError' });
    eventFailed.next(sms);
    sms.addCatch(smsFailed, { resultPath: '$.notifyError' });
    smsFailed.next(done);
    return { start: ev, chain: sfn.Chain.start(ev).next(sms).next(done), end: done };
  };
  const key = { [StateTable.PARTITION_KEY]: tasks.DynamoAttributeValue.fromString(plan.service) };
  const lockNames = {
    '#owner': StateTable.LOCK_OWNER,
    '#expires': StateTable.LOCK_EXPIRES_AT,
    '#token': StateTable.PAUSE_TOKEN,
    '#paused': StateTable.PAUSED_STEP,
    '#updated': StateTable.UPDATED_AT,
    '#abort': StateTable.ABORT_REQUESTED,
    '#abortReason': StateTable.ABORT_REASON,
  };
  const releaseLock = (id: string, setLive: boolean) => {
    const task = new tasks.DynamoUpdateItem(scope, id, {
      table: props.stateTable,
      key,
      conditionExpression: '#owner = :owner',
      updateExpression: `SET #updated = :now${setLive ? ', #live = :live' : ''} REMOVE #owner, #expires, #token, #paused, #abort, #abortReason`,
      expressionAttributeNames: setLive ? { ...lockNames, '#live': StateTable.LIVE_COLOR } : lockNames,
      expressionAttributeValues: {
        ':owner': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.execution')),
        ':now': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
        ...(setLive ? { ':live': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.colors.target')) } : {}),
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry({ errors: ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.RequestLimitExceeded', 'DynamoDB.InternalServerErrorException', 'DynamoDB.ThrottlingException'], ...READ_RETRY });
    return task;
  };
  const countMetric = (id: string, metricName: string) => {
    const task = new tasks.CallAwsService(scope, id, {
      service: 'cloudwatch',
      action: 'putMetricData',
      parameters: {
        Namespace: METRIC_NAMESPACE,
        MetricData: [{ MetricName: metricName, Dimensions: [{ Name: 'Service', Value: plan.service }], Value: 1, Unit: 'Count' }],
      },
      iamResources: ['*'],
      iamAction: 'cloudwatch:PutMetricData',
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry({ errors: ['States.ALL'], ...NOTIFY_RETRY });
    return task;
  };

  // -- rollback -----------------------------------------------------------------------------------------------
  const rollback = invoke('Rollback', props.routerFunction,
    { 'action': 'rollback', 'stableColor.$': '$.colors.stable' }, '$.rollback',
    ROLLBACK_RETRY, [ErrorName.RETRYABLE, ErrorName.WEIGHT_VERIFICATION_FAILED, 'Lambda.TooManyRequestsException', 'States.Timeout', 'States.TaskFailed']);
  const rollbackDetail = { ...colorsDetail, 'trigger.$': '$.trigger', 'weights.$': '$.rollback.after' };
  const rolledBack = notify('Rolled Back', RolloutEvent.ROLLED_BACK, rollbackDetail, [RolloutEvent.ROLLBACK_TRIGGERED]);
  rollback.next(rolledBack.start);
  const countRollback = countMetric('Count Rollback', 'Rollbacks');
  const releaseAfterRollback = releaseLock('Release Lock After Rollback', false);
  releaseAfterRollback.addCatch(countRollback, { resultPath: '$.lockError' });
  rolledBack.end.next(releaseAfterRollback).next(countRollback);
  countRollback.next(new sfn.Fail(scope, 'Rolled Back', {
    error: ErrorName.ROLLED_BACK,
    causePath: sfn.JsonPath.format('Rolled back to {} ({}): {}', sfn.JsonPath.stringAt('$.colors.stable'),
      sfn.JsonPath.stringAt('$.trigger.kind'), sfn.JsonPath.stringAt('$.trigger.reason')),
  }));

  const rollbackFailed = notify('Rollback Failed', RolloutEvent.ROLLBACK_FAILED,
    { ...colorsDetail, 'trigger.$': '$.trigger', 'rollbackError.$': '$.rollbackError' }, [RolloutEvent.ROLLBACK_TRIGGERED]);
  rollback.addCatch(rollbackFailed.start, { resultPath: '$.rollbackError' });
  rollbackFailed.end
    .next(countMetric('Count Rollback Failure', 'RollbackFailures'))
    .next(new sfn.Fail(scope, 'Rollback Failed', {
      error: ErrorName.ROLLBACK_FAILED,
      causePath: sfn.JsonPath.format('Could not restore 100% to {} after retries ({}); traffic may still be split: check the listener. Rollback was triggered by {}: {}',
        sfn.JsonPath.stringAt('$.colors.stable'), sfn.JsonPath.stringAt('$.rollbackError.Cause'),
        sfn.JsonPath.stringAt('$.trigger.kind'), sfn.JsonPath.stringAt('$.trigger.reason')),
    }));

  /** A Pass that records why the rollout rolls back, then the rollback. */
  const trigger = (id: string, kind: string, reason: Record<string, string>) =>
    new sfn.Pass(scope, id, { parameters: { kind, ...reason }, resultPath: '$.trigger' }).next(rollback);
  const onStepError = trigger('Step Failed', 'step-error', { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' });
  const onJudgeFail = trigger('Regression Found', 'judge-fail', { 'reason.$': 'States.JsonToString($.verdict.reasons)' });
  const onBreaker = trigger('Circuit Breaker Open', 'circuit-breaker', {
    'error.$': '$.error.Error',
    'reason.$': "States.Format('{} consecutive judge errors, last: {}', $.judge.errors, $.error.Cause)",
  });
  const onErrorRate = trigger('Judge Error Rate Too High', 'circuit-breaker', { 'error.$': '$.error.Error', 'reason.$': errorRateReason(plan) });
  const onAbort = trigger('Aborted', 'aborted', { 'error.$': '$.error.Error', 'reason.$': '$.error.Cause' });

  /**
   * The hooks of a phase in order: each invoked with a TrafficHookEvent; an error, a timeout or a result whose status
   * is not 'Succeeded' rolls the rollout back (before any traffic moved, the rollback only verifies 100% stable).
   * Returns the first state and a function to chain what follows the last hook.
   */
  const hookChain = (phase: 'preTraffic' | 'postTraffic', label: string, fns: readonly lambda.IFunction[]) => {
    // No hooks, no states: a trigger nothing reaches would make the definition invalid.
    if (fns.length === 0) return { hooks: 0, then: (next: sfn.IChainable): sfn.IChainable => next };
    // Which hook ($.hookRun.number, set before each) and, a timeout's Cause being possibly empty, the error's name.
    const name = label.toLowerCase();
    const failed = trigger(`${label} Hook Failed`, 'hook-failed', {
      'error.$': '$.error.Error',
      'reason.$': `States.Format('${name} hook {} failed ({}): {}', $.hookRun.number, $.error.Error, $.error.Cause)`,
    });
    // The hook's own reason when it gave one (TrafficHookResult.reason), else what it returned.
    const refusedWithReason = trigger(`${label} Hook Refused With Reason`, 'hook-failed', {
      'reason.$': `States.Format('${name} hook {} did not succeed: {}', $.hookRun.number, $.hook.reason)`,
    });
    const refused = trigger(`${label} Hook Refused`, 'hook-failed', {
      'reason.$': `States.Format('${name} hook {} did not succeed, it returned {} (expected {"status":"Succeeded"})', $.hookRun.number, States.JsonToString($.hook))`,
    });
    /**
     * A functional-test gate's build before its hook: codebuild:startBuild.sync with the new color's address (a failed
     * or timed-out build goes to the hook with its error in $.testRun), then the build's reports (batchGetReports),
     * which the hook judges. Both are native integrations: the build may run far longer than a Lambda function.
     */
    const testBuildStates = (name: string, build: GateTestBuild, hook: sfn.IChainable): sfn.IChainable => {
      const plain = (value: string) => ({ type: codebuild.BuildEnvironmentVariableType.PLAINTEXT, value });
      const start = new tasks.CodeBuildStartBuild(scope, `${name} Test Build`, {
        project: build.project,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        environmentVariablesOverride: {
          [TestBuildVariable.BASE_URL]: plain(build.baseUrl),
          [TestBuildVariable.TEST_ROUTE_HEADER]: plain(props.testRouteHeader ?? ''),
          [TestBuildVariable.TEST_ROUTE_VALUE]: plain(sfn.JsonPath.stringAt('$.colors.target')),
          [TestBuildVariable.TARGET_COLOR]: plain(sfn.JsonPath.stringAt('$.colors.target')),
          [TestBuildVariable.STABLE_COLOR]: plain(sfn.JsonPath.stringAt('$.colors.stable')),
          [TestBuildVariable.SERVICE]: plain(plan.service),
          [TestBuildVariable.EXECUTION]: plain(sfn.JsonPath.stringAt('$.execution')),
        },
        resultSelector: { 'build.$': '$.Build' },
        resultPath: '$.testRun',
        taskTimeout: sfn.Timeout.duration(build.timeout),
      });
      start.addCatch(hook, { resultPath: '$.testRun' });
      const reports = new tasks.CallAwsService(scope, `${name} Test Reports`, {
        service: 'codebuild',
        action: 'batchGetReports',
        parameters: { 'ReportArns.$': '$.testRun.build.ReportArns' },
        iamResources: [build.reportGroup.reportGroupArn],
        iamAction: 'codebuild:BatchGetReports',
        resultPath: '$.testRun.reports',
      });
      reports.addRetry({ errors: ['CodeBuild.ThrottlingException', 'CodeBuild.CodeBuildException'], ...READ_RETRY });
      reports.addCatch(hook, { resultPath: '$.testRun.reportsError' });
      reports.next(hook);
      return start.next(new sfn.Choice(scope, `${name} Test Reports Written?`)
        .when(sfn.Condition.isPresent('$.testRun.build.ReportArns[0]'), reports)
        .otherwise(hook));
    };
    const states = fns.map((fn, i) => {
      const begins = new sfn.Pass(scope, `${label} Hook ${i + 1} Begins`, { result: sfn.Result.fromObject({ number: i + 1 }), resultPath: '$.hookRun' });
      const task = new tasks.LambdaInvoke(scope, `${label} Hook ${i + 1}`, {
        lambdaFunction: fn,
        payload: sfn.TaskInput.fromObject({
          'hook': phase,
          'service': plan.service,
          'execution.$': '$.execution',
          'targetColor.$': '$.colors.target',
          'stableColor.$': '$.colors.stable',
          ...(props.testRouteHeader ? { testRoute: { 'header': props.testRouteHeader, 'value.$': '$.colors.target' } } : {}),
          ...(props.hookBuilds?.has(fn) ? { 'testRun.$': '$.testRun' } : {}),
        }),
        payloadResponseOnly: true,
        resultPath: '$.hook',
        taskTimeout: sfn.Timeout.duration(props.hookTimeout),
        retryOnServiceExceptions: false,
      });
      task.addRetry({ ...HOOK_RETRY, jitterStrategy: sfn.JitterType.FULL });
      task.addCatch(failed, { resultPath: '$.error' });
      const ok = new sfn.Pass(scope, `${label} Hook ${i + 1} Passed`);
      const build = props.hookBuilds?.get(fn);
      begins.next(build ? testBuildStates(`${label} Hook ${i + 1}`, build, task) : task);
      task.next(new sfn.Choice(scope, `${label} Hook ${i + 1} Succeeded?`)
        .when(sfn.Condition.and(sfn.Condition.isPresent('$.hook.status'), sfn.Condition.stringEquals('$.hook.status', 'Succeeded')), ok)
        .when(sfn.Condition.and(sfn.Condition.isPresent('$.hook.reason'), sfn.Condition.isString('$.hook.reason')), refusedWithReason)
        .otherwise(refused));
      return { begins, ok };
    });
    return {
      hooks: states.length,
      then(next: sfn.IChainable): sfn.IChainable {
        states.forEach((s, i) => s.ok.next(i + 1 < states.length ? states[i + 1].begins : next));
        return states[0].begins;
      },
    };
  };
  const preTraffic = hookChain('preTraffic', 'Pre-Traffic', props.preTrafficHooks);
  const postTraffic = hookChain('postTraffic', 'Post-Traffic', props.postTrafficHooks);

  // -- refusal (preflight): traffic untouched; the lock released when this execution holds it ----------------
  const refused = new sfn.Fail(scope, 'Refused', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const refuseReleasingLock = releaseLock('Release Lock After Refusal', false);
  refuseReleasingLock.addCatch(refused, { resultPath: '$.lockError' });
  refuseReleasingLock.next(refused);
  const refuseWith = (id: string, error: string, cause: string) =>
    new sfn.Pass(scope, id, { parameters: { 'Error': error, 'Cause.$': cause }, resultPath: '$.error' }).next(refuseReleasingLock);

  // -- preflight ----------------------------------------------------------------------------------------------
  const start = new sfn.Pass(scope, 'Plan', {
    parameters: {
      'input.$': '$', plan, 'stateTable': props.stateTable.tableName, 'execution.$': '$$.Execution.Id', 'judge': initialJudgeState(plan),
      ...(plan.onInconclusive === 'PROCEED' ? { inconclusive: { count: 0, steps: 0 } } : {}),
    },
  });
  const acquire = invoke('Acquire Lock', props.lockFunction,
    { 'action': 'acquire', 'owner.$': '$.execution', 'ttlSeconds': plan.lockTtlSeconds }, '$.lock', READ_RETRY, retryable);
  // Not our lock: fail without touching it.
  acquire.addCatch(new sfn.Fail(scope, 'Refused: Lock Not Acquired', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), { resultPath: '$.error' });
  const describe = invoke('Read Live Weights', props.routerFunction, { action: 'describe' }, '$.route', READ_RETRY, retryable);
  describe.addCatch(refuseReleasingLock, { resultPath: '$.error' });

  const colors = (id: string, target: string, stable: string) =>
    new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ target, stable }), resultPath: '$.colors' });
  const toGreen = colors('Release Green', 'green', 'blue');
  const toBlue = colors('Release Blue', 'blue', 'green');
  const hasInput = sfn.Condition.isPresent('$.input.targetColor');
  const liveIs = (c: string) => sfn.Condition.and(sfn.Condition.isString('$.route.liveColor'), sfn.Condition.stringEquals('$.route.liveColor', c));
  const chooseColors = new sfn.Choice(scope, 'Choose Colors')
    .when(sfn.Condition.and(hasInput, sfn.Condition.stringEquals('$.input.targetColor', 'green')), toGreen)
    .when(sfn.Condition.and(hasInput, sfn.Condition.stringEquals('$.input.targetColor', 'blue')), toBlue)
    .when(hasInput, refuseWith('Invalid Target Color', ErrorName.INVALID_REQUEST,
      "States.Format('input.targetColor must be \"blue\" or \"green\", got {}', States.JsonToString($.input.targetColor))"))
    .when(liveIs('blue'), toGreen)
    .when(liveIs('green'), toBlue)
    .when(sfn.Condition.stringEquals('$.lock.recordedLiveColor', 'blue'), toGreen)
    .otherwise(toBlue);

  const alreadyLive = new sfn.Choice(scope, 'Target Already Live?')
    .when(sfn.Condition.and(sfn.Condition.isString('$.route.liveColor'), sfn.Condition.stringEqualsJsonPath('$.route.liveColor', '$.colors.target')),
      refuseWith('Already Live', ErrorName.ALREADY_LIVE,
        "States.Format('{} already carries 100% of production traffic: deploy the new release to the other color, or pass input.targetColor', $.colors.target)"));
  const checkTargets = (id: string) => invoke(id, props.routerFunction,
    { 'action': 'checkTargets', 'color.$': '$.colors.target', 'minHealthyPercent': props.minHealthyTargetsPercent }, sfn.JsonPath.DISCARD, READ_RETRY, retryable);
  const preflightTargets = checkTargets('Check New Color Targets');
  preflightTargets.addCatch(refuseReleasingLock, { resultPath: '$.error' });
  const checkAlarms = invoke('Check Alarms Exist', props.judgeFunction,
    { 'action': 'checkAlarms', 'targetColor.$': '$.colors.target' }, sfn.JsonPath.DISCARD, READ_RETRY, retryable);
  checkAlarms.addCatch(refuseReleasingLock, { resultPath: '$.error' });
  const started = notify('Started', RolloutEvent.STARTED, { ...colorsDetail, 'weights.$': '$.route.weights', 'steps': plan.steps });

  toGreen.next(alreadyLive);
  toBlue.next(alreadyLive);
  alreadyLive.otherwise(preflightTargets);
  preflightTargets.next(checkAlarms).next(started.start);

  // -- steps --------------------------------------------------------------------------------------------------
  const firstStep = new sfn.Pass(scope, 'First Step', { result: sfn.Result.fromObject({ index: 0 }), resultPath: '$.cursor' });
  const loadStep = new sfn.Pass(scope, 'Load Step', {
    parameters: { 'index.$': '$.cursor.index', 'step.$': 'States.ArrayGetItem($.plan.steps, $.cursor.index)' },
    resultPath: '$.cursor',
  });
  const stepTargets = checkTargets('Check Targets Before Shift');
  stepTargets.addCatch(onStepError, { resultPath: '$.error' });
  const shift = invoke('Shift Traffic', props.routerFunction, {
    'action': 'shift',
    'targetColor.$': '$.colors.target',
    'percent.$': '$.cursor.step.percent',
    'segments.$': '$.cursor.step.segments',
  }, '$.shift', SHIFT_RETRY, [ErrorName.RETRYABLE, ErrorName.WEIGHT_VERIFICATION_FAILED]);
  shift.addCatch(onStepError, { resultPath: '$.error' });
  const startBake = new sfn.Pass(scope, 'Start Bake', {
    // The step's data begins with its shift: judgements that read data from before it do not count (judge.ts).
    parameters: { 'passes': 0, 'required.$': '$.cursor.step.bakeIntervals', 'startedAt.$': '$$.State.EnteredTime' },
    resultPath: '$.bake',
  });
  const bakeWait = new sfn.Wait(scope, 'Bake', { time: sfn.WaitTime.secondsPath('$.plan.judgeIntervalSeconds') });
  // The operator's `zdt abort` sets a flag on the state item: checked before every judgement, so an abort
  // takes effect within one judge interval whatever the step is doing.
  const checkAbort = new tasks.DynamoGetItem(scope, 'Check Abort', {
    table: props.stateTable,
    key,
    consistentRead: true,
    projectionExpression: [new tasks.DynamoProjectionExpression().withAttribute(StateTable.ABORT_REQUESTED),
      new tasks.DynamoProjectionExpression().withAttribute(StateTable.ABORT_REASON),
      new tasks.DynamoProjectionExpression().withAttribute(StateTable.LOCK_OWNER)],
    resultSelector: { 'item.$': '$.Item' },
    resultPath: '$.control',
  });
  checkAbort.addRetry({ errors: ['States.ALL'], ...READ_RETRY });
  const abortRequested = trigger('Abort Requested', 'aborted', {
    'error': ErrorName.ABORTED,
    'reason.$': "States.Format('aborted by the operator: {}', $.control.item.abortReason.S)",
  });
  const abortChoice = new sfn.Choice(scope, 'Abort Requested?')
    .when(sfn.Condition.and(
      sfn.Condition.isPresent('$.control.item.abortRequested.S'),
      sfn.Condition.stringEqualsJsonPath('$.control.item.abortRequested.S', '$.execution'),
    ), abortRequested);
  /**
   * After a phase's hooks (which may run for minutes): an abort requested meanwhile rolls back here, before the first
   * shift or before the live color is recorded, instead of at the next judgement (or never, after the last step).
   */
  const abortGate = (label: string, next: sfn.IChainable): sfn.IChainable => {
    const read = new tasks.DynamoGetItem(scope, `Check Abort After ${label} Hooks`, {
      table: props.stateTable,
      key,
      consistentRead: true,
      projectionExpression: [new tasks.DynamoProjectionExpression().withAttribute(StateTable.ABORT_REQUESTED),
        new tasks.DynamoProjectionExpression().withAttribute(StateTable.ABORT_REASON)],
      resultSelector: { 'item.$': '$.Item' },
      resultPath: '$.control',
    });
    read.addRetry({ errors: ['States.ALL'], ...READ_RETRY });
    read.addCatch(next, { resultPath: '$.controlError' });
    return read.next(new sfn.Choice(scope, `Abort Requested After ${label} Hooks?`)
      .when(sfn.Condition.and(
        sfn.Condition.isPresent('$.control.item.abortRequested.S'),
        sfn.Condition.stringEqualsJsonPath('$.control.item.abortRequested.S', '$.execution'),
      ), abortRequested)
      .otherwise(next));
  };
  const judge = invoke('Judge', props.judgeFunction, {
    'action': 'judge',
    'targetColor.$': '$.colors.target',
    'stableColor.$': '$.colors.stable',
    'bake.$': '$.bake',
  }, '$.verdict', READ_RETRY, retryable);
  const countJudgeError = new sfn.Pass(scope, 'Count Judge Error', { parameters: judgeErrorParameters(plan), resultPath: '$.judge' });
  judge.addCatch(countJudgeError, { resultPath: '$.error' });
  countJudgeError.next(new sfn.Choice(scope, 'Circuit Breaker')
    .when(sfn.Condition.numberGreaterThanEquals('$.judge.errors', plan.maxJudgeErrors), onBreaker)
    .when(errorRateTripped(), onErrorRate)
    .otherwise(bakeWait));
  // The judge returns the whole bake: passes, required, startedAt and the sequential judge's evidence of the step.
  const judged = new sfn.Pass(scope, 'Record Verdict', { inputPath: '$.verdict.bake', resultPath: '$.bake' });
  const resetErrors = new sfn.Pass(scope, 'Reset Judge Errors', { parameters: judgeSuccessParameters(plan), resultPath: '$.judge' });

  const stepDone = notify('Step Completed', RolloutEvent.STEP_COMPLETED, { ...colorsDetail, 'step.$': '$.cursor.step', 'weights.$': '$.shift.after' });
  const paused = notify('Paused', RolloutEvent.PAUSED, { ...colorsDetail, 'step.$': '$.cursor.step', 'weights.$': '$.shift.after' });
  const pauseGate = new tasks.LambdaInvoke(scope, 'Wait For Promote', {
    lambdaFunction: props.lockFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      'action': 'pause',
      'owner.$': '$.execution',
      'taskToken': sfn.JsonPath.taskToken,
      'step.$': '$.cursor.step.number',
    }),
    resultPath: '$.promotion',
    taskTimeout: sfn.Timeout.duration(props.pauseTimeout),
  });
  pauseGate.addCatch(onAbort, { resultPath: '$.error' });
  paused.end.next(pauseGate);
  pauseGate.next(stepDone.start);

  const stepBaked = new sfn.Choice(scope, 'Pause After Step?')
    .when(sfn.Condition.booleanEquals('$.cursor.step.pause', true), paused.start)
    .otherwise(stepDone.start);
  // Each policy builds only its own states: a state nothing reaches is refused by Step Functions
  // (MISSING_TRANSITION_TARGET), so the ROLLBACK trigger exists only under ROLLBACK.
  const inconclusiveBranch = (): sfn.IChainable => {
    switch (plan.onInconclusive) {
      case 'PROCEED': {
        const count = new sfn.Pass(scope, 'Count Inconclusive As Healthy', {
          parameters: { 'passes.$': 'States.MathAdd($.bake.passes, 1)', 'required.$': '$.bake.required', 'startedAt.$': '$.bake.startedAt' },
          resultPath: '$.bake',
        });
        // Counted for the Completed event: a release whose every judgement was inconclusive says it was never judged.
        const record = new sfn.Pass(scope, 'Record Inconclusive Judgement', {
          parameters: { 'count.$': `States.MathAdd(${INCONCLUSIVE_COUNT}, 1)`, 'steps.$': UNJUDGED_STEPS },
          resultPath: '$.inconclusive',
        });
        // A step whose bake ends on an inconclusive judgement was never found healthy: counted for the completion.
        const unjudgedStep = new sfn.Pass(scope, 'Record Unjudged Step', {
          parameters: { 'count.$': INCONCLUSIVE_COUNT, 'steps.$': `States.MathAdd(${UNJUDGED_STEPS}, 1)` },
          resultPath: '$.inconclusive',
        });
        unjudgedStep.next(stepBaked);
        return count.next(record).next(new sfn.Choice(scope, 'Bake Done?')
          .when(sfn.Condition.numberGreaterThanEqualsJsonPath('$.bake.passes', '$.bake.required'), unjudgedStep)
          .otherwise(bakeWait));
      }
      case 'PAUSE':
        return paused.start;
      default:
        return trigger('Inconclusive', 'inconclusive', { 'reason.$': 'States.JsonToString($.verdict.reasons)' });
    }
  };
  // A degraded stable color holds the step (the judgement did not count): the event once, when the hold starts; once
  // the hold has lasted longer than the judge's baselineHoldSeconds, the verdict is BASELINE_DEGRADED and the policy applies.
  const baselineDegraded = notify('Baseline Degraded', RolloutEvent.BASELINE_DEGRADED,
    { ...colorsDetail, 'step.$': '$.cursor.step', 'weights.$': '$.shift.after', 'reasons.$': '$.verdict.reasons' });
  baselineDegraded.end.next(bakeWait);
  const onBaselinePolicy = props.onBaselineDegraded === BaselineDegradedAction.ROLLBACK
    ? trigger('Baseline Still Degraded', 'baseline-degraded', { 'reason.$': 'States.JsonToString($.verdict.reasons)' })
    : paused.start;
  const verdict = new sfn.Choice(scope, 'Verdict')
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'FAIL'), onJudgeFail)
    .when(sfn.Condition.and(sfn.Condition.stringEquals('$.verdict.verdict', 'HOLD'),
      sfn.Condition.isPresent('$.verdict.baseline.holdStarted'), sfn.Condition.booleanEquals('$.verdict.baseline.holdStarted', true)), baselineDegraded.start)
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'BASELINE_DEGRADED'), onBaselinePolicy)
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'INCONCLUSIVE'), inconclusiveBranch())
    .when(sfn.Condition.stringEquals('$.verdict.verdict', 'PASS'), stepBaked)
    .otherwise(bakeWait);

  const advance = new sfn.Pass(scope, 'Next Step', {
    parameters: { 'index.$': 'States.MathAdd($.cursor.index, 1)' },
    resultPath: '$.cursor',
  });
  const recordLive = releaseLock('Record Live Color', true);
  const completedDetail = { ...colorsDetail, 'weights.$': '$.shift.after' };
  const completed = plan.onInconclusive === 'PROCEED'
    ? completedJudgedOrNot(scope, plan, notify, completedDetail)
    : notify('Completed', RolloutEvent.COMPLETED, completedDetail);
  recordLive.addCatch(completed.start, { resultPath: '$.lockError' });
  const moreSteps = new sfn.Choice(scope, 'More Steps?')
    .when(sfn.Condition.numberLessThanJsonPath('$.cursor.index', '$.plan.stepCount'), loadStep)
    .otherwise(postTraffic.hooks > 0 ? postTraffic.then(abortGate('Post-Traffic', recordLive)) : recordLive);

  // A failed abort check must not stop the rollout: it is judged as usual.
  checkAbort.addCatch(judge, { resultPath: '$.controlError' });
  started.end.next(preTraffic.hooks > 0 ? preTraffic.then(abortGate('Pre-Traffic', firstStep)) : firstStep);
  firstStep.next(loadStep).next(stepTargets).next(shift).next(startBake).next(bakeWait).next(checkAbort)
    .next(abortChoice.otherwise(judge).afterwards());
  judge.next(resetErrors).next(judged).next(verdict);
  stepDone.end.next(advance).next(moreSteps);
  recordLive.next(completed.start);
  completed.end.next(new sfn.Succeed(scope, 'Released'));

  return sfn.Chain.start(start).next(acquire).next(describe).next(chooseColors);
}

type Notify = (id: string, type: RolloutEventType, detail: Record<string, unknown>, extra?: RolloutEventType[]) =>
  { start: sfn.State; chain: sfn.Chain; end: sfn.Pass };

/**
 * The completion of an onInconclusive PROCEED rollout: the Completed event counts the inconclusive judgements that
 * were counted as healthy and the steps whose bake ended on one; when every step did, no judgement ever found the new
 * color healthy: the release was never judged. It then also sends 'Rollout Released Unjudged' and ends with
 * `$.release.judged` false, so neither subscribers nor the execution's output read it as a release that passed.
 */
function completedJudgedOrNot(scope: Construct, plan: RolloutPlan, notify: Notify, detail: Record<string, unknown>) {
  const counted = { ...detail, 'inconclusiveJudgements.$': INCONCLUSIVE_COUNT, 'unjudgedSteps.$': UNJUDGED_STEPS };
  const judged = notify('Completed', RolloutEvent.COMPLETED, { ...counted, judged: true });
  const unjudged = notify('Completed Unjudged', RolloutEvent.COMPLETED, { ...counted, judged: false }, [RolloutEvent.RELEASED_UNJUDGED]);
  const outcome = (id: string, judgedFlag: boolean, summary: string) => new sfn.Pass(scope, id, {
    parameters: { 'judged': judgedFlag, 'inconclusiveJudgements.$': INCONCLUSIVE_COUNT, 'unjudgedSteps.$': UNJUDGED_STEPS, 'steps': plan.stepCount, 'summary': summary },
    resultPath: '$.release',
  });
  const end = new sfn.Pass(scope, 'Release Recorded');
  judged.end.next(outcome('Release Judged', true, 'released: a judgement found the new color healthy in at least one step')).next(end);
  unjudged.end.next(outcome('Release Unjudged', false,
    'released WITHOUT JUDGEMENT: every judgement was inconclusive (too little data) and onInconclusive is PROCEED')).next(end);
  const choice = new sfn.Choice(scope, 'Released Unjudged?')
    .when(sfn.Condition.numberGreaterThanEquals(UNJUDGED_STEPS, plan.stepCount), unjudged.start)
    .otherwise(judged.start);
  return { start: choice, end };
}
