import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { MigrationErrorName } from '../../lambda/database/migration-definition-contract';
import { MigrationRequest } from '../../lambda/database/migration-contract';
import { ReleasePlanErrorName, ReleasePlanEvent, ReleasePlanEventType, ReleasePlanParts } from '../../lambda/release/release-plan-contract';
import { ErrorName, EVENT_SOURCE } from '../../lambda/shared/contracts';
import { SchemaMigration } from '../database/schema-migration';
import { restoreFlagTasks } from './flag-rollout-definition';
import { LAMBDA_SERVICE_ERRORS } from './lambda-errors';

/** A flag rollout of the plan: its key, state machine and handler (which restores the flag when the plan rolls it back). */
export interface ReleaseFlagPart {
  readonly flagKey: string;
  readonly stateMachine: sfn.IStateMachine;
  readonly handler: lambda.IFunction;
}

export interface ReleaseDefinitionProps {
  /** Construct path of the plan (events' `plan`). */
  readonly path: string;
  readonly migration: SchemaMigration;
  readonly traffic: sfn.IStateMachine;
  readonly flags: readonly ReleaseFlagPart[];
  readonly pollInterval: Duration;
  /** Wait between the last flag and the contract. */
  readonly soakTime?: Duration;
  /** Wait for an operator (task token) before the contract, this long at most. */
  readonly approvalTimeout?: Duration;
  readonly eventBus?: events.IEventBus;
  /** When a flag rollout fails, leave the flags whose rollouts completed earlier as they are (else: restore them, latest first). */
  readonly keepCompletedFlags: boolean;
}

/** State names of one "answer the migration's gate, then follow its execution" loop (answerGateAndFollow). */
interface GateFollowStates {
  /** The gate's answer (LambdaInvoke of the migration handler). */
  readonly gate: string;
  /** $.failure when the answer failed after its retries. */
  readonly notSent: string;
  readonly wait: string;
  /** DescribeExecution of the migration's execution. */
  readonly read: string;
  /** $.failure when the read failed after its retries. */
  readonly unreadable: string;
  /** The Choice on the execution's status. */
  readonly outcome: string;
  /** $.failure from an execution that ended otherwise than expected. */
  readonly failed: string;
}

/** Names of the states `zdt status` and the tests read. */
export const RELEASE_STATES = {
  START_MIGRATION: 'Start Migration',
  MIGRATION_READY: 'Migration Ready?',
  TRAFFIC: 'Traffic Rollout',
  APPROVAL: 'Wait For Approval',
  SOAK: 'Soak',
  COMPLETE_MIGRATION: 'Complete Migration',
  ROLL_BACK_MIGRATION: 'Roll Back Migration',
} as const;

/**
 * Throttling and transient faults of the Step Functions calls (StartExecution: "StepFunctions." prefix of the
 * optimized integration; DescribeExecution: "Sfn." prefix of the AWS SDK integration; Step Functions Developer Guide,
 * "Handling errors in Step Functions workflows"). A start retried after a fault is idempotent: each part's execution
 * is named after the plan's execution, and StartExecution of a running execution with the same name and input
 * answers that execution (Step Functions API Reference, StartExecution).
 */
const SFN_TRANSIENT = [
  'StepFunctions.ThrottlingException', 'StepFunctions.ServiceUnavailableException', 'StepFunctions.InternalServerException',
  'StepFunctions.SdkClientException', 'StepFunctions.ExecutionLimitExceededException',
  'Sfn.ThrottlingException', 'Sfn.ServiceUnavailableException', 'Sfn.InternalServerException', 'Sfn.SdkClientException', 'Sfn.SfnException',
];
const SFN_RETRY: sfn.RetryProps = { errors: SFN_TRANSIENT, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL };
/** The migration handler's transient faults (as SchemaMigration retries them) and Lambda's own. */
const MIGRATION_RETRY: sfn.RetryProps = {
  errors: [ErrorName.RETRYABLE, MigrationErrorName.LOCK_TIMEOUT, ...LAMBDA_SERVICE_ERRORS], interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2,
  jitterStrategy: sfn.JitterType.FULL,
};
const EVENT_RETRY: sfn.RetryProps = { errors: ['States.ALL'], interval: Duration.seconds(1), maxAttempts: 3, backoffRate: 2 };
/** What a .sync task of a failed child raises; its Cause is the child's DescribeExecution as JSON. */
const CHILD_FAILED = 'States.TaskFailed';

