import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { FlagsDocument } from '../../lambda/flags';
import { Migration } from '../../lambda/database/types';
import {
  AnalysisMethod, BaselineDegradedAction, BlueGreenRouting, InconclusiveAction, NotificationChannel, ProgressiveRollout, ProgressiveRolloutProps,
  RolloutEventKind, RolloutNotifications, RolloutStrategy, SwitchoverApproval, ValidationGate,
} from '../../lib';
import { importedRollout } from '../constructs/fixtures';
import { BlueGreenDatabase } from '../../lib/database/blue-green-database';
import { DatabaseSource } from '../../lib/database/database-source';
import { SchemaMigration } from '../../lib/database/schema-migration';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { FlagRolloutPlan } from '../../lib/flags/flag-rollout-plan';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { ReleasePlan } from '../../lib/release/release-plan';
import { addEverJustData } from '../../bin/everjust-data';
import { createEverJust } from '../../bin/everjust';
import { CfnTemplate } from '../../rehearsal/template';

/**
 * The configuration matrix the validators run on: one stack per option that changes what the library synthesizes
 * (a state machine definition, a role's policies, a resource's properties). One App, so one synth serves every test
 * of a file.
 */

/** A synthesized stack of the matrix or the example app. */
export interface SynthesizedStack {
  readonly name: string;
  readonly template: CfnTemplate;
}

const HOOK_CODE = lambda.Code.fromInline('exports.handler = async () => ({ status: "Succeeded" });');

function hook(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: HOOK_CODE });
}

