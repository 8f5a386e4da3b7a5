import { ArnFormat, Duration, Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ErrorName, EVENT_SOURCE } from '../../lambda/shared/contracts';
import {
  AwaitedPhase, BlueGreenErrorName, BlueGreenEvent, BlueGreenHandlerConfig, BlueGreenRequest, DEFAULT_SWITCHOVER_TIMEOUT_SECONDS,
  MAX_SWITCHOVER_TIMEOUT_SECONDS, MIN_SWITCHOVER_TIMEOUT_SECONDS, ReplicaLagCheck, SourceKind,
} from '../../lambda/database/blue-green-contract';
import { grantTaskTokenResponse } from '../private/task-response';
import { HandlerFunction } from '../private/handler-function';
import { LAMBDA_SERVICE_ERRORS } from '../private/lambda-errors';
import { standardStateMachine } from '../private/standard-state-machine';
import { acknowledge, iam5FunctionVersions, iam5Resource } from '../private/nag';
import { PropChecks, propError } from '../private/validation';
import { DatabaseSource } from './database-source';
import { DatabaseSourceKind } from './database-source-kind';
import { SwitchoverApproval } from './switchover-approval';

/** Errors worth retrying: transient AWS faults (awsCall) and Lambda service faults. */
const RETRYABLE_ERRORS = [ErrorName.RETRYABLE, ...LAMBDA_SERVICE_ERRORS];
/** RDS builds a green environment in tens of minutes; polling every minute costs a few hundred state transitions at most. */
const PROVISIONING_POLL_INTERVAL = Duration.minutes(1);
/** A switchover blocks writes for about a minute: polling every 15 s reports it promptly. */
const SWITCHOVER_POLL_INTERVAL = Duration.seconds(15);
/** Beyond its timeout, the time RDS may take to roll a failed switchover back and report it. */
const SWITCHOVER_SETTLE_GRACE = Duration.minutes(10);
/** Cleanup NOT_READY (the deployment's deletion not finished yet): retried this often, this many times (20 minutes). */
const CLEANUP_RETRY_INTERVAL = Duration.seconds(30);
const CLEANUP_ATTEMPTS = 40;
/** Preflight NOT_READY (lag, members still settling): retried this often, this many times, before the execution fails. */
const PREFLIGHT_RETRY_INTERVAL = Duration.minutes(1);
const PREFLIGHT_ATTEMPTS = 10;
/** Window of the replica-lag metric the preflight reads: the last five one-minute datapoints. */
const REPLICA_LAG_WINDOW = Duration.minutes(5);
/** Suffix RDS gives the blue resources' names at switchover (the old instances deleteOldAfter deletes). */
const OLD_INSTANCE_PATTERN = '-old*';
/** RDS limits BlueGreenDeploymentName to 60 characters, a letter first, then letters, digits and hyphens. */
const MAX_DEPLOYMENT_NAME_LENGTH = 60;
/** RDS's BlueGreenDeploymentName: 1-60 characters, a letter first, single hyphens, none at the end. */
const DEPLOYMENT_NAME_PATTERN = new RegExp(`^(?=.{1,${MAX_DEPLOYMENT_NAME_LENGTH}}$)[A-Za-z][0-9A-Za-z]*(-[0-9A-Za-z]+)*$`);
const HANDLER_TIMEOUT = Duration.minutes(1);

const DEFAULTS = {
  switchoverTimeout: Duration.seconds(DEFAULT_SWITCHOVER_TIMEOUT_SECONDS),
  provisioningTimeout: Duration.hours(3),
  approvalTimeout: Duration.hours(24),
  /** The green instance's lag metric (RDS publishes ReplicaLag per instance); a cluster's depends on its engine and is a required prop. */
  replicaLagMetric: 'ReplicaLag',
};