/**
 * The release plan (ReleasePlan): Start Migration (its execution, named after the plan's) -> poll until the
 * migration waits at its gate (expanded, backfilled, validated) -> Traffic Rollout (.sync:2) -> each Flag Rollout
 * (.sync:2) -> optional approval (task token) and soak -> Complete Migration (the migration handler's releaseGate, as
 * completeAfterRollout's rule does) -> poll until the migration's execution succeeded -> Release Completed.
 *
 * Rollback story: a part rolls itself back (each does); then the traffic rollout's verified rollback (ZdtRolledBack)
 * rolls the migration back (rejectGate: its execution rolls back while the old version carries all traffic); a
 * flag rollback restores the flags whose rollouts completed earlier in the plan, latest first (unless
 * keepCompletedFlags), then halts; a traffic rollback that failed, a flag rollback or a refused approval leave the
 * traffic as it is and the migration expanded at its gate, never completed; a flag that cannot be restored is a
 * failed rollback; a migration that fails before the gate rolled itself back and nothing moved.
 *
 * State: $.release (parts), $.migrationExecution, $.migrationState (DescribeExecution), $.migrationStatus (the
 * handler's status), $.traffic, $.flag<i> (its execution, status and StartResult), $.flagRestore<i>, $.failure { part,
 * error, cause }.
 */
