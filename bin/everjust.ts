/**
 * The example app: the EverJust.dev platform as paired blue/green stacks. A VPC and an internet-facing ALB in
 * the router stack, a Fargate service per color, a canary rollout judged by alarms and metric analysis, with
 * notifications. `bin/app.ts` synthesizes it (with cdk-nag); the rehearsal runs its rollout locally.
 */
import { App, Duration, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  BlueGreenNetwork, BlueGreenStacks, INotificationChannel, ColorEnvironmentContext, FeatureFlags, FlagDeployment, GuardedFlagRollout, MetricAnalysisOptions, NotificationChannel, RolloutDashboard,
  ReleasePlan, RolloutEventKind, RolloutNotifications, RolloutStrategy, SchemaMigration, ValidationGate,
} from '../lib';
import { Construct } from 'constructs';

export interface EverJustOptions {
  /**
   * Container image of each color (what `cdk deploy EverJust/Green -c greenImage=...` releases).
   * @default - context `blueImage` / `greenImage`, else the public nginx image
   */
  readonly images?: { blue?: string; green?: string };
  /** @default RolloutStrategy.canary() */
  readonly strategy?: RolloutStrategy;
  /**
   * The rollout's metric analysis; `{ enabled: false }` judges by alarms only (what the alarms-only rehearsals run).
   * @default - min 50 requests, 5xx above 1%, p99 above 800 ms
   */
  readonly analysis?: MetricAnalysisOptions;
}

const DEFAULT_IMAGE = 'public.ecr.aws/nginx/nginx:stable';
/**
 * Name of the database's secret (EverJust-data): the database gate of the router stack imports it by name, since the
 * data stack is deployed after the router stack (it uses the router's VPC) and cannot be referenced by it.
 */
export const EVERJUST_DATABASE_SECRET_NAME = 'everjust/database';
/** What the HTTP check calls on the new color before any traffic moves (EverJust.dev's health and two core APIs). */
export const EVERJUST_CHECKED_ENDPOINTS = ['/health', '/api/users/me', '/api/projects'];

export function createEverJust(app: App, options: EverJustOptions = {}): BlueGreenStacks {
  const pair = new BlueGreenStacks(app, 'EverJust', {
    // Region only, no account: synth needs no credentials and no lookups (ALB access logs need the region).
    stackProps: { env: { region: app.node.tryGetContext('region') ?? 'us-east-1' } },
    network: { createNetwork: (stack) => network(stack) },
    colorEnvironment: {
      createEnvironment: (stack, context) => fargateService(stack, context,
        options.images?.[context.color] ?? app.node.tryGetContext(`${context.color}Image`) ?? DEFAULT_IMAGE),
    },
    routing: { stickiness: Duration.minutes(10), deregistrationDelay: Duration.seconds(30) },
    rollout: {
      strategy: options.strategy ?? RolloutStrategy.canary({ bake: Duration.minutes(5) }),
      healthAlarms: { maxErrorRatePercent: 5, maxLatencyP99: Duration.millis(800) },
      analysis: options.analysis ?? { minRequests: 50, maxErrorRatePercent: 1, maxLatencyP99: Duration.millis(800) },
      // Detect in seconds: 10-second alarms on the per-color signal the services emit with ReleaseMetrics
      // (cdk-zero-downtime-runtime/metrics); the color stacks give each service its ZDT_RELEASE_* environment.
      highResolutionSignal: { maxErrorRatePercent: 5, maxLatencyP99: Duration.millis(800) },
      // Before any production traffic moves: the new color answers its core endpoints fast, and the database answers.
      // The data stack lets the database gate in (everjust-data.ts).
      preTrafficGates: [
        ValidationGate.http({ endpoints: EVERJUST_CHECKED_ENDPOINTS, maxLatency: Duration.millis(500) }),
        ValidationGate.database({ secretName: EVERJUST_DATABASE_SECRET_NAME }),
      ],
    },
  });
  // A service-wide alarm the rollout also watches: 5xx produced by the load balancer itself (no healthy target, etc.).
  const lb = pair.network.loadBalancer as elbv2.ApplicationLoadBalancer;
  pair.rollout.addAlarm(lb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(1) })
    .createAlarm(pair.routerStack, 'LoadBalancer5xx', {
      alarmDescription: 'EverJust: the load balancer itself answers 5xx',
      threshold: 50,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }));
  // One dashboard: the traffic split beside each color's requests, 5xx rate, p99 and hosts, and rollout outcomes.
  new RolloutDashboard(pair.routerStack, 'Dashboard', { rollout: pair.rollout, routing: pair.routing, dashboardName: 'EverJust-rollouts' });
  const notifications = notificationPlan(app, pair);
  // Feature flags that AppConfig rolls back on the same alarms that roll back a traffic shift; `internal` and `beta`
  // are the same segments as the segment-first rollout's header values.
  const flags = new FeatureFlags(pair.routerStack, 'Flags', {
    applicationName: 'EverJust',
    environmentName: 'production',
    rollbackAlarms: pair.rollout.alarms,
    deployment: FlagDeployment.linear({ stepPercent: 25, stepInterval: Duration.minutes(2) }),
    flags: {
      version: 1,
      flags: {
        'new-checkout': { enabled: true, default: false, rules: [{ segments: ['internal', 'beta'], serve: true }, { percent: 5, serve: true }] },
        'search-ranking': {
          enabled: true, variants: { classic: 'bm25', learned: 'ltr-v2' }, default: 'classic',
          rules: [{ conditions: [{ attribute: 'plan', op: 'in', values: ['pro', 'team'] }], percent: 20, serve: 'learned' }],
        },
      },
    },
  });
  // The migration flag's guarded rollout: 0%, 5% for 2 days, 15% for 3 days, 50% for a week, then everyone, each
  // phase judged on the app's per-variant metrics (VariantMetrics, service "everjust") and rolled back on a regression.
  const checkout = new GuardedFlagRollout(pair.routerStack, CHECKOUT_ROLLOUT_ID, { flags, flagKey: 'new-checkout', serviceName: 'everjust' });
  flagNotificationPlan(checkout, notifications);
  return pair;
}