/** Props of BlueGreenDatabase. */
export interface BlueGreenDatabaseProps {
  /**
   * The blue database: an RDS DB instance or an Aurora DB cluster (`DatabaseSource.fromInstance()`, `fromCluster()`,
   * `fromInstanceArn()`, `fromClusterArn()`, or `fromArn()` for an ARN known at synth time).
   */
  readonly source: DatabaseSource;
  /**
   * BlueGreenDeploymentName. An execution reuses a deployment of this name and source that already exists.
   * @default - "zdt-" and a name unique to this construct
   */
  readonly deploymentName?: string;
  /**
   * Engine version of the green environment (a major version upgrade, e.g. '17.2').
   * @default - the green environment runs the source's engine version
   */
  readonly targetEngineVersion?: string;
  /** Name of the DB parameter group of the green instances. @default - the source's */
  readonly targetParameterGroup?: string;
  /** Name of the DB cluster parameter group of the green cluster (Aurora only). @default - the source's */
  readonly targetClusterParameterGroup?: string;
  /**
   * How long RDS may take to switch over; beyond it RDS rolls the switchover back and changes nothing. 30 s to 1 hour.
   * @default Duration.minutes(5) (RDS's default)
   */
  readonly switchoverTimeout?: Duration;
  /**
   * Most replica lag the green environment may show before switchover (Maximum of the metric over the last 5 minutes;
   * no datapoints also holds the switchover back). RDS applies its own lag guardrail in any case.
   * @default - no check of the library's own
   */
  readonly maxReplicaLag?: Duration;
  /**
   * Metric (namespace AWS/RDS) the replica-lag check reads.
   * For a DB cluster it is required with maxReplicaLag, since it depends on the engine (AuroraBinlogReplicaLag for
   * Aurora MySQL; dimension DBClusterIdentifier of the green cluster).
   * @default 'ReplicaLag' (dimension DBInstanceIdentifier of the green instance) for an instance
   */
  readonly replicaLagMetric?: string;
  /**
   * MANUAL: after the preflight, the execution puts a 'Database Switchover Awaiting Approval' event with its task token
   * and waits: SendTaskSuccess switches over, SendTaskFailure aborts (see grantApproval).
   * @default SwitchoverApproval.NONE
   */
  readonly approval?: SwitchoverApproval;
  /** How long a manual approval waits; then the execution fails without switching over. 1 minute to 7 days. @default Duration.hours(24) */
  readonly approvalTimeout?: Duration;
  /** How long the green environment may take to provision. 10 minutes to 24 hours. @default Duration.hours(3) */
  readonly provisioningTimeout?: Duration;
  /**
   * After a completed switchover and the deployment's deletion, delete the old (blue, renamed "-old1") DB instance
   * with a final snapshot, turning off the deletion protection it kept from the source. DB instances without read
   * replicas only (others are refused before the switchover).
   * @default false - the old environment stays, for a manual fallback; delete it yourself
   */
  readonly deleteOldAfter?: boolean;
  /**
   * The customer managed KMS key the source's storage is encrypted with: RDS creates the green environment encrypted
   * with it on the caller's behalf, so the handler may create grants on it and describe it.
   * @default - none (unencrypted, or an AWS managed key)
   */
  readonly sourceEncryptionKey?: kms.IKey;
  /** Bus of the switchover events. @default - the default event bus */
  readonly eventBus?: events.IEventBus;
  /** Retention of the Lambda's and the state machine's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

interface ResolvedSource {
  readonly arn: string;
  readonly kind: SourceKind;
  /** The source's identifier (a token for a construct or an unresolved ARN). */
  readonly identifier: string;
}

/**
 * An orchestrated RDS Blue/Green switchover, run by a Standard state machine: create the deployment (or reuse it) ->
 * poll until the green environment is AVAILABLE -> preflight (every member AVAILABLE, optional replica-lag limit) ->
 * [manual approval] -> switchover with the configured timeout -> poll -> verify -> 'Database Switchover Completed' ->
 * delete the deployment (and, if asked, the old instances). Any failure puts 'Database Switchover Failed' and fails the
 * execution with the cause; RDS itself rolls back a switchover that does not finish in time, so the library never
 * switches back.
 */
