import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describePlan, RELEASE_PLAN_METADATA_KEY, ReleasePlanDocument } from '../../lambda/release/release-plan-contract';
import { SchemaMigration, SchemaMigrationProps } from '../../lib/database/schema-migration';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { FlagRolloutPlan } from '../../lib/flags/flag-rollout-plan';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { ReleasePlan, ReleasePlanProps } from '../../lib/release/release-plan';
import { releasePlansOf, selectPlan } from '../../bin/commands/plan';
import { UsageError } from '../../bin/commands/args';
import { CfnTemplate } from '../../rehearsal/template';
import { importedRollout } from '../constructs/fixtures';

const MIGRATION = { name: 'add_plan', operations: [{ op: 'addColumn', table: 'users', column: { name: 'plan', type: 'text', nullable: true } }] };

function parts(migrationProps: Partial<SchemaMigrationProps> = {}) {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'S');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const migration = new SchemaMigration(stack, 'Migration', { vpc, secret: new secretsmanager.Secret(stack, 'Secret'), migration: MIGRATION, gateTimeout: Duration.days(30), ...migrationProps });
  const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { 'new-checkout': { enabled: true, default: false } } } });
  const flag = new GuardedFlagRollout(stack, 'Checkout', { flags, flagKey: 'new-checkout', serviceName: 'web' });
  const rollout = importedRollout(stack, 'web');
  const plan = (props: Partial<ReleasePlanProps> = {}) => new ReleasePlan(stack, 'Plan', { migration, rollout, flagRollouts: [flag], ...props });
  return { app, stack, migration, flag, rollout, plan };
}

describe('ReleasePlan', () => {
  const { app, stack, plan } = parts();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // The fixture's own VPC and secret, not the plan's: the example app has flow logs and a rotated secret.
  for (const id of ['Vpc', 'Secret']) Validations.of(stack.node.findChild(id)).acknowledge({ id: id === 'Vpc' ? 'AwsSolutions-VPC7' : 'AwsSolutions-SMG4', reason: 'test fixture' });
  const created = plan({ approveBeforeContract: true, soakTime: Duration.hours(2) });
  // One synth: cdk-nag runs in it and throws on an unacknowledged finding.
  const template = Template.fromStack(stack);
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).find((r) => r.Metadata?.[RELEASE_PLAN_METADATA_KEY])!;

  test('runs the migration, the traffic rollout (.sync:2) and the flag rollout (.sync:2), then approval, soak and the contract', () => {
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    // The migration's start is request-response (the plan follows it to its gate); the two rollouts are .sync:2.
    expect(definition.match(/states:::states:startExecution/g)).toHaveLength(3);
    expect(definition.match(/states:startExecution\.sync:2/g)).toHaveLength(2);
    expect(definition).toContain('aws-sdk:sfn:describeExecution');
    expect(definition).toContain('events:putEvents.waitForTaskToken');
    for (const action of ['status', 'releaseGate', 'rejectGate']) expect(definition).toContain(`\\"action\\":\\"${action}\\"`);
  });

  test('writes the plan a person reads into the template, in order, with what rolls back what', () => {
    const document = machine.Metadata[RELEASE_PLAN_METADATA_KEY] as ReleasePlanDocument;
    expect(document.steps.map((s) => `${s.part}: ${s.action.split(':')[0]}`)).toEqual([
      'migration: start migration add_plan (expand, backfill, validate)',
      'traffic: traffic rollout of web',
      'flag: flag rollout of new-checkout',
      'gate: approval before the contract (event "Release Waiting For Approval" with the task token)',
      'gate: soak 2 hours',
      'migration: complete migration add_plan (contract',
    ]);
    expect(document.steps[2].details).toEqual(expect.arrayContaining(['phase 2 (canary): treatment for 5% of users, judged for 2 days, every 1 h']));
    expect(document.steps[1].onFailure).toMatch(/then the plan rolls the migration back/);
    expect(document.steps[2].onFailure).toMatch(/traffic stays on the new version.*migration stays expanded/);
    expect(created.planDescription[0]).toBe('Release plan S/Plan');
    expect(created.planDescription).toContain('Rollback:');
  });

  test('zdt plan finds the plan in the synthesized stacks and prints its steps, waits, failures and rollback story', () => {
    const plans = releasePlansOf([{ stackName: 'S', template: template.toJSON() as CfnTemplate }]);
    expect(plans.map((p) => p.path)).toEqual(['S/Plan']);
    expect(selectPlan(plans, 'Plan', 'app')).toBe(plans[0]);
    expect(() => selectPlan(plans, 'Other', 'app')).toThrow(UsageError);
    expect(() => selectPlan([], undefined, 'the app')).toThrow(/the app has no ReleasePlan/);
    const lines = describePlan(plans[0]);
    expect(lines.slice(0, 4)).toEqual([
      'Release plan S/Plan',
      '1. [migration] start migration add_plan (expand, backfill, validate) (S/Migration)',
      '   waits for: the migration to wait at its gate (read every 1 minute)',
      '   on failure: the migration rolls itself back; nothing else has changed: the release fails',
    ]);
    expect(lines).toContain('     phase 2 (canary): treatment for 5% of users, judged for 2 days, every 1 h');
    expect(lines).toContain('  - Traffic rolled back (verified 100% on the stable version) -> the migration is rolled back: only the old version, which reads the old schema, serves traffic.');
  });

  test('may start its parts\' executions and read the migration\'s, and nothing more of them', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('states:StartExecution');
    expect(policies).toContain('states:DescribeExecution');
    expect(policies).toContain('states:StopExecution');
  });
});