/** Construct id of the new-checkout flag rollout in the router stack. */
const CHECKOUT_ROLLOUT_ID = 'NewCheckoutRollout';

/**
 * EverJust's release of the users-plan migration and the new checkout, as one plan (in `scope`, the data stack):
 * expand the migration and wait for its backfill and validation, roll the new version out (the pair's canary), roll
 * the `new-checkout` flag out (its guarded phases), wait for a person's approval, then contract. A traffic rollback
 * rolls the migration back; a flag rollback leaves the traffic and the expanded migration.
 */
export function addEverJustRelease(scope: Construct, pair: BlueGreenStacks, migration: SchemaMigration): ReleasePlan {
  const checkout = pair.routerStack.node.findChild(CHECKOUT_ROLLOUT_ID) as GuardedFlagRollout;
  return new ReleasePlan(scope, 'Release', {
    migration,
    rollout: pair.rollout,
    flagRollouts: [checkout],
    approveBeforeContract: true,
    eventBus: pair.rollout.eventBus,
  });
}

/**
 * Who hears about a rollout: the team's Slack channel follows every step; stakeholders get an email when a release
 * starts, ends or rolls back; on-call is paged (Opsgenie) only when a rollback fails; the public status page shows a
 * maintenance window for the whole rollout. Slack ids and the status page's ids come from context (placeholders
 * here); the Opsgenie and Statuspage keys live in Secrets Manager under the names below.
 */