export function buildReleaseDefinition(scope: Construct, props: ReleaseDefinitionProps): sfn.IChainable {
  const migration = props.migration;
  const withMigration = (request: MigrationRequest): sfn.TaskInput => sfn.TaskInput.fromObject(migration.migrationName
    ? { ...request } : { ...request, migration: sfn.JsonPath.objectAt('$$.Execution.Input.migration') });
  const detail = { 'plan': props.path, 'execution.$': '$$.Execution.Id' };

  /** Event to EventBridge; a failure after retries does not stop the plan (the outcome is the execution's). */
  const event = (id: string, type: ReleasePlanEventType, extra: Record<string, unknown> = {}, options: Partial<tasks.EventBridgePutEventsProps> = {}) => {
    const done = new sfn.Pass(scope, `${id} Sent`);
    const put = new tasks.EventBridgePutEvents(scope, `${id} Event`, {
      entries: [{ source: EVENT_SOURCE, detailType: type, detail: sfn.TaskInput.fromObject({ ...detail, ...extra }), eventBus: props.eventBus }],
      resultPath: sfn.JsonPath.DISCARD,
      ...options,
    });
    put.addRetry(EVENT_RETRY);
    put.addCatch(done, { resultPath: '$.eventError' });
    return { start: put, end: done, chain: sfn.Chain.start(put).next(done) };
  };
  const failureDetail = { 'part.$': '$.failure.part', 'error.$': '$.failure.error', 'cause.$': '$.failure.cause' };
  const fail = (id: string, error: string, what: string) => new sfn.Fail(scope, id, {
    error,
    causePath: sfn.JsonPath.format(`{} failed ({}: {}). ${what}`, sfn.JsonPath.stringAt('$.failure.part'),
      sfn.JsonPath.stringAt('$.failure.error'), sfn.JsonPath.stringAt('$.failure.cause')),
  });
  /** $.failure from a Catch's $.error. */
  const failureOf = (id: string, part: string) => new sfn.Pass(scope, id, {
    parameters: { 'part': part, 'error.$': '$.error.Error', 'cause.$': '$.error.Cause' }, resultPath: '$.failure',
  });

  /**
   * $.failure from a .sync child's failure, then `next`: a failed child's Cause is its DescribeExecution, as JSON (Step
   * Functions Developer Guide, "Start workflow executions from a task state"), whose Error says how the part ended;
   * any other error (the start itself failed after its retries) goes to `notFollowed` as it is.
   */
  const childFailure = (prefix: string, part: string, next: sfn.IChainable, notFollowed: sfn.IChainable): sfn.IChainable => {
    const read = new sfn.Pass(scope, `Read ${prefix} Failure`, {
      parameters: { 'part': part, 'error.$': '$.child.Error', 'cause.$': '$.child.Cause' }, resultPath: '$.failure',
    });
    read.next(next);
    const parse = new sfn.Pass(scope, `Parse ${prefix} Execution`, { parameters: { 'value.$': 'States.StringToJson($.error.Cause)' }, resultPath: '$.childParsed' });
    const known = new sfn.Choice(scope, `${prefix} Error Known?`)
      .when(sfn.Condition.and(sfn.Condition.isPresent('$.childParsed.value.Error'), sfn.Condition.isPresent('$.childParsed.value.Cause')),
        new sfn.Pass(scope, `Keep ${prefix} Error`, { inputPath: '$.childParsed.value', resultPath: '$.child' }).next(read))
      .otherwise(new sfn.Pass(scope, `${prefix} Error Unknown`, {
        parameters: { Error: 'unknown', Cause: `the ${part} execution ended without an error` }, resultPath: '$.child',
      }).next(read));
    return new sfn.Choice(scope, `${prefix} Rollout Ran?`)
      .when(sfn.Condition.stringEquals('$.error.Error', CHILD_FAILED), parse.next(known))
      .otherwise(failureOf(`${prefix} Rollout Not Followed`, part).next(notFollowed));
  };

  // -- ends ---------------------------------------------------------------------------------------------------
  const failed = event('Failed', ReleasePlanEvent.FAILED, failureDetail);
  failed.chain.next(fail('Release Failed', ReleasePlanErrorName.FAILED,
    'The traffic and the flags are as they were when it failed; see the migration\'s execution for the state of the schema.'));
  const halted = event('Halted', ReleasePlanEvent.HALTED, failureDetail);
  halted.chain.next(fail('Release Halted', ReleasePlanErrorName.HALTED,
    'The traffic stays as the traffic rollout left it and the migration stays expanded at its gate (not completed): both schema versions are served until zdt migrate complete contracts it or, once the old version carries all traffic, zdt migrate rollback undoes it.'));
  const haltedAfterFlags = event('Halted After Flags Restored', ReleasePlanEvent.HALTED, { ...failureDetail, flagsRestored: true });
  haltedAfterFlags.chain.next(fail('Release Halted, Flags Restored', ReleasePlanErrorName.HALTED,
    'The flags whose rollouts completed earlier in the plan are back to their definitions before the plan (latest first); the traffic stays as the traffic rollout left it and the migration stays expanded at its gate (not completed): both schema versions are served until zdt migrate complete contracts it or, once the old version carries all traffic, zdt migrate rollback undoes it.'));
  const rollbackFailed = event('Rollback Failed', ReleasePlanEvent.ROLLBACK_FAILED, failureDetail);
  rollbackFailed.chain.next(fail('Release Rollback Failed', ReleasePlanErrorName.ROLLBACK_FAILED,
    'Check which version carries traffic (zdt status) before anything else; the migration was not completed.'));
  const rolledBack = event('Rolled Back', ReleasePlanEvent.ROLLED_BACK, failureDetail);
  rolledBack.chain.next(fail('Release Rolled Back', ReleasePlanErrorName.ROLLED_BACK,
    'The traffic is back on the stable version (verified) and the migration was rolled back.'));
  const completed = event('Completed', ReleasePlanEvent.COMPLETED);
  completed.chain.next(new sfn.Succeed(scope, 'Released'));

  // -- the migration's execution -----------------------------------------------------------------------------
  const executionArn = stateMachineExecutionsArn(scope, migration.stateMachine, ':*');
  const describe = (id: string) => {
    const task = new tasks.CallAwsService(scope, id, {
      service: 'sfn',
      action: 'describeExecution',
      parameters: { ExecutionArn: sfn.JsonPath.stringAt('$.migrationExecution.ExecutionArn') },
      iamResources: [executionArn],
      iamAction: 'states:DescribeExecution',
      resultSelector: { 'status.$': '$.Status', 'detail.$': '$' },
      resultPath: '$.migrationState',
    });
    task.addRetry(SFN_RETRY);
    return task;
  };
  /** $.failure from the migration execution's DescribeExecution (a stopped execution has no Error). */
  const failureOfExecution = (id: string, next: sfn.IChainable) => new sfn.Choice(scope, `${id}?`)
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.migrationState.detail.Error'), sfn.Condition.isPresent('$.migrationState.detail.Cause')),
      new sfn.Pass(scope, id, {
        parameters: { 'part': 'migration', 'error.$': '$.migrationState.detail.Error', 'cause.$': '$.migrationState.detail.Cause' }, resultPath: '$.failure',
      }).next(next))
    .otherwise(new sfn.Pass(scope, `${id} Without Cause`, {
      parameters: { 'part': 'migration', 'error.$': '$.migrationState.status', 'cause': 'the migration\'s execution ended without an error' }, resultPath: '$.failure',
    }).next(next));
  const migrationTask = (id: string, request: MigrationRequest, resultPath: string) => {
    const task = new tasks.LambdaInvoke(scope, id, {
      lambdaFunction: migration.handler, payload: withMigration(request), payloadResponseOnly: true, resultPath, retryOnServiceExceptions: false,
    });
    task.addRetry(MIGRATION_RETRY);
    return task;
  };

  /**
   * Answers the migration's gate (`request`: releaseGate or rejectGate), then follows the migration's execution until
   * it ends: every poll interval DescribeExecution; RUNNING waits again, an end that matches `endedAs` goes to `ended`,
   * any other end sets $.failure from the execution. A send or a read that fails after its retries sets $.failure
   * (part `part`); every failure goes to `failure`. Returns the gate's task, already chained to the follow loop.
   */
  const answerGateAndFollow = (names: GateFollowStates, { request, resultPath, part, endedAs, ended, failure }: {
    request: MigrationRequest; resultPath: string; part: string; endedAs: sfn.Condition; ended: sfn.IChainable; failure: sfn.IChainable;
  }): sfn.TaskStateBase => {
    const gate = migrationTask(names.gate, request, resultPath);
    gate.addCatch(failureOf(names.notSent, part).next(failure), { resultPath: '$.error' });
    const wait = new sfn.Wait(scope, names.wait, { time: sfn.WaitTime.duration(props.pollInterval) });
    const read = describe(names.read);
    read.addCatch(failureOf(names.unreadable, part).next(failure), { resultPath: '$.error' });
    const outcome = new sfn.Choice(scope, names.outcome)
      .when(sfn.Condition.stringEquals('$.migrationState.status', 'RUNNING'), wait)
      .when(endedAs, ended)
      .otherwise(failureOfExecution(names.failed, failure));
    wait.next(read).next(outcome);
    gate.next(wait);
    return gate;
  };

  // Start, then poll until the migration waits at its gate.
  const startMigration = new tasks.StepFunctionsStartExecution(scope, RELEASE_STATES.START_MIGRATION, {
    stateMachine: migration.stateMachine,
    name: sfn.JsonPath.stringAt('$$.Execution.Name'),
    input: sfn.TaskInput.fromObject(migration.migrationName ? {} : { migration: sfn.JsonPath.objectAt('$$.Execution.Input.migration') }),
    associateWithParent: true,
    resultSelector: { 'ExecutionArn.$': '$.ExecutionArn' },
    resultPath: '$.migrationExecution',
  });
  startMigration.addRetry(SFN_RETRY);
  startMigration.addCatch(failureOf('Migration Not Started', 'migration').next(failed.start), { resultPath: '$.error' });

  const readyWait = new sfn.Wait(scope, 'Wait For Migration', { time: sfn.WaitTime.duration(props.pollInterval) });
  const readyDescribe = describe('Read Migration Execution');
  const readyStatus = migrationTask('Read Migration Status', { action: 'status' }, '$.migrationStatus');
  readyStatus.addCatch(failureOf('Migration Status Unreadable', 'migration').next(failed.start), { resultPath: '$.error' });
  readyDescribe.addCatch(failureOf('Migration Execution Unreadable', 'migration').next(failed.start), { resultPath: '$.error' });
  const migrationReady = event('Migration Ready', ReleasePlanEvent.MIGRATION_READY, { 'migration.$': '$.migrationExecution.ExecutionArn' });
  const ready = new sfn.Choice(scope, RELEASE_STATES.MIGRATION_READY)
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.migrationStatus.waitingForGate'), sfn.Condition.booleanEquals('$.migrationStatus.waitingForGate', true)),
      migrationReady.start)
    .otherwise(readyWait);
  const stillRunning = new sfn.Choice(scope, 'Migration Running?')
    .when(sfn.Condition.stringEquals('$.migrationState.status', 'RUNNING'), readyStatus.next(ready))
    .otherwise(failureOfExecution('Migration Ended Before Its Gate', failed.start));
  readyWait.next(readyDescribe).next(stillRunning);

  // -- traffic ------------------------------------------------------------------------------------------------
  const traffic = new tasks.StepFunctionsStartExecution(scope, RELEASE_STATES.TRAFFIC, {
    stateMachine: props.traffic,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    name: sfn.JsonPath.stringAt('$$.Execution.Name'),
    input: sfn.TaskInput.fromObject({ reason: sfn.JsonPath.format('release plan {}', sfn.JsonPath.stringAt('$$.Execution.Name')) }),
    associateWithParent: true,
    resultSelector: { 'executionArn.$': '$.ExecutionArn', 'status.$': '$.Status' },
    resultPath: '$.traffic',
  });
  traffic.addRetry(SFN_RETRY);

  // Rolling the migration back: its gate answered with a rollback, then its execution followed to its end.
  const rollBackMigration = answerGateAndFollow({
    gate: RELEASE_STATES.ROLL_BACK_MIGRATION, notSent: 'Migration Rollback Not Sent', wait: 'Wait For Migration Rollback',
    read: 'Read Migration Rollback', unreadable: 'Migration Rollback Unreadable', outcome: 'Migration Rolled Back?', failed: 'Migration Rollback Failed',
  }, {
    request: { action: 'rejectGate', reason: 'the release plan\'s traffic rollout rolled back: the old version carries all traffic' },
    resultPath: '$.migrationRollback',
    part: 'migration rollback',
    endedAs: sfn.Condition.and(sfn.Condition.isPresent('$.migrationState.detail.Error'),
      sfn.Condition.stringEquals('$.migrationState.detail.Error', MigrationErrorName.ROLLBACK_REQUESTED)),
    ended: rolledBack.start,
    failure: rollbackFailed.start,
  });
  const rollbackTriggered = event('Rollback Triggered', ReleasePlanEvent.ROLLBACK_TRIGGERED, { ...failureDetail, rollingBack: ['migration'] });
  rollbackTriggered.chain.next(rollBackMigration);

  // A failed traffic rollout: its own outcome (the child's Error) decides.
  const trafficOutcome = new sfn.Choice(scope, 'Traffic Rolled Back?')
    .when(sfn.Condition.stringEquals('$.failure.error', ErrorName.ROLLED_BACK), rollbackTriggered.start)
    .when(sfn.Condition.stringEquals('$.failure.error', ErrorName.ROLLBACK_FAILED), rollbackFailed.start)
    .otherwise(halted.start);
  traffic.addCatch(childFailure('Traffic', 'traffic', trafficOutcome, halted.start), { resultPath: '$.error' });
  const trafficCompleted = event('Traffic Completed', ReleasePlanEvent.TRAFFIC_COMPLETED, { 'traffic.$': '$.traffic.executionArn' });

  // -- flags --------------------------------------------------------------------------------------------------
  // A flag rollout that fails has rolled its own flag back. The flags whose rollouts completed earlier in the plan are
  // then restored too, latest first (each to its definition before its rollout: the StartResult in its execution's
  // output, with the rollout's own restore), unless keepCompletedFlags; then the plan halts.
  // restores[j]: flag j restored, then flag j-1... then halted (one chain, entered at the flag before the failed one;
  // the last flag has no later one to fail after it).
  const restores: sfn.State[] = [];
  if (!props.keepCompletedFlags) {
    props.flags.slice(0, -1).forEach((flag, index) => {
      const { restore, await: awaitRestore } = restoreFlagTasks(scope, flag.handler,
        { restore: `Restore Flag ${flag.flagKey}`, await: `Await Flag ${flag.flagKey} Restored` }, `$.flag${index}.start`, `$.flagRestore${index}`);
      const notRestored = failureOf(`Flag ${flag.flagKey} Not Restored`, `rollback of flag ${flag.flagKey}`).next(rollbackFailed.start);
      restore.addCatch(notRestored, { resultPath: '$.error' });
      awaitRestore.addCatch(notRestored, { resultPath: '$.error' });
      const done = event(`Flag ${flag.flagKey} Restored`, ReleasePlanEvent.FLAG_ROLLED_BACK, { 'flag': flag.flagKey, 'flagRollout.$': `$.flag${index}.executionArn` });
      awaitRestore.next(done.chain);
      done.end.next(index === 0 ? haltedAfterFlags.start : restores[index - 1]);
      restores.push(restore);
    });
  }
  /** What follows the failure of flag rollout `index`: halted, or the earlier flags restored (latest first), then halted. */
  const afterFlagFailure = (index: number): sfn.IChainable => {
    if (props.keepCompletedFlags || index === 0) return halted.start;
    const earlier = props.flags.slice(0, index).map((f) => `flag ${f.flagKey}`).reverse();
    const triggered = event(`Flag ${props.flags[index].flagKey} Failure Rollback`, ReleasePlanEvent.ROLLBACK_TRIGGERED, { ...failureDetail, rollingBack: earlier });
    triggered.end.next(restores[index - 1]);
    return triggered.start;
  };
  let chain = sfn.Chain.start(traffic).next(trafficCompleted.chain);
  props.flags.forEach((flag, index) => {
    const run = new tasks.StepFunctionsStartExecution(scope, `Flag Rollout ${flag.flagKey}`, {
      stateMachine: flag.stateMachine,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      name: sfn.JsonPath.stringAt('$$.Execution.Name'),
      input: sfn.TaskInput.fromObject({}),
      associateWithParent: true,
      // A completed rollout's output holds its StartResult ($.start): what the flag was, for the plan's rollback when a
      // later flag fails.
      resultSelector: { 'executionArn.$': '$.ExecutionArn', 'status.$': '$.Status', ...(index < restores.length ? { 'start.$': '$.Output.start' } : {}) },
      resultPath: `$.flag${index}`,
    });
    run.addRetry(SFN_RETRY);
    const onFailure = afterFlagFailure(index);
    run.addCatch(childFailure(`Flag ${flag.flagKey}`, `flag ${flag.flagKey}`, onFailure, onFailure), { resultPath: '$.error' });
    const done = event(`Flag ${flag.flagKey} Completed`, ReleasePlanEvent.FLAG_COMPLETED, { 'flag': flag.flagKey, 'flagRollout.$': `$.flag${index}.executionArn` });
    chain = chain.next(run).next(done.chain);
  });

  // -- contract -----------------------------------------------------------------------------------------------
  if (props.approvalTimeout) {
    const approval = new tasks.EventBridgePutEvents(scope, RELEASE_STATES.APPROVAL, {
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      entries: [{
        source: EVENT_SOURCE,
        detailType: ReleasePlanEvent.WAITING_FOR_APPROVAL,
        detail: sfn.TaskInput.fromObject({ ...detail, taskToken: sfn.JsonPath.taskToken }),
        eventBus: props.eventBus,
      }],
      resultPath: '$.approval',
      taskTimeout: sfn.Timeout.duration(props.approvalTimeout),
    });
    approval.addCatch(failureOf('Not Approved', 'approval before the contract').next(halted.start), { resultPath: '$.error' });
    chain = chain.next(approval);
  }
  if (props.soakTime) chain = chain.next(new sfn.Wait(scope, RELEASE_STATES.SOAK, { time: sfn.WaitTime.duration(props.soakTime) }));
  const completeMigration = answerGateAndFollow({
    gate: RELEASE_STATES.COMPLETE_MIGRATION, notSent: 'Contract Not Started', wait: 'Wait For Contract',
    read: 'Read Migration Contract', unreadable: 'Contract Unreadable', outcome: 'Migration Completed?', failed: 'Contract Failed',
  }, {
    request: { action: 'releaseGate', reason: 'release plan: the traffic rollout and every flag rollout completed' },
    resultPath: '$.migrationRelease',
    part: 'migration contract',
    endedAs: sfn.Condition.stringEquals('$.migrationState.status', 'SUCCEEDED'),
    ended: completed.start,
    failure: failed.start,
  });
  chain.next(completeMigration);
  migrationReady.chain.next(traffic);

  const parts: ReleasePlanParts = {
    kind: 'release-plan',
    migrationStateMachine: migration.stateMachine.stateMachineArn,
    trafficStateMachine: props.traffic.stateMachineArn,
    flagStateMachines: props.flags.map((f) => ({ flagKey: f.flagKey, stateMachine: f.stateMachine.stateMachineArn })),
  };
  const started = event('Started', ReleasePlanEvent.STARTED);
  return sfn.Chain.start(new sfn.Pass(scope, 'Release Parts', { result: sfn.Result.fromObject(parts), resultPath: '$.release' }))
    .next(started.chain)
    .next(startMigration)
    .next(readyWait);
}

/**
 * ARN of the executions of `stateMachine`: `<name>:*` (what DescribeExecution targets), or `<name>*` (what CDK grants
 * the .sync integration: DescribeExecution and StopExecution of the child).
 */
export function stateMachineExecutionsArn(scope: Construct, stateMachine: sfn.IStateMachine, suffix: ':*' | '*'): string {
  const stack = Stack.of(scope);
  const name = stack.splitArn(stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
  return stack.formatArn({ service: 'states', resource: 'execution', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: `${name}${suffix}` });
}
