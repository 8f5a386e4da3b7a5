import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

export interface StandardStateMachineProps {
  readonly definition: sfn.IChainable;
  /** What the state machine does (its comment, shown in the console). */
  readonly comment: string;
  readonly logRetention: logs.RetentionDays;
  /** @default - none */
  readonly timeout?: Duration;
  /**
   * Why the state machine's role has actions on "*" (cdk-nag AwsSolutions-IAM5[Resource::*]), when it has more of
   * them than X-Ray's. @default X-Ray's reason
   */
  readonly wildcardReason?: string;
}

/**
 * The library's state machines, all alike: Standard (exactly-once steps, a full history, executions up to a year),
 * X-Ray tracing, every event logged with its data to a log group that goes with the stack, and the cdk-nag finding
 * that X-Ray's actions have no resource-level permissions acknowledged (or `wildcardReason`). Construct id: `StateMachine` (its log group:
 * `StateMachineLogs`), so templates keep their logical ids.
 */
export function standardStateMachine(scope: Construct, props: StandardStateMachineProps): sfn.StateMachine {
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'StateMachineLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: true,
    },
    comment: props.comment,
  });
  acknowledge(stateMachine, 'AwsSolutions-IAM5[Resource::*]', props.wildcardReason ?? 'X-Ray tracing has no resource-level permissions');
  return stateMachine;
}