function notificationPlan(app: App, pair: BlueGreenStacks): EverJustChannels {
  const context = (key: string, fallback: string): string => app.node.tryGetContext(key) ?? fallback;
  const team = NotificationChannel.slack({ slackWorkspaceId: context('slackWorkspaceId', 'T0EVERJUST'), slackChannelId: context('slackChannelId', 'C0RELEASES') });
  const stakeholders = NotificationChannel.email({ addresses: [context('releaseEmail', 'releases@everjust.dev')] });
  const onCall = NotificationChannel.webhook({
    channelId: 'OnCall',
    endpoint: 'https://api.opsgenie.com/v2/alerts',
    // The secret holds "GenieKey <api key>".
    authorization: events.Authorization.apiKey('Authorization', SecretValue.secretsManager('everjust/opsgenie-authorization')),
  });
  const statusPage = NotificationChannel.statusPage({
    pageId: context('statusPageId', 'everjust0page'),
    componentId: context('statusComponentId', 'everjust0app'),
    apiKey: secretsmanager.Secret.fromSecretNameV2(pair.routerStack, 'StatusPageKey', 'everjust/statuspage-api-key'),
  });
  new RolloutNotifications(pair.routerStack, 'Notifications', {
    rollout: pair.rollout,
    routes: [
      {
        events: [RolloutEventKind.STARTED, RolloutEventKind.STEP_COMPLETED, RolloutEventKind.PAUSED, RolloutEventKind.VALIDATION_FAILED,
          RolloutEventKind.ROLLBACK_TRIGGERED, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED, RolloutEventKind.PROMOTED_FULL],
        channels: [team],
      },
      { events: [RolloutEventKind.STARTED, RolloutEventKind.ROLLBACK_TRIGGERED, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED], channels: [stakeholders] },
      { events: [RolloutEventKind.ROLLBACK_FAILED], channels: [onCall] },
      {
        events: [RolloutEventKind.STARTED, RolloutEventKind.STEP_COMPLETED, RolloutEventKind.ROLLED_BACK, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED],
        channels: [statusPage],
      },
    ],
  });
  return { team, stakeholders };
}

/** The channels the flag rollouts reuse (a channel binds once per stack: one topic, one chat configuration). */
interface EverJustChannels {
  readonly team: INotificationChannel;
  readonly stakeholders: INotificationChannel;
}

/**
 * Who hears about the new-checkout flag's guarded rollout, on the same channels: the team follows every phase and a
 * flags document AppConfig refuses; stakeholders hear when it starts, ends or rolls back.
 */
function flagNotificationPlan(checkout: GuardedFlagRollout, channels: EverJustChannels): RolloutNotifications {
  return new RolloutNotifications(Stack.of(checkout), 'FlagNotifications', {
    flagRollout: checkout,
    routes: [
      {
        events: [RolloutEventKind.STARTED, RolloutEventKind.STEP_COMPLETED, RolloutEventKind.PAUSED, RolloutEventKind.VALIDATION_FAILED,
          RolloutEventKind.ROLLBACK_TRIGGERED, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED],
        channels: [channels.team],
      },
      { events: [RolloutEventKind.STARTED, RolloutEventKind.ROLLED_BACK, RolloutEventKind.ROLLBACK_FAILED, RolloutEventKind.COMPLETED], channels: [channels.stakeholders] },
    ],
  });
}

function network(stack: Stack): BlueGreenNetwork {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.REJECT } },
  });
  const accessLogs = new s3.Bucket(stack, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ expiration: Duration.days(90) }],
  });
  Validations.of(accessLogs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This bucket receives the load balancer access logs; logging its own access would log the logs.',
  });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', { vpc, internetFacing: true });
  loadBalancer.logAccessLogs(accessLogs, 'alb');
  Validations.of(loadBalancer).acknowledge({
    id: 'AwsSolutions-EC23',
    reason: 'A public web application: its load balancer accepts HTTP from anywhere.',
  });
  const listener = loadBalancer.addListener('Http', {
    port: 80,
    open: true,
    defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'no route' }),
  });
  return { vpc, loadBalancer, listener };
}

function fargateService(stack: Stack, context: ColorEnvironmentContext, image: string): void {
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc: context.network.vpc,
    containerInsightsV2: ecs.ContainerInsights.ENABLED,
  });
  const task = new ecs.FargateTaskDefinition(stack, 'Task', { cpu: 256, memoryLimitMiB: 512 });
  task.addContainer('web', {
    image: ecs.ContainerImage.fromRegistry(image),
    portMappings: [{ containerPort: 80 }],
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: `everjust-${context.color}`,
      logGroup: new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
    }),
    environment: { COLOR: context.color },
  });
  Validations.of(task).acknowledge({ id: 'AwsSolutions-ECS2', reason: 'COLOR is not a secret: it tells the app which color it is' });
  const service = new ecs.FargateService(stack, 'Service', {
    cluster,
    taskDefinition: task,
    desiredCount: 2,
    minHealthyPercent: 100,
    circuitBreaker: { rollback: true },
  });
  service.attachToApplicationTargetGroup(context.targetGroup as elbv2.ApplicationTargetGroup);
  service.connections.allowFrom(context.network.loadBalancer, ec2.Port.tcp(80), 'from the load balancer');
}
