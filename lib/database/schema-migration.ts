import { Duration, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { EVENT_SOURCE, RolloutEvent } from '../../lambda/shared/contracts';
import {
  IDENTIFIER_PATTERN, MAX_IDENTIFIER_LENGTH, Migration, MigrationErrorName, parseMigration, versionSchemaName,
} from '../../lambda/database/migration-definition-contract';
import {
  DEFAULT_BATCH_DELAY_MS, DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TARGET_MS, DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_SCHEMA,
  DEFAULT_STATEMENT_TIMEOUT_MS, MigrationEvent, MigrationHandlerConfig, MigrationRequest, TlsMode,
} from '../../lambda/database/migration-contract';
import { grantTaskTokenResponse } from '../private/task-response';
import { HandlerFunction } from '../private/handler-function';
import { LAMBDA_SERVICE_ERRORS } from '../private/lambda-errors';
import { standardStateMachine } from '../private/standard-state-machine';
import { acknowledge, iam5FunctionVersions } from '../private/nag';
import { PropChecks, propError } from '../private/validation';
import type { IProgressiveRollout } from '../rollout/progressive-rollout';
import { DatabaseTls } from './database-tls';

/** Errors worth retrying in the state machine: transient AWS/network faults and DDL lock timeouts. */
const RETRYABLE_ERRORS = ['ZdtRetryableError', MigrationErrorName.LOCK_TIMEOUT, ...LAMBDA_SERVICE_ERRORS];

const DEFAULTS = {
  schema: DEFAULT_SCHEMA,
  batchSize: DEFAULT_BATCH_SIZE,
  batchTarget: Duration.millis(DEFAULT_BATCH_TARGET_MS),
  batchDelay: Duration.millis(DEFAULT_BATCH_DELAY_MS),
  lockTimeout: Duration.millis(DEFAULT_LOCK_TIMEOUT_MS),
  statementTimeout: Duration.millis(DEFAULT_STATEMENT_TIMEOUT_MS),
  maxLockAttempts: DEFAULT_MAX_ATTEMPTS,
  /** Lambda's limit is 15 minutes; a 10-minute budget leaves room for the batch in flight and the reply. */
  backfillInvocationBudget: Duration.minutes(10),
  gateTimeout: Duration.days(7),
  tls: DatabaseTls.REQUIRE,
};
const HANDLER_TIMEOUT = Duration.minutes(15);

/** Something the migration Lambda must reach on the network (an RDS instance or cluster, a proxy). */
export interface IMigrationDatabase extends ec2.IConnectable {}

/** Props of SchemaMigration. */
export interface SchemaMigrationProps {
  /** VPC of the database; the migration Lambda runs in it. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the Lambda.
   * @default - the VPC's private subnets with egress (CDK's default for Lambda)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the Lambda.
   * @default - a new security group with outbound access
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * The database: the Lambda is allowed to reach its default port.
   * @default - no ingress rule is added; allow the Lambda's security group yourself
   */
  readonly database?: IMigrationDatabase;
  /** The RDS-generated secret of the database: JSON { host, port, username, password, dbname }. */
  readonly secret: secretsmanager.ISecret;
  /**
   * The migration to run, as JSON (`{ name, operations: [...] }`, validated at synth). In TypeScript, type it with
   * `Migration` from `cdk-zero-downtime-tools/migrations` to get the checks at compile time too. It travels in the
   * handler's environment, which Lambda limits to 4 KB in all: a larger migration is refused at synth; omit this prop
   * and pass it in each execution's input.
   * @default - each execution's input carries it: `{ "migration": { "name": ..., "operations": [...] } }`
   */
  readonly migration?: { [key: string]: any };
  /**
   * Physical schema the migrations change.
   * @default 'public'
   */
  readonly schema?: string;
  /** Largest backfill batch, rows (with `batchTarget` zero: every batch's size). @default 10000 */
  readonly batchSize?: number;
  /**
   * Target duration of one backfill batch: batches are sized from the last one's measured duration, so a batch
   * holds its row locks about this long (at least twice the measured cost of an empty batch). Zero: fixed
   * `batchSize` batches.
   * @default Duration.millis(5)
   */
  readonly batchTarget?: Duration;
  /** Pause between backfill batches. @default Duration.millis(0) */
  readonly batchDelay?: Duration;
  /** lock_timeout of each DDL statement (retried with jittered backoff). @default Duration.millis(500) */
  readonly lockTimeout?: Duration;
  /** statement_timeout of DDL (not of concurrent index builds and validations). @default Duration.minutes(1) */
  readonly statementTimeout?: Duration;
  /** Attempts per DDL transaction on lock timeouts. @default 10 */
  readonly maxLockAttempts?: number;
  /** Allow high-risk steps (dropping columns or tables). @default false */
  readonly acknowledgeHighRisk?: boolean;
  /**
   * Start and complete although the database has logical replication slots: only when every subscriber (a CDC
   * pipeline, another database) gets the same migration. Without it, a migration does not change the schema of a
   * database whose logical replication would miss the change, such as the blue environment of an RDS blue/green
   * deployment that upgrades the major version; rollback is never refused.
   * @default false
   */
  readonly acknowledgeLogicalReplication?: boolean;
  /** How long one backfill invocation runs batches before the state machine loops. @default Duration.minutes(10) */
  readonly backfillInvocationBudget?: Duration;
  /**
   * Wait at a gate after validation until the application rollout releases it (`completeAfterRollout`, or the
   * `releaseGate` action), then complete. Without the gate the migration completes right after validation.
   * @default true
   */
  readonly gate?: boolean;
  /** How long the gate waits; then the execution fails without rolling back (the new version may be live). @default Duration.days(7) */
  readonly gateTimeout?: Duration;
  /** Bus of the migration events and of the rollout events that release the gate. @default - the default event bus */
  readonly eventBus?: events.IEventBus;
  /** TLS of the database connection. @default DatabaseTls.REQUIRE (encrypted; VERIFY_FULL also verifies RDS's certificate against Amazon's CAs) */
  readonly tls?: DatabaseTls;
  /** Retention of the Lambda's and the state machine's logs. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Expand/contract PostgreSQL migrations run by a Standard state machine: start -> backfill loop (checkpoint in
 * the execution state and in the database) -> validate -> gate (task token, released when the application
 * rollout completes) -> complete. A failure before the gate rolls the migration back; events go to EventBridge
 * (source cdk-zero-downtime, detail-types 'Migration Started', 'Migration Completed', 'Migration Rolled Back',
 * 'Migration Failed', ...).
 */
export class SchemaMigration extends Construct {
  /** The state machine that runs a migration: StartExecution starts one. */
  public readonly stateMachine: sfn.StateMachine;
  /** The migration Lambda (in the database's VPC). */
  public readonly handler: lambda.IFunction;
  /** Bus of the migration events and of the rollout events that release the gate. */
  public readonly eventBus: events.IEventBus;
  /**
   * Name of the migration the construct was given (`migration` prop).
   * @default - none: each execution's input carries the migration
   */
  public readonly migrationName?: string;
  /** Whether the migration waits at a gate after validation (`gate` prop). */
  public readonly hasGate: boolean;
  /** How long the gate waits before the execution fails without rolling back (`gateTimeout` prop). */
  public readonly gateTimeout: Duration;
  /** Services whose rollout releases the gate (completeAfterRollout), for a ReleasePlan to refuse a second releaser. */
  private readonly releasedBy: string[] = [];

  constructor(scope: Construct, id: string, props: SchemaMigrationProps) {
    super(scope, id);
    const schema = props.schema ?? DEFAULTS.schema;
    if (props.migration) {
      try {
        this.migrationName = parseMigration(props.migration).name;
      } catch (err) {
        throw propError(this, `migration is invalid: ${(err as Error).message}`);
      }
      // The migration's version schema `<schema>_<name>` is an identifier too: catch a too-long one at synth.
      const name = this.migrationName;
      if (!Token.isUnresolved(schema)) {
        try {
          versionSchemaName(schema, name);
        } catch {
          const versionSchema = `${schema}_${name}`;
          throw propError(this, `schema "${schema}" and migration name "${name}" make the version schema "${versionSchema}" `
            + `of ${Buffer.byteLength(versionSchema)} bytes; it must be at most ${MAX_IDENTIFIER_LENGTH} bytes (PostgreSQL's identifier limit): shorten schema or the migration name`);
        }
      }
    }
    if (props.gate === false && props.gateTimeout) throw propError(this, 'gateTimeout is set but gate is false; remove one of them');
    new PropChecks(this)
      .number('batchSize', props.batchSize, 1, 100_000)
      .number('maxLockAttempts', props.maxLockAttempts, 1, 100)
      .duration('lockTimeout', props.lockTimeout, Duration.millis(10), Duration.minutes(1))
      .duration('statementTimeout', props.statementTimeout, Duration.seconds(1), Duration.minutes(14))
      .duration('batchDelay', props.batchDelay, Duration.millis(0), Duration.minutes(1))
      .duration('batchTarget', props.batchTarget, Duration.millis(0), Duration.minutes(1))
      .duration('backfillInvocationBudget', props.backfillInvocationBudget, Duration.seconds(10), Duration.minutes(13))
      .duration('gateTimeout', props.gateTimeout, Duration.minutes(1), Duration.days(364))
      .pattern('schema', props.schema, IDENTIFIER_PATTERN, 'a PostgreSQL identifier (letters, digits, _ and $, not starting with a digit)')
      .that(props.schema === undefined || Token.isUnresolved(props.schema) || Buffer.byteLength(props.schema) <= MAX_IDENTIFIER_LENGTH,
        `schema must be at most ${MAX_IDENTIFIER_LENGTH} bytes (PostgreSQL's identifier limit), got ${Buffer.byteLength(props.schema ?? '')} ("${props.schema}")`);

    this.hasGate = props.gate !== false;
    this.gateTimeout = props.gateTimeout ?? DEFAULTS.gateTimeout;
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const config: MigrationHandlerConfig = {
      secretArn: props.secret.secretArn,
      schema,
      migration: props.migration as Migration | undefined,
      batchSize: props.batchSize ?? DEFAULTS.batchSize,
      batchTargetMs: (props.batchTarget ?? DEFAULTS.batchTarget).toMilliseconds(),
      batchDelayMs: (props.batchDelay ?? DEFAULTS.batchDelay).toMilliseconds(),
      lockTimeoutMs: (props.lockTimeout ?? DEFAULTS.lockTimeout).toMilliseconds(),
      statementTimeoutMs: (props.statementTimeout ?? DEFAULTS.statementTimeout).toMilliseconds(),
      maxLockAttempts: props.maxLockAttempts ?? DEFAULTS.maxLockAttempts,
      acknowledgeHighRisk: props.acknowledgeHighRisk ?? false,
      acknowledgeLogicalReplication: props.acknowledgeLogicalReplication ?? false,
      backfillTimeBudgetMs: (props.backfillInvocationBudget ?? DEFAULTS.backfillInvocationBudget).toMilliseconds(),
      tls: (props.tls ?? DEFAULTS.tls) as string as TlsMode,
    };
    this.handler = new HandlerFunction(this, 'Handler', {
      handler: 'migration',
      description: `cdk-zero-downtime expand/contract migrations of schema ${schema}`,
      config,
      configGrowsWith: 'migration: the migration is embedded in the handler\'s configuration; omit the prop and pass a migration this large in each execution\'s input ({ "migration": ... }) instead',
      timeout: HANDLER_TIMEOUT,
      memorySize: 512,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      logRetention,
      trustAmazonCertificates: config.tls === DatabaseTls.VERIFY_FULL,
    });
    props.secret.grantRead(this.handler);
    if (props.database) props.database.connections.allowDefaultPortFrom(this.handler, 'cdk-zero-downtime migration Lambda');

    this.stateMachine = standardStateMachine(this, {
      definition: this.definition(props),
      comment: `cdk-zero-downtime expand/contract migration of schema ${schema}`,
      logRetention,
    });
    acknowledge(this.stateMachine, iam5FunctionVersions(this.handler), 'Step Functions invokes the migration function and its versions');
    // The gate is released with SendTaskSuccess (or answered with a rollback, SendTaskFailure) and the task token the gate stored. The action has no resource-level
    // permissions (lib/private/task-response.ts): a grant on the state machine's ARN was denied on AWS.
    grantTaskTokenResponse(this.handler, ['states:SendTaskSuccess', 'states:SendTaskFailure']);
  }

  /**
   * Releases the gate when the rollout of `rollout.serviceName` completes (its 'Rollout Completed' event), so
   * the contract runs only once the new application version carries all traffic.
   *
   * A ReleasePlan does this and more (it also waits for its flag rollouts, and rolls the migration back when the
   * rollout rolls back): a migration in a release plan must not also complete after a rollout (the plan refuses it).
   */
  public completeAfterRollout(rollout: IProgressiveRollout): events.Rule {
    this.releasedBy.push(rollout.serviceName);
    const request: MigrationRequest = { action: 'releaseGate', reason: `Rollout Completed for ${rollout.serviceName}` };
    const rule = new events.Rule(this, `ReleaseAfter${Token.isUnresolved(rollout.serviceName) ? 'Rollout' : rollout.serviceName.replace(/[^A-Za-z0-9]/g, '')}`, {
      eventBus: this.eventBus,
      description: `Releases the migration gate when the rollout of ${rollout.serviceName} completes`,
      eventPattern: { source: [EVENT_SOURCE], detailType: [RolloutEvent.COMPLETED], detail: { service: [rollout.serviceName] } },
      targets: [new targets.LambdaFunction(this.handler, { event: events.RuleTargetInput.fromObject(request), retryAttempts: 8 })],
    });
    return rule;
  }

  /**
   * The services whose rollout releases the gate through completeAfterRollout.
   * @internal
   */
  public get _releasedBy(): string[] {
    return [...this.releasedBy];
  }

  /** Lets `grantee` start migrations. */
  public grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  private definition(props: SchemaMigrationProps): sfn.IChainable {
    const migrationName = this.migrationName ?? sfn.JsonPath.stringAt('$.migration.name');
    const withMigration = (request: Record<string, unknown>) => sfn.TaskInput.fromObject(
      this.migrationName ? request : { ...request, migration: sfn.JsonPath.objectAt('$.migration') });
    const invoke = (id: string, request: Record<string, unknown>, resultPath: string, retry = true) => {
      const task = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: this.handler, payload: withMigration(request), payloadResponseOnly: true, resultPath, retryOnServiceExceptions: false,
      });
      if (retry) task.addRetry({ errors: RETRYABLE_ERRORS, interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 6, jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const event = (id: string, detailType: string, extra: Record<string, unknown> = {}) => new tasks.EventBridgePutEvents(this, id, {
      entries: [{
        eventBus: this.eventBus,
        source: EVENT_SOURCE,
        detailType,
        detail: sfn.TaskInput.fromObject({ migration: migrationName, schema: props.schema ?? DEFAULTS.schema, execution: sfn.JsonPath.stringAt('$$.Execution.Id'), ...extra }),
      }],
      resultPath: sfn.JsonPath.DISCARD,
    });

    const start = invoke('Start', { action: 'start' }, '$.start');
    const backfill = invoke('Backfill', { action: 'backfillBatch' }, '$.backfill');
    const validate = invoke('Validate', { action: 'validate' }, '$.validation');
    const complete = invoke('Complete', { action: 'complete' }, '$.complete');
    const rollback = invoke('Rollback', { action: 'rollback' }, '$.rollback');

    const failed = event('EmitFailed', MigrationEvent.FAILED, { error: sfn.JsonPath.stringAt('$.error.Error'), cause: sfn.JsonPath.stringAt('$.error.Cause') })
      .next(new sfn.Fail(this, 'MigrationFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' }));
    const rolledBack = event('EmitRolledBack', MigrationEvent.ROLLED_BACK, { error: sfn.JsonPath.stringAt('$.error.Error'), cause: sfn.JsonPath.stringAt('$.error.Cause') })
      .next(new sfn.Fail(this, 'MigrationRolledBack', { errorPath: '$.error.Error', causePath: '$.error.Cause' }));
    rollback.addCatch(failed, { resultPath: '$.rollbackError' });
    rollback.next(rolledBack);
    // An operator's cancel (the handler's `cancel` action) stops the execution without undoing it: what the
    // cancelled Start or Backfill committed stays, for a new execution to resume or a rollback to undo.
    for (const t of [start, backfill]) t.addCatch(failed, { errors: [MigrationErrorName.CANCELLED], resultPath: '$.error' });
    for (const t of [start, backfill, validate]) t.addCatch(rollback, { resultPath: '$.error' });

    const backfilled = new sfn.Choice(this, 'BackfillDone?')
      .when(sfn.Condition.booleanEquals('$.backfill.done', true),
        event('EmitBackfilled', MigrationEvent.BACKFILLED, { rowsDone: sfn.JsonPath.numberAt('$.backfill.rowsDone') }).next(validate))
      .otherwise(backfill);
    const completed = complete.next(event('EmitCompleted', MigrationEvent.COMPLETED)).next(new sfn.Succeed(this, 'Completed'));
    complete.addCatch(failed, { resultPath: '$.error' });

    let afterValidate: sfn.IChainable = completed;
    if (props.gate !== false) {
      const gate = new tasks.LambdaInvoke(this, 'WaitForRollout', {
        lambdaFunction: this.handler,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: withMigration({ action: 'waitGate', taskToken: sfn.JsonPath.taskToken }),
        resultPath: '$.gate',
        taskTimeout: sfn.Timeout.duration(props.gateTimeout ?? DEFAULTS.gateTimeout),
      });
      // A release plan answers the gate with a rollback once its traffic rollout rolled back (the version that needed
      // the expand carries no traffic): roll back. A gate that times out fails without rolling back: the new
      // application version may already be live.
      gate.addCatch(rollback, { errors: [MigrationErrorName.ROLLBACK_REQUESTED], resultPath: '$.error' });
      gate.addCatch(failed, { resultPath: '$.error' });
      afterValidate = event('EmitWaiting', MigrationEvent.WAITING_FOR_ROLLOUT).next(gate).next(completed);
    }
    validate.next(afterValidate);
    return start
      .next(event('EmitStarted', MigrationEvent.STARTED))
      .next(backfill)
      .next(backfilled);
  }
}
