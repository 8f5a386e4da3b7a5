/**
 * AwsFakes: every AWS service a rollout touches, faked statefully on one virtual clock.
 *
 *   const aws = new AwsFakes({ clock });
 *   aws.install();            // every ELBv2 / CloudWatch / DynamoDB / EventBridge / SFN / RDS SDK client now talks to the fakes
 *   aws.faults.add({ service: 'elbv2', command: 'ModifyRule', error: 'ThrottlingException', times: 2 });
 *   ... run handlers / the state machine ...
 *   aws.calls                 // every call, with its virtual time
 *   aws.restore();
 *
 * `install()` stubs `Client.prototype.send` of the real SDK clients with aws-sdk-client-mock, so
 * every client instance — including the ones handlers create at module level — is routed to the
 * fakes. The stub replaces the SDK's middleware stack, so the fakes replay the SDK's retries themselves: a
 * retryable fault is repeated up to the client's `maxAttempts`, as production's client would
 * (invokeWithSdkRetries; the handlers' policies are in lambda/shared/sdk-retries.ts).
 *
 * `aws.stepfunctions` is the task-token side of Step Functions behind the SFN SDK client (SendTaskSuccess,
 * SendTaskFailure, SendTaskHeartbeat); give it to the runner (`stepFunctions: aws.stepfunctions`) and the tokens of
 * waiting tasks are answered by whoever calls those APIs first.
 *
 * `aws.events` is a recorder behind the EventBridge SDK client (PutEvents); `aws.events.onDeliver(listener)`
 * sees every accepted PutEvents, however it came. SNS has no SDK client here: `aws.sns` is a recorder. The
 * state-machine runner calls `aws.events.putEvents(params)` / `aws.sns.publish(params)` for native
 * integrations; DynamoDB native integrations go through `aws.invoke('dynamodb', 'UpdateItem', params)`. All
 * paths are logged and subject to fault injection, like SDK calls. The fakes' own methods
 * (`aws.alb.createRule(...)`) are the simulation's back door: not logged, never faulted.
 */
import * as appconfigSdk from '@aws-sdk/client-appconfig';
import * as cloudwatchSdk from '@aws-sdk/client-cloudwatch';
import * as dynamodbSdk from '@aws-sdk/client-dynamodb';
import * as elbv2Sdk from '@aws-sdk/client-elastic-load-balancing-v2';
import * as eventbridgeSdk from '@aws-sdk/client-eventbridge';
import * as rdsSdk from '@aws-sdk/client-rds';
import * as sfnSdk from '@aws-sdk/client-sfn';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../lambda/shared/clock';
import { FakeAlb } from './alb';
import { FakeAppConfig } from './appconfig';
import { notImplemented, responseMetadata, ServiceId } from './aws-errors';
import { AlarmActionEvent, FakeCloudWatch } from './cloudwatch';
import { FakeCodeBuild } from './codebuild';
import { FakeDynamoDb } from './dynamodb';
import { FaultInjector } from './faults';
import { EventBridgeRecorder, MAX_SNS_SUBJECT_LENGTH, SnsRecorder } from './recorders';
import { FakeStepFunctions } from './stepfunctions';
import { FakeRdsBlueGreen, FakeRdsBlueGreenOptions } from './rds-blue-green';
import { deepClone } from './clone';
import { isRetryableAwsError } from '../../lambda/shared/errors';

export * from './alb';
export * from './alb-actions';
export * from './alb-conditions';
export * from './alarm-evaluation';
export * from './alarm-rule';
export * from './appconfig';
export * from './aws-errors';
export * from './clone';
export * from './cloudwatch';
export * from './codebuild';
export * from './dynamodb';
export * from './dynamodb-expressions';
export * from './dynamodb-values';
export * from './faults';
export * from './metric-math';
export * from './metric-source';
export * from './pagination';
export * from './rds-blue-green';
export * from './recorders';
export * from './stepfunctions';