export class BlueGreenDatabase extends Construct {
  /** The state machine that runs a switchover: StartExecution starts one. */
  public readonly stateMachine: sfn.StateMachine;
  /** The blue/green Lambda the state machine calls. */
  public readonly handler: lambda.IFunction;
  /** Bus of the switchover events. */
  public readonly eventBus: events.IEventBus;
  /** The BlueGreenDeploymentName the executions use. */
  public readonly deploymentName: string;
  /** ARN of the blue database. */
  public readonly sourceArn: string;
  /** What the blue database is: a DB instance or a DB cluster. */
  public readonly sourceKind: DatabaseSourceKind;

  constructor(scope: Construct, id: string, props: BlueGreenDatabaseProps) {
    super(scope, id);
    const source = this.resolveSource(props);
    this.sourceArn = source.arn;
    this.sourceKind = source.kind === 'instance' ? DatabaseSourceKind.INSTANCE : DatabaseSourceKind.CLUSTER;
    if (props.targetClusterParameterGroup !== undefined && source.kind === 'instance') {
      throw propError(this, 'targetClusterParameterGroup is set but the source is a DB instance; use targetParameterGroup');
    }
    if (props.deleteOldAfter && source.kind === 'cluster') {
      throw propError(this, 'deleteOldAfter is true but the source is a DB cluster; deleting an old cluster is not supported, delete it yourself after the switchover');
    }
    if (props.approvalTimeout !== undefined && props.approval !== SwitchoverApproval.MANUAL) {
      throw propError(this, `approvalTimeout is set but approval is ${JSON.stringify(props.approval ?? SwitchoverApproval.NONE)}; set approval: SwitchoverApproval.MANUAL or remove approvalTimeout`);
    }
    if (props.replicaLagMetric !== undefined && props.maxReplicaLag === undefined) {
      throw propError(this, 'replicaLagMetric is set but maxReplicaLag is not; set maxReplicaLag to turn the check on');
    }
    if (source.kind === 'cluster' && props.maxReplicaLag !== undefined && props.replicaLagMetric === undefined) {
      throw propError(this, 'maxReplicaLag on a DB cluster needs replicaLagMetric: the AWS/RDS lag metric depends on the engine '
        + '(AuroraBinlogReplicaLag for Aurora MySQL); a metric the green cluster does not publish would block every switchover');
    }
    this.deploymentName = props.deploymentName ?? `zdt-${Names.uniqueResourceName(this, { maxLength: MAX_DEPLOYMENT_NAME_LENGTH - 4, separator: '-' }).replace(/[^A-Za-z0-9-]/g, '').replace(/-+/g, '-').replace(/-$/, '')}`;
    new PropChecks(this)
      .duration('switchoverTimeout', props.switchoverTimeout, Duration.seconds(MIN_SWITCHOVER_TIMEOUT_SECONDS), Duration.seconds(MAX_SWITCHOVER_TIMEOUT_SECONDS), Duration.seconds(1))
      .duration('maxReplicaLag', props.maxReplicaLag, Duration.seconds(0), Duration.hours(1), Duration.seconds(1))
      .duration('approvalTimeout', props.approvalTimeout, Duration.minutes(1), Duration.days(7))
      .duration('provisioningTimeout', props.provisioningTimeout, Duration.minutes(10), Duration.hours(24))
      .oneOf('approval', props.approval, Object.values(SwitchoverApproval))
      .pattern('deploymentName', props.deploymentName, DEPLOYMENT_NAME_PATTERN,
        `1 to ${MAX_DEPLOYMENT_NAME_LENGTH} letters, digits and single hyphens, starting with a letter and not ending with a hyphen (RDS's BlueGreenDeploymentName)`);

    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const replicaLag: ReplicaLagCheck | undefined = props.maxReplicaLag && {
      metricName: props.replicaLagMetric ?? DEFAULTS.replicaLagMetric,
      dimensionName: source.kind === 'instance' ? 'DBInstanceIdentifier' : 'DBClusterIdentifier',
      maxSeconds: props.maxReplicaLag.toSeconds({ integral: false }),
      windowSeconds: REPLICA_LAG_WINDOW.toSeconds(),
    };
    const config: BlueGreenHandlerConfig = {
      sourceArn: source.arn,
      sourceKind: source.kind,
      deploymentName: this.deploymentName,
      targetEngineVersion: props.targetEngineVersion,
      targetDBParameterGroupName: props.targetParameterGroup,
      targetDBClusterParameterGroupName: props.targetClusterParameterGroup,
      // Not integral here: a fractional value is reported by the synth-time check above, naming the prop.
      switchoverTimeoutSeconds: (props.switchoverTimeout ?? DEFAULTS.switchoverTimeout).toSeconds({ integral: false }),
      replicaLag,
      deleteOldAfter: props.deleteOldAfter ?? false,
    };
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'blue-green',
      description: `cdk-zero-downtime RDS Blue/Green switchover of ${this.deploymentName}`,
      config,
      timeout: HANDLER_TIMEOUT,
      logRetention,
    });
    this.grantRds(source, props);

    this.stateMachine = standardStateMachine(this, {
      definition: this.definition(props),
      comment: `cdk-zero-downtime RDS Blue/Green switchover (${this.deploymentName})`,
      logRetention,
    });
    acknowledge(this.stateMachine, iam5FunctionVersions(this.handler), 'Step Functions invokes the blue/green function and its versions');
  }

  /** Lets `grantee` start switchovers. */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets `grantee` answer a manual approval: SendTaskSuccess with the task token of the 'Database Switchover Awaiting
   * Approval' event switches over, SendTaskFailure aborts. Also lets it read the executions.
   */
  public grantApproval(grantee: iam.IGrantable): iam.Grant {
    this.stateMachine.grantRead(grantee);
    return grantTaskTokenResponse(grantee);
  }

  private resolveSource(props: BlueGreenDatabaseProps): ResolvedSource {
    const { kind, arn, identifier } = props.source.bind(this);
    return { arn, kind: kind as string as SourceKind, identifier };
  }

  /**
   * Least privilege for what RDS does on the caller's behalf. RDS names the green resources itself (the docs allow only
   * "*" for them), so they are scoped to the account and region by resource type; the source, the deployments, the
   * parameter groups and the old instances are named.
   */
  private grantRds(source: ResolvedSource, props: BlueGreenDatabaseProps): void {
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'rds', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const deployments = arn('deployment', '*');
    const parameterGroups = [
      ...(props.targetParameterGroup ? [arn('pg', props.targetParameterGroup)] : []),
      ...(props.targetClusterParameterGroup ? [arn('cluster-pg', props.targetClusterParameterGroup)] : []),
    ];
    const wildcards: string[] = [deployments];
    const role = this.handler.role!;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['rds:CreateBlueGreenDeployment'], resources: [source.arn, deployments, ...parameterGroups] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['rds:DescribeBlueGreenDeployments', 'rds:SwitchoverBlueGreenDeployment', 'rds:DeleteBlueGreenDeployment'],
      resources: [deployments],
    }));
    // What CreateBlueGreenDeployment and SwitchoverBlueGreenDeployment do on the caller's behalf (RDS User Guide,
    // "Authorizing access to blue/green deployment operations").
    const green = source.kind === 'instance'
      ? { actions: ['rds:AddTagsToResource', 'rds:CreateDBInstanceReadReplica', 'rds:ModifyDBInstance', 'rds:PromoteReadReplica'], types: ['db', 'pg', 'og', 'subgrp'] }
      : {
        actions: ['rds:AddTagsToResource', 'rds:CreateDBCluster', 'rds:CreateDBInstance', 'rds:CreateDBClusterEndpoint', 'rds:ModifyDBCluster', 'rds:PromoteReadReplicaDBCluster'],
        types: ['cluster', 'db', 'cluster-endpoint', 'cluster-pg', 'pg', 'og', 'subgrp'],
      };
    const greenResources = green.types.map((t) => arn(t, '*'));
    wildcards.push(...greenResources);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: green.actions, resources: [...greenResources, deployments] }));
    if (props.deleteOldAfter) {
      const old = [arn('db', `${source.identifier}${OLD_INSTANCE_PATTERN}`), arn('snapshot', `${source.identifier}${OLD_INSTANCE_PATTERN}`)];
      wildcards.push(...old);
      // ModifyDBInstance: the old instance keeps the source's deletion protection, which cleanup turns off to delete it.
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['rds:DeleteDBInstance', 'rds:CreateDBSnapshot', 'rds:ModifyDBInstance'], resources: old }));
    }
    if (props.maxReplicaLag) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    }
    props.sourceEncryptionKey?.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
    for (const w of wildcards) {
      acknowledge(role, iam5Resource(this, w), 'RDS names the blue/green deployment and the green resources itself (only "*" is supported for them); scoped to this account, region and resource type');
    }
  }

  private definition(props: BlueGreenDatabaseProps): sfn.IChainable {
    const deploymentId = sfn.JsonPath.stringAt('$.deployment.deploymentId');
    const invoke = (id: string, request: Record<string, unknown>, resultPath: string) => {
      const task = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: this.handler, payload: sfn.TaskInput.fromObject(request), payloadResponseOnly: true, resultPath, retryOnServiceExceptions: false,
      });
      task.addRetry({ errors: RETRYABLE_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const baseDetail = { deploymentName: this.deploymentName, source: this.sourceArn, execution: sfn.JsonPath.stringAt('$$.Execution.Id') };
    const event = (id: string, detailType: string, detail: Record<string, unknown>, taskToken = false) => new tasks.EventBridgePutEvents(this, id, {
      entries: [{ eventBus: this.eventBus, source: EVENT_SOURCE, detailType, detail: sfn.TaskInput.fromObject({ ...baseDetail, ...detail }) }],
      resultPath: taskToken ? '$.approval' : sfn.JsonPath.DISCARD,
      ...(taskToken ? { integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN, taskTimeout: sfn.Timeout.duration(props.approvalTimeout ?? DEFAULTS.approvalTimeout) } : {}),
    });
    /** `waitFirst`: the first poll comes an interval after the call (RDS may still describe the state before it). */
    const poll = (phase: AwaitedPhase, prefix: string, interval: Duration, maxPolls: number, next: sfn.IChainable, waitFirst = false) => {
      const request: BlueGreenRequest = { action: 'status', deploymentId: '', phase, maxPolls };
      const start = new sfn.Pass(this, `Start${prefix}Polls`, { result: sfn.Result.fromObject({ polls: 0 }), resultPath: '$.poll' });
      const status = invoke(`${prefix}Status`, { ...request, deploymentId, polls: sfn.JsonPath.numberAt('$.poll.polls') }, '$.poll');
      const wait = new sfn.Wait(this, `WaitFor${prefix}`, { time: sfn.WaitTime.duration(interval) });
      const choice = new sfn.Choice(this, `${prefix}Done?`)
        .when(sfn.Condition.booleanEquals('$.poll.waiting', true), wait.next(status))
        .otherwise(next);
      status.next(choice);
      start.next(waitFirst ? wait : status);
      return { start, tasks: [status] };
    };

    const failed = event('EmitFailed', BlueGreenEvent.FAILED, { error: sfn.JsonPath.stringAt('$.error.Error'), cause: sfn.JsonPath.stringAt('$.error.Cause') });
    const fail = new sfn.Fail(this, 'SwitchoverFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    failed.addCatch(fail, { resultPath: '$.eventError' });
    failed.next(fail);

    const create = invoke('CreateDeployment', { action: 'create' }, '$.deployment');
    const preflight = invoke('Preflight', { action: 'preflight', deploymentId }, '$.preflight');
    preflight.addRetry({ errors: [BlueGreenErrorName.NOT_READY], interval: PREFLIGHT_RETRY_INTERVAL, backoffRate: 1, maxAttempts: PREFLIGHT_ATTEMPTS });
    const switchover = invoke('Switchover', { action: 'switchover', deploymentId }, '$.switchover');
    const verify = invoke('Verify', { action: 'verify', deploymentId }, '$.verify');
    const cleanup = invoke('Cleanup', { action: 'cleanup', deploymentId, members: sfn.JsonPath.objectAt('$.verify.members') }, '$.cleanup');
    // With deleteOldAfter, cleanup waits (NOT_READY) for RDS to finish deleting the deployment before the old instance.
    cleanup.addRetry({ errors: [BlueGreenErrorName.NOT_READY], interval: CLEANUP_RETRY_INTERVAL, backoffRate: 1, maxAttempts: CLEANUP_ATTEMPTS });
    const completed = event('EmitCompleted', BlueGreenEvent.COMPLETED, { deploymentId, members: sfn.JsonPath.objectAt('$.verify.members') });
    // Production already runs on green here: a failed cleanup is announced on its own, not as a failed switchover.
    const cleanupFailed = new sfn.Fail(this, 'CleanupFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const cleanupFailedEvent = event('EmitCleanupFailed', BlueGreenEvent.CLEANUP_FAILED, {
      deploymentId, error: sfn.JsonPath.stringAt('$.error.Error'), cause: sfn.JsonPath.stringAt('$.error.Cause'),
    });
    cleanupFailedEvent.addCatch(cleanupFailed, { resultPath: '$.eventError' });
    cleanupFailedEvent.next(cleanupFailed);
    cleanup.addCatch(cleanupFailedEvent, { resultPath: '$.error' });
    completed.addCatch(cleanup, { resultPath: '$.eventError' });

    const provisioningPolls = Math.ceil((props.provisioningTimeout ?? DEFAULTS.provisioningTimeout).toSeconds() / PROVISIONING_POLL_INTERVAL.toSeconds());
    const switchoverTimeout = props.switchoverTimeout ?? DEFAULTS.switchoverTimeout;
    const switchoverPolls = Math.ceil((switchoverTimeout.toSeconds({ integral: false }) + SWITCHOVER_SETTLE_GRACE.toSeconds()) / SWITCHOVER_POLL_INTERVAL.toSeconds());
    // A Describe right after SwitchoverBlueGreenDeployment may still say AVAILABLE, which verify would read as a
    // switchover RDS rolled back: the first look comes one interval later.
    const switched = poll('switched', 'Switchover', SWITCHOVER_POLL_INTERVAL, switchoverPolls, verify, true);
    const provisioned = poll('provisioned', 'Provisioning', PROVISIONING_POLL_INTERVAL, provisioningPolls, preflight);

    let beforeSwitchover: sfn.IChainable = switchover;
    if (props.approval === SwitchoverApproval.MANUAL) {
      const approval = event('AwaitApproval', BlueGreenEvent.AWAITING_APPROVAL, {
        deploymentId, taskToken: sfn.JsonPath.taskToken, preflight: sfn.JsonPath.objectAt('$.preflight'),
      }, true);
      approval.addCatch(failed, { resultPath: '$.error' });
      approval.next(switchover);
      beforeSwitchover = approval;
    }
    preflight.next(beforeSwitchover);
    switchover.next(switched.start);
    verify.next(completed).next(cleanup).next(new sfn.Succeed(this, 'SwitchedOver'));
    for (const t of [create, preflight, switchover, verify, ...provisioned.tasks, ...switched.tasks]) t.addCatch(failed, { resultPath: '$.error' });
    return create.next(provisioned.start);
  }
}