describe('ReleasePlan refuses what it cannot release safely', () => {
  test('a migration without its gate (it would contract before any traffic moved)', () => {
    expect(() => parts({ gate: false, gateTimeout: undefined }).plan()).toThrow(/S\/Plan.*gate: false/);
  });

  test('a gate that times out before the release can reach the contract', () => {
    expect(() => parts({ gateTimeout: Duration.days(7) }).plan()).toThrow(
      /S\/Plan: gateTimeout: migration S\/Migration waits at its gate for 7 days \(its gateTimeout\), but the release can hold the gate for up to 12 days: 12 days for the phases of new-checkout\. Allowed: a gateTimeout longer than that/);
  });

  test('the gate check counts the approval, the soak and every pause for as long as its timeout lets it wait, naming each', () => {
    // 12 days of phases fit in 15 days; the approval's default 7 days do not, a 2-day approval and a 12-hour soak do.
    expect(() => parts({ gateTimeout: Duration.days(15) }).plan()).not.toThrow();
    expect(() => parts({ gateTimeout: Duration.days(15) }).plan({ approveBeforeContract: true })).toThrow(
      /gateTimeout: .*waits at its gate for 15 days .*up to 19 days: 12 days for the phases of new-checkout \+ 7 days for the approval \(approvalTimeout\)\. Allowed: a gateTimeout longer than that; or shorten the pauses' pauseTimeout, approvalTimeout or soakTime/);
    expect(() => parts({ gateTimeout: Duration.days(15) }).plan({ approveBeforeContract: true, approvalTimeout: Duration.days(2), soakTime: Duration.hours(12) })).not.toThrow();
    // A phase that pauses for promote can wait its pauseTimeout.
    const { stack, migration, rollout } = parts({ gateTimeout: Duration.days(15) });
    const flags = new FeatureFlags(stack, 'MoreFlags', { flags: { version: 1, flags: { 'fast-search': { enabled: true, default: false } } } });
    const paused = new GuardedFlagRollout(stack, 'Search', {
      flags, flagKey: 'fast-search', serviceName: 'web', pauseTimeout: Duration.days(20),
      plan: FlagRolloutPlan.percentage([{ percent: 10, duration: Duration.days(1), pause: true }, { percent: 100 }]),
    });
    expect(() => new ReleasePlan(stack, 'Plan', { migration, rollout, flagRollouts: [paused] })).toThrow(
      /up to 21 days: 1 day for the phases of fast-search \+ 20 days for its pauses \(pauseTimeout of S\/Search\)/);
  });

  test('a migration that also completes after the rollout (it would contract before the flag rollouts)', () => {
    const { migration, rollout, plan } = parts();
    const created = plan();
    migration.completeAfterRollout(rollout);
    expect(created.node.validate().join('\n')).toMatch(/also completes after the rollout of web \(completeAfterRollout\)/);
  });

  test('an approval timeout without the approval, and the same flag twice', () => {
    expect(() => parts().plan({ approvalTimeout: Duration.days(1) })).toThrow(/approvalTimeout is set but approveBeforeContract is not/);
    const { flag, plan } = parts();
    expect(() => plan({ flagRollouts: [flag, flag] })).toThrow(/two rollouts of flag "new-checkout"/);
  });

  test('a flag key that makes a state name longer than Step Functions\' 80 characters, naming the key and the room left', () => {
    const { stack, migration, rollout } = parts();
    const key = 'checkout-'.padEnd(70, 'x');
    const flags = new FeatureFlags(stack, 'LongFlags', { flags: { version: 1, flags: { [key]: { enabled: true, default: false } } } });
    const long = new GuardedFlagRollout(stack, 'Long', { flags, flagKey: key, serviceName: 'web2' });
    expect(() => new ReleasePlan(stack, 'Plan', { migration, rollout, flagRollouts: [long] }))
      .toThrow(new RegExp(`S/Plan: flagRollouts: the flag key "${key}" \\(70 characters\\) makes the state name ".*" \\d+ characters long; Step Functions allows 80, so a flag of a release plan may have a key of at most \\d+ characters`));
  });
});