/** The commands each fake implements (API operation names); anything else is rejected as not implemented. */
export const FAKE_COMMANDS = {
  elbv2: [
    'CreateLoadBalancer', 'DescribeLoadBalancers', 'CreateTargetGroup', 'DescribeTargetGroups',
    'DeleteTargetGroup', 'DescribeTargetGroupAttributes', 'ModifyTargetGroupAttributes', 'RegisterTargets', 'DeregisterTargets',
    'DescribeTargetHealth', 'CreateListener', 'ModifyListener', 'DescribeListeners', 'DeleteListener', 'CreateRule', 'ModifyRule',
    'DeleteRule', 'SetRulePriorities', 'DescribeRules', 'AddTags', 'RemoveTags', 'DescribeTags',
  ],
  cloudwatch: [
    'PutMetricData', 'GetMetricData', 'GetMetricStatistics', 'PutMetricAlarm', 'PutCompositeAlarm', 'DescribeAlarms',
    'DeleteAlarms', 'SetAlarmState', 'EnableAlarmActions', 'DisableAlarmActions', 'DescribeAlarmHistory',
  ],
  dynamodb: ['CreateTable', 'DescribeTable', 'DeleteTable', 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  events: ['PutEvents'],
  sns: ['Publish'],
  states: ['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat'],
  rds: [
    'CreateBlueGreenDeployment', 'DescribeBlueGreenDeployments', 'SwitchoverBlueGreenDeployment', 'DeleteBlueGreenDeployment',
    'ModifyDBInstance', 'DeleteDBInstance',
  ],
  codebuild: ['StartBuild', 'BatchGetBuilds', 'BatchGetReports'],
  appconfig: ['CreateHostedConfigurationVersion', 'GetHostedConfigurationVersion', 'StartDeployment', 'GetDeployment', 'ListDeployments'],
} as const satisfies Record<ServiceId, readonly string[]>;

export interface AwsFakesOptions {
  readonly clock: Clock;
  /** @default us-east-1 */
  readonly region?: string;
  /** @default 123456789012 */
  readonly accountId?: string;
  /**
   * Time each call of a service takes, on the clock: the call is logged when it arrives and takes effect (or
   * fails) this much later. @default - none: calls take no time
   */
  readonly latencyMs?: Partial<Record<ServiceId, number>>;
  /** How long after its period ends a CloudWatch datapoint becomes visible (FakeCloudWatchOptions). @default 0 */
  readonly metricIngestionDelaySeconds?: number;
  /** The RDS blue/green fake's timings (provisioning, switchover...). @default - FakeRdsBlueGreen's */
  readonly rds?: Omit<FakeRdsBlueGreenOptions, 'clock' | 'region' | 'accountId'>;
}

/** One API call as the fakes saw it. */
export interface CallRecord {
  /** Epoch ms (virtual clock) when the call arrived. */
  readonly time: number;
  readonly service: ServiceId;
  /** API operation name, e.g. "ModifyRule". */
  readonly command: string;
  readonly input: unknown;
  /** Name of the error the call failed with, if it failed. */
  error?: string;
  /** True when the error was an injected fault. */
  injected?: boolean;
  /** Milliseconds an injected delay fault added to the call. */
  delayedMs?: number;
}

type Handler = (input: never) => unknown;

const SDK_MODULES = {
  elbv2: { module: elbv2Sdk as unknown as Record<string, unknown>, client: elbv2Sdk.ElasticLoadBalancingV2Client },
  cloudwatch: { module: cloudwatchSdk as unknown as Record<string, unknown>, client: cloudwatchSdk.CloudWatchClient },
  dynamodb: { module: dynamodbSdk as unknown as Record<string, unknown>, client: dynamodbSdk.DynamoDBClient },
  events: { module: eventbridgeSdk as unknown as Record<string, unknown>, client: eventbridgeSdk.EventBridgeClient },
  states: { module: sfnSdk as unknown as Record<string, unknown>, client: sfnSdk.SFNClient },
  rds: { module: rdsSdk as unknown as Record<string, unknown>, client: rdsSdk.RDSClient },
  appconfig: { module: appconfigSdk as unknown as Record<string, unknown>, client: appconfigSdk.AppConfigClient },
} as const;
type SdkService = keyof typeof SDK_MODULES;

/** Command class -> API operation name, from the classes an SDK module exports (XxxCommand -> Xxx). */
function commandNames(module: Record<string, unknown>): Map<unknown, string> {
  const map = new Map<unknown, string>();
  for (const [name, value] of Object.entries(module)) {
    if (name.endsWith('Command') && typeof value === 'function') map.set(value, name.slice(0, -'Command'.length));
  }
  return map;
}

function lowerFirst(name: string): string {
  return name[0].toLowerCase() + name.slice(1);
}

export class AwsFakes {
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly alb: FakeAlb;
  readonly cloudwatch: FakeCloudWatch;
  readonly dynamodb: FakeDynamoDb;
  readonly events: EventBridgeRecorder;
  readonly sns: SnsRecorder;
  /** Task tokens of waiting tasks, answered through the SFN SDK client (SendTaskSuccess / SendTaskFailure). */
  readonly stepfunctions: FakeStepFunctions;
  /** RDS Blue/Green Deployments and the old instances' cleanup behind the RDS SDK client. */
  readonly rds: FakeRdsBlueGreen;
  /** The functional-test gate's builds and reports (Step Functions integrations only: no SDK client). */
  readonly codebuild: FakeCodeBuild;
  /** AppConfig hosted configurations and deployments (the guarded flag rollout) behind the AppConfig SDK client. */
  readonly appconfig: FakeAppConfig;
  readonly faults = new FaultInjector();
  /** Every call (SDK calls through install(), invoke(), events.putEvents, sns.publish), oldest first. */
  readonly calls: CallRecord[] = [];
  private stubs: Partial<Record<SdkService, AwsStub<object, never, unknown>>> = {};
  private static active: AwsFakes | undefined;

  private readonly latencyMs: Partial<Record<ServiceId, number>>;

  constructor(options: AwsFakesOptions) {
    this.clock = options.clock;
    this.latencyMs = options.latencyMs ?? {};
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    const common = { clock: this.clock, region: this.region, accountId: this.accountId };
    this.alb = new FakeAlb(common);
    this.dynamodb = new FakeDynamoDb(common);
    this.stepfunctions = new FakeStepFunctions(common);
    this.rds = new FakeRdsBlueGreen({ ...common, ...options.rds });
    this.appconfig = new FakeAppConfig({ clock: this.clock });
    this.sns = new SnsRecorder(this.clock, (command, input, run) => this.gate('sns', command, input, run));
    this.events = new EventBridgeRecorder(this.clock, (command, input, run) => this.gate('events', command, input, run));
    this.codebuild = new FakeCodeBuild(common, (command, input, run) => this.gate('codebuild', command, input, run));
    this.cloudwatch = new FakeCloudWatch({
      ...common,
      onAlarmAction: (event) => this.alarmAction(event),
      ingestionDelaySeconds: options.metricIngestionDelaySeconds,
    });
  }

  /**
   * Routes every ELBv2, CloudWatch, DynamoDB, EventBridge, SFN and RDS SDK client to the fakes (idempotent), or only
   * those of `services` (a test that answers one service with its own mock). Only one AwsFakes is installed at a time:
   * installing another one restores this one first.
   */
  install(services: readonly SdkService[] = Object.keys(SDK_MODULES) as SdkService[]): this {
    if (AwsFakes.active && AwsFakes.active !== this) AwsFakes.active.restore();
    AwsFakes.active = this;
    for (const service of services) {
      if (this.stubs[service]) continue;
      const { module, client } = SDK_MODULES[service];
      const names = commandNames(module);
      const stub = mockClient(client as never) as unknown as AwsStub<object, never, unknown>;
      const invoke = (client: SdkClientLike, name: string, input: unknown) => this.invokeWithSdkRetries(client, service, name, input);
      // A function, not an arrow: sinon calls it with the client instance as `this` (its config says its maxAttempts).
      stub.send.callsFake((function (this: SdkClientLike, command: { input?: unknown; constructor: unknown }, ...rest: unknown[]) {
        const name = names.get(command.constructor) ?? String((command.constructor as { name?: string }).name ?? 'Unknown').replace(/Command$/, '');
        const result = invoke(this, name, command.input ?? {})
          .then(({ output, attempts }) => ({ ...(output as object), $metadata: { ...responseMetadata().$metadata, attempts } }));
        const callback = rest.find((r): r is (err: unknown, data?: unknown) => void => typeof r === 'function');
        if (!callback) return result;
        result.then((data) => callback(null, data), (err) => callback(err));
        return undefined;
      }) as never);
      this.stubs[service] = stub;
    }
    return this;
  }

  /** Gives the SDK clients their real `send` back. */
  restore(): void {
    for (const stub of Object.values(this.stubs)) stub?.restore();
    this.stubs = {};
    if (AwsFakes.active === this) AwsFakes.active = undefined;
  }

  /** The aws-sdk-client-mock stub of a service while installed (for aws-sdk-client-mock-jest matchers). */
  stub(service: SdkService): AwsStub<object, never, unknown> | undefined {
    return this.stubs[service];
  }

  /**
   * Runs one API call against the fakes — logged and subject to fault injection, exactly as an SDK
   * call after install(). The output is a copy without $metadata.
   */
  async invoke(service: ServiceId, command: string, input: unknown): Promise<unknown> {
    return this.gate(service, command, input, () => {
      const allowed = FAKE_COMMANDS[service] as readonly string[];
      if (!allowed.includes(command)) throw notImplemented(service, this.fakeName(service), command);
      switch (service) {
        case 'events': return this.events.deliver(input as never);
        case 'sns': return this.sns.deliver(input as never);
        case 'codebuild': return this.codebuild.ungated(command, input);
        default: {
          const fake = this.fakeOf(service) as unknown as Record<string, Handler>;
          const out: unknown = fake[lowerFirst(command)].call(fake, deepClone(input) as never);
          return out instanceof Promise ? out.then((o) => deepClone(o)) : deepClone(out);
        }
      }
    });
  }

  /**
   * One SDK call as the client's retry strategy makes it. The stub replaces the SDK's middleware stack, retry
   * middleware included, so the fakes replay it: a call failing with an error the SDK retries (throttling, 5xx:
   * isRetryableAwsError) is repeated up to the client's `maxAttempts` (lambda/shared/sdk-retries.ts), each attempt
   * logged and faulted like any call, so the rehearsal shows production's attempts. The standard strategy's backoff
   * (full jitter, a few seconds at most with the handlers' policies) is not waited on the virtual clock: it is random,
   * and the attempts, not their spacing, are what the rehearsal compares with the state machine's own Retry.
   */
  async invokeWithSdkRetries(client: SdkClientLike, service: ServiceId, command: string, input: unknown): Promise<{ output: unknown; attempts: number }> {
    const maxAttempts = await maxAttemptsOf(client);
    for (let attempts = 1; ; attempts++) {
      try {
        return { output: await this.invoke(service, command, input), attempts };
      } catch (err) {
        if (attempts >= maxAttempts || !isRetryableAwsError(err)) {
          if (err && typeof err === 'object') Object.assign(err, { $metadata: { ...(err as { $metadata?: object }).$metadata, attempts } });
          throw err;
        }
      }
    }
  }

  /** Number of calls, optionally of one service and command. */
  callCount(service?: ServiceId, command?: string): number {
    return this.calls.filter((c) => (service === undefined || c.service === service) && (command === undefined || c.command === command)).length;
  }

  private fakeOf(service: Exclude<ServiceId, 'events' | 'sns' | 'codebuild'>): object {
    switch (service) {
      case 'elbv2': return this.alb;
      case 'states': return this.stepfunctions;
      default: return this[service];
    }
  }

  private fakeName(service: ServiceId): string {
    switch (service) {
      case 'states': return 'FakeStepFunctions';
      case 'elbv2': return 'FakeAlb';
      case 'cloudwatch': return 'FakeCloudWatch';
      case 'dynamodb': return 'FakeDynamoDb';
      case 'rds': return 'FakeRdsBlueGreen';
      case 'appconfig': return 'FakeAppConfig';
      case 'events': return 'EventBridgeRecorder';
      case 'codebuild': return 'FakeCodeBuild';
      default: return 'SnsRecorder';
    }
  }

  private async gate<T>(service: ServiceId, command: string, input: unknown, run: () => T): Promise<T> {
    const record: CallRecord = { time: this.clock.now(), service, command, input: safeClone(input) };
    this.calls.push(record);
    const latency = this.latencyMs[service];
    if (latency) await this.clock.sleep(latency);
    const fault = this.faults.check(service, command);
    if (fault?.error) {
      record.error = fault.error.name;
      record.injected = true;
      throw fault.error;
    }
    if (fault?.delayMs) {
      record.delayedMs = fault.delayMs;
      await this.clock.sleep(fault.delayMs);
    }
    try {
      return await run();
    } catch (err) {
      record.error = (err as Error).name;
      throw err;
    }
  }

  /** CloudWatch alarm actions: SNS topics get the notification CloudWatch sends; other actions are only in the alarm history. */
  private alarmAction(event: AlarmActionEvent): void {
    if (!/^arn:aws[a-z-]*:sns:/.test(event.actionArn)) return;
    const message = {
      AlarmName: event.alarmName,
      AlarmDescription: event.alarmDescription ?? null,
      AWSAccountId: this.accountId,
      NewStateValue: event.newState,
      NewStateReason: event.reason,
      StateChangeTime: new Date(event.time).toISOString(),
      Region: this.region,
      AlarmArn: event.alarmArn,
      OldStateValue: event.oldState,
    };
    // Alarm notifications' subjects are truncated to what SNS accepts.
    const subject = `${event.newState}: "${event.alarmName}" in ${this.region}`.slice(0, MAX_SNS_SUBJECT_LENGTH);
    try {
      this.sns.deliver({ TopicArn: event.actionArn, Subject: subject, Message: JSON.stringify(message) });
    } catch (err) {
      // CloudWatch records a failed action in the alarm history; it never fails the evaluation.
      void err;
    }
  }
}

/** What the fakes read of an SDK client: its configured maxAttempts (a value or a provider, per the SDK's config). */
interface SdkClientLike {
  readonly config?: { readonly maxAttempts?: number | (() => Promise<number> | number) };
}

/** The SDK's default when a client sets none: 3 attempts (standard retry mode). */
const SDK_DEFAULT_MAX_ATTEMPTS = 3;

async function maxAttemptsOf(client: SdkClientLike | undefined): Promise<number> {
  const configured = client?.config?.maxAttempts;
  const value = typeof configured === 'function' ? await configured() : configured;
  return typeof value === 'number' && value >= 1 ? value : SDK_DEFAULT_MAX_ATTEMPTS;
}

function safeClone(value: unknown): unknown {
  try {
    return deepClone(value);
  } catch {
    return value;
  }
}