function serviceStack(app: App, name: string): { stack: Stack; vpc: ec2.Vpc; routing: BlueGreenRouting } {
  const stack = new Stack(app, name, { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const routing = new BlueGreenRouting(stack, 'Routing', { vpc, loadBalancer, listener });
  return { stack, vpc, routing };
}

/** One rollout configuration: the stack name says which option it varies. */
const ROLLOUTS: Record<string, (stack: Stack) => Partial<ProgressiveRolloutProps>> = {
  Defaults: () => ({}),
  InconclusiveProceed: () => ({ onInconclusive: InconclusiveAction.PROCEED }),
  InconclusivePause: () => ({ onInconclusive: InconclusiveAction.PAUSE }),
  AnalysisOff: () => ({ analysis: { enabled: false } }),
  HealthAlarmsOff: (stack) => ({
    healthAlarms: { enabled: false },
    analysis: { enabled: false },
    alarms: [new cloudwatch.Alarm(stack, 'Errors', {
      metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1,
    })],
  }),
  Hooks: (stack) => ({ preTrafficHooks: [hook(stack, 'Smoke'), hook(stack, 'Contract')], postTrafficHooks: [hook(stack, 'Final')] }),
  PauseSteps: () => ({
    strategy: RolloutStrategy.steps([{ percent: 10, pause: true }, { percent: 50, bake: Duration.minutes(2) }, { percent: 100 }]),
  }),
  SegmentFirst: () => ({ strategy: RolloutStrategy.segmentFirst({ segments: ['internal'], then: [50, 100] }) }),
  AllAtOnceEventBus: (stack) => ({ strategy: RolloutStrategy.allAtOnce(), eventBus: new events.EventBus(stack, 'Bus') }),
  Thresholds: () => ({ analysis: { method: AnalysisMethod.THRESHOLDS } }),
  BaselineRollback: () => ({ onBaselineDegraded: BaselineDegradedAction.ROLLBACK }),
  // The 10 s alarms on the application's signal judged beside the THRESHOLDS composite, with the plain wait (the
  // example app has the event-driven bake under SEQUENTIAL).
  HighResolutionThresholds: () => ({ analysis: { method: AnalysisMethod.THRESHOLDS }, highResolutionSignal: { eventDriven: false } }),
  // The largest circuit-breaker window: one state field per error counted.
  JudgeErrorRate: () => ({ maxJudgeErrorsInWindow: 20, judgeErrorWindow: 100 }),
  // Every gate: Lambda gates in the VPC, and the functional tests' native CodeBuild build and report reads.
  Gates: (stack) => {
    const project = new codebuild.Project(stack, 'E2e', { buildSpec: codebuild.BuildSpec.fromObject({ version: '0.2', phases: { build: { commands: ['npm test'] } } }) });
    const reportGroup = new codebuild.ReportGroup(stack, 'E2eReports');
    return {
      preTrafficGates: [
        ValidationGate.http({ endpoints: ['/health'] }),
        ValidationGate.database({ secret: new secretsmanager.Secret(stack, 'DbSecret') }),
        ValidationGate.performanceBaseline({ endpoints: ['/health'], samples: 5 }),
        ValidationGate.functionalTests({ project, reportGroup }),
      ],
      postTrafficGates: [ValidationGate.http({ endpoints: ['/health'], name: 'Post check' })],
    };
  },
};

const FLAGS: FlagsDocument = {
  version: 1,
  flags: { 'new-checkout': { enabled: true, default: false, rules: [{ segments: ['internal'], serve: true }, { percent: 5, serve: true }] } },
};

const MIGRATION: Migration = { name: 'rename_users_name', operations: [{ op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' }] };

function databaseStack(app: App, name: string, gate: boolean): void {
  const stack = new Stack(app, name, { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const secret = new secretsmanager.Secret(stack, 'DbSecret');
  const dbSecurityGroup = new ec2.SecurityGroup(stack, 'DbSg', { vpc, allowAllOutbound: false });
  const database = { connections: new ec2.Connections({ securityGroups: [dbSecurityGroup], defaultPort: ec2.Port.tcp(5432) }) };
  const migration = new SchemaMigration(stack, 'Migration', { vpc, secret, database, migration: MIGRATION, gate });
  if (gate) migration.completeAfterRollout(importedRollout(stack, 'web'));
}

/**
 * A release plan with the branches the example app's does not have: the migration from the execution's input, no
 * flag rollout, no approval, a soak, its own event bus, every part in one stack.
 */
function releasePlanStack(app: App): void {
  const stack = new Stack(app, 'ReleasePlanFromInput', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const migration = new SchemaMigration(stack, 'Migration', { vpc, secret: new secretsmanager.Secret(stack, 'DbSecret') });
  new ReleasePlan(stack, 'Release', {
    migration, rollout: importedRollout(stack, 'web'), soakTime: Duration.hours(1), pollInterval: Duration.seconds(30),
    eventBus: new events.EventBus(stack, 'ReleaseEvents'),
  });
}

/** The matrix app: every rollout configuration, SchemaMigration with and without gate, BlueGreenDatabase variants, FeatureFlags. */
export function matrixApp(): App {
  const app = new App({ builtinCloudFormationValidation: false });
  for (const [name, props] of Object.entries(ROLLOUTS)) {
    const { stack, routing } = serviceStack(app, `Rollout${name}`);
    const rollout = new ProgressiveRollout(stack, 'Rollout', { routing, serviceName: `web-${name.toLowerCase()}`, ...props(stack) });
    // Flags rolled back by the same alarms as the release (the composites of the health alarms).
    if (name === 'Defaults') {
      const flags = new FeatureFlags(stack, 'Flags', { flags: FLAGS, rollbackAlarms: rollout.alarms });
      // A guarded flag rollout by segment (the example app has the percentage plan), with a manual gate, the PROCEED
      // policy and its own event bus: the branches the example's definition does not have.
      new GuardedFlagRollout(stack, 'FlagRollout', {
        flags, flagKey: 'new-checkout', serviceName: 'web-defaults', onInconclusive: InconclusiveAction.PROCEED,
        plan: FlagRolloutPlan.segments({ phases: [{ segment: 'internal' }, { segment: 'beta', pause: true }], finalHold: Duration.minutes(30) }),
        eventBus: new events.EventBus(stack, 'FlagEvents'),
      });
    }
    // A notification plan with the channels the example app does not use (Microsoft Teams).
    if (name === 'AllAtOnceEventBus') {
      new RolloutNotifications(stack, 'Notifications', {
        rollout,
        routes: [{ events: Object.values(RolloutEventKind), channels: [NotificationChannel.microsoftTeams({ teamId: 'team', tenantId: 'tenant', teamsChannelId: 'channel' })] }],
      });
    }
  }
  databaseStack(app, 'MigrationGated', true);
  databaseStack(app, 'MigrationUngated', false);
  releasePlanStack(app);
  releasePlanFlagsStack(app);
  const rds = new Stack(app, 'BlueGreenDatabases', { env: { region: 'us-east-1' } });
  new BlueGreenDatabase(rds, 'Instance', { source: DatabaseSource.fromArn('arn:aws:rds:us-east-1:123456789012:db:orders'), targetEngineVersion: '17.2', approval: SwitchoverApproval.MANUAL, deleteOldAfter: true, maxReplicaLag: Duration.seconds(30) });
  new BlueGreenDatabase(rds, 'Cluster', { source: DatabaseSource.fromArn('arn:aws:rds:us-east-1:123456789012:cluster:orders'), targetEngineVersion: '17.2', approval: SwitchoverApproval.NONE });
  return app;
}

/** The EverJust example app as `cdk synth` builds it (router, blue, green and data stacks). */
export function exampleApp(): App {
  const app = new App({ builtinCloudFormationValidation: false });
  addEverJustData(app, createEverJust(app));
  return app;
}

/** Every stack of the app's cloud assembly. */
export function stacksOf(assembly: CloudAssembly): SynthesizedStack[] {
  return assembly.stacks.map((s) => ({ name: s.stackName, template: s.template as CfnTemplate }));
}

let cached: { matrix: SynthesizedStack[]; example: SynthesizedStack[] } | undefined;

/** Every file whose content can change what the apps synthesize: the sources, the bundled handlers, this matrix. */
function synthInputsHash(): string {
  const hash = createHash('sha256');
  const root = join(__dirname, '..', '..');
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else hash.update(full).update(readFileSync(full));
    }
  };
  for (const dir of ['lib', 'lambda', 'bin', 'assets', 'examples']) walk(join(root, dir));
  hash.update(readFileSync(__filename));
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 24);
}

/**
 * The matrix app's and the example app's stacks. Synthesized once per test run: the validator test files share
 * the templates through a file in the OS temp folder named after a hash of every input of the synth, so a change
 * to any source synthesizes afresh.
 */
export function synthesizedApps(): { matrix: SynthesizedStack[]; example: SynthesizedStack[] } {
  if (cached) return cached;
  const file = join(tmpdir(), `cdk-zero-downtime-validators-${synthInputsHash()}.json`);
  if (existsSync(file)) {
    cached = JSON.parse(readFileSync(file, 'utf8'));
    return cached!;
  }
  cached = { matrix: stacksOf(matrixApp().synth()), example: stacksOf(exampleApp().synth()) };
  const partial = `${file}.${process.pid}`;
  writeFileSync(partial, JSON.stringify(cached));
  renameSync(partial, file);
  return cached;
}

/**
 * A release plan of two flag rollouts: when the second fails the plan restores the first with its rollout's handler
 * (lambda:InvokeFunction from the plan's role), a branch no other plan of the matrix has.
 */
function releasePlanFlagsStack(app: App): void {
  const stack = new Stack(app, 'ReleasePlanTwoFlags', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const migration = new SchemaMigration(stack, 'Migration', { vpc, secret: new secretsmanager.Secret(stack, 'DbSecret'), migration: MIGRATION, gateTimeout: Duration.days(60) });
  const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { 'new-checkout': { enabled: true, default: false }, 'fast-search': { enabled: true, default: false } } } });
  const flagRollouts = ['new-checkout', 'fast-search'].map((flagKey) => new GuardedFlagRollout(stack, `Rollout${flagKey.replace('-', '')}`, { flags, flagKey, serviceName: 'web' }));
  new ReleasePlan(stack, 'Release', { migration, rollout: importedRollout(stack, 'web'), flagRollouts });
}
