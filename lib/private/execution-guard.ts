import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE } from '../../lambda/shared/contracts';
import { addGuardRetries } from './guard-retries';
import { HandlerFunction } from './handler-function';
import { acknowledge } from './nag';

/**
 * The execution guard of a rollout state machine, shared by ProgressiveRollout (traffic) and GuardedFlagRollout
 * (a flag): the safety net for an execution that ends while it still holds its lock (StopExecution, the state
 * machine's timeout, a failure its own Catch could not handle). An EventBridge rule on Step Functions' "Execution
 * Status Change" (ABORTED, TIMED_OUT, FAILED) of that state machine invokes the guard's handler, which restores what
 * the rollout had changed (the rollout's own rollback action), frees the lock and says so in an event; its failures
 * are retried until the lock would have expired anyway, with an alarm when it gives up (guard-retries.ts).
 */
export interface ExecutionGuardProps {
  /** Asset name of the guard's handler (lambda/rollout/guard-handler.ts: 'guard'). */
  readonly handler: string;
  /** The handler function's description. */
  readonly description: string;
  /** Its ZDT_CONFIG. */
  readonly config: unknown;
  /** The rollout's state machine, whose ended executions the guard looks at. */
  readonly stateMachine: sfn.IStateMachine;
  /** How long the guard keeps retrying: the longest lease of the rollout's lock. */
  readonly keepTrying: Duration;
  /** What the rollout changes, for the rule's and the alarm's descriptions ("a rollout execution of web"). */
  readonly rolloutName: string;
  /** What may be left wrong while the guard fails ("traffic may still be split: check the listener"). */
  readonly risk: string;
  /** Event bus of the rollout's events (absent: the default bus). */
  readonly eventBus?: events.IEventBus;
  readonly logRetention?: logs.RetentionDays;
}

export interface ExecutionGuard {
  readonly fn: HandlerFunction;
  /** In ALARM once the guard gave up on an execution (its dead-letter queue holds a message). */
  readonly gaveUpAlarm: cloudwatch.Alarm;
}

/** How long one try of the guard may take (its restore waits for what it wrote, read back). */
const GUARD_TIMEOUT = Duration.minutes(2);

/** Adds the guard (ids 'Guard', 'ExecutionEnded' and guard-retries.ts's under `scope`); grant it what it restores. */
export function addExecutionGuard(scope: Construct, props: ExecutionGuardProps): ExecutionGuard {
  const fn = new HandlerFunction(scope, 'Guard', {
    handler: props.handler,
    description: props.description,
    config: props.config,
    timeout: GUARD_TIMEOUT,
    logRetention: props.logRetention,
  });
  grantPutLibraryMetrics(fn);
  (props.eventBus ?? events.EventBus.fromEventBusName(scope, 'DefaultBus', 'default')).grantPutEventsTo(fn);
  const retries = addGuardRetries(scope, fn, props.keepTrying, props.rolloutName, props.risk);
  new events.Rule(scope, 'ExecutionEnded', {
    description: `cdk-zero-downtime: ${props.rolloutName} ended without success`,
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: { stateMachineArn: [props.stateMachine.stateMachineArn], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
    },
    // EventBridge's own retries cover failing to invoke the guard; events it could not deliver go to the dead-letter
    // queue too. The guard's failures are retried until the lock expires (guard-retries.ts).
    targets: [new targets.LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(1), deadLetterQueue: retries.deadLetterQueue })],
  });
  return { fn, gaveUpAlarm: retries.deadLetterAlarm };
}

/** cloudwatch:PutMetricData into the library's namespace only (the router's TrafficWeight, the guards' GuardFailures). */
export function grantPutLibraryMetrics(fn: HandlerFunction): void {
  fn.addToRolePolicy(new iam.PolicyStatement({
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
  }));
  acknowledge(fn.role!, 'AwsSolutions-IAM5[Resource::*]',
    'cloudwatch:PutMetricData has no resource-level permissions (limited to the library namespace by condition); X-Ray and ELB/CloudWatch Describe*, GetMetricData have none either; every other action is scoped to named resources');
}
