/**
 * The ReleasePlan state machine, executed: the synthesized release plan runs in the rehearsal runner; the
 * migration's own synthesized state machine runs beside it as the child execution the plan starts, both with the real
 * migration handler bound in-process against a real PostgreSQL. The gate's task token goes through the fake Step
 * Functions API (the handler's SendTaskSuccess / SendTaskFailure). The traffic and flag rollouts are child
 * executions with a scripted outcome (their own state machines, rollbacks included, are rehearsed by the rollout
 * and flag rehearsals): a success, or a failure whose error is the rollout's (ZdtRolledBack, ZdtFlagRolledBack).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigrationErrorName } from '../../lambda/database/errors';
import { MigrationEvent } from '../../lambda/database/migration-contract';
import { Migration } from '../../lambda/database/types';
import { FlagRolloutErrorName } from '../../lambda/flag-rollout/flag-rollout-contract';
import { RELEASE_PLAN_KIND, ReleasePlanErrorName, ReleasePlanEvent } from '../../lambda/release/release-plan-contract';
import { setClock } from '../../lambda/shared/clock';
import { ErrorName } from '../../lambda/shared/contracts';
import { DatabaseTls } from '../../lib/database/database-tls';
import { SchemaMigration } from '../../lib/database/schema-migration';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { GuardedFlagRollout } from '../../lib/flags/guarded-flag-rollout';
import { ReleasePlan } from '../../lib/release/release-plan';
import { bindHandlers, CfnTemplate, LambdaInvocation, RunResult, runStateMachine, stateMachineOf, VirtualClock } from '../../rehearsal';
import { AwsFakes, PutEventsParams } from '../../rehearsal/fakes';
import { importedRollout } from '../constructs/fixtures';
import { createExampleUsers, usePgDatabase } from '../database/fixtures';
import { PG_PASSWORD, PG_USER } from '../database/pg-server';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'migrations');
const ROWS = 100;
const MINUTE = 60_000;
/** How long each scripted rollout takes (virtual). */
const TRAFFIC_MINUTES = 30;
const FLAG_MINUTES = 120;

const secrets = mockClient(SecretsManagerClient);
const pg = usePgDatabase({
  setup: (c) => createExampleUsers(c, ROWS),
});
afterAll(() => { secrets.restore(); });

/** A user's stack: the migration, the imported traffic rollout of "web", a guarded rollout of new-checkout, the plan. */
function synth(): CfnTemplate {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Release');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const migration = new SchemaMigration(stack, 'Migration', {
    vpc, secret: new secretsmanager.Secret(stack, 'DbSecret'), tls: DatabaseTls.DISABLE, batchSize: 100, gateTimeout: Duration.days(30),
    migration: JSON.parse(readFileSync(join(EXAMPLES, '003_add_users_plan.json'), 'utf8')) as Migration,
  });
  const flags = new FeatureFlags(stack, 'Flags', { flags: { version: 1, flags: { 'new-checkout': { enabled: true, default: false } } } });
  const flag = new GuardedFlagRollout(stack, 'Checkout', { flags, flagKey: 'new-checkout', serviceName: 'web' });
  new ReleasePlan(stack, 'Plan', { migration, rollout: importedRollout(stack, 'web'), flagRollouts: [flag], soakTime: Duration.hours(1) });
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

type ChildOutcome = { status: 'SUCCEEDED' } | { status: 'FAILED'; error: string; cause: string };

interface Released {
  readonly plan: RunResult;
  readonly migration: RunResult;
  /** detail-types the plan and the migration put, in order. */
  readonly events: string[];
  /** The release plan's states, in order. */
  readonly states: string[];
  /** Virtual ms from the plan's start at which each child started. */
  readonly childStarts: Record<string, number>;
}

/**
 * Runs the plan. The migration's child runs its real state machine; the traffic and flag children take their
 * virtual time, then end as `outcomes` says.
 */
async function release(template: CfnTemplate, outcomes: { traffic: ChildOutcome; flag: ChildOutcome }, options: { throttleReads?: number } = {}): Promise<Released> {
  let throttles = options.throttleReads ?? 0;
  secrets.reset();
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ host: '127.0.0.1', port: pg.server.port, username: PG_USER, password: PG_PASSWORD, dbname: pg.db, engine: 'postgres' }),
  });
  const machines = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine').map(([id]) => stateMachineOf(template, id));
  const planMachine = machines.find((m) => JSON.stringify(template.Resources![m.logicalId].Metadata ?? {}).includes(RELEASE_PLAN_KIND))!;
  const migrationMachine = machines.find((m) => JSON.stringify(m.definition).includes('WaitForRollout'))!;
  const flagMachine = machines.find((m) => JSON.stringify(m.definition).includes('Deploy Phase'))!;
  const clock = new VirtualClock();
  const restoreClock = setClock(clock);
  const aws = new AwsFakes({ clock }).install();
  // The migration handler waits on a real PostgreSQL: while it does, virtual time moves 1 ms a turn instead of
  // jumping to the next sleeper (a 7-day gate timeout of the other execution, say), as real time would.
  const lambdas = new Map([...bindHandlers(template, {}, { environment: { ZDT_LOG_LEVEL: 'silent' } })].map(([name, fn]) => [name, async (payload: unknown, invocation: LambdaInvocation) => {
    let done = false;
    const ticking = (async () => { while (!done) await clock.sleep(1); })();
    try {
      return await fn(payload, invocation);
    } finally {
      done = true;
      await ticking;
    }
  }]));
  const putEvents = (params: unknown) => aws.events.putEvents(params as PutEventsParams);
  const childStarts: Record<string, number> = {};
  let migrationRun: Promise<RunResult> | undefined;
  let migrationState: { arn: string; result?: RunResult } | undefined;
  const startedAt = clock.now();
  try {
    const plan = await runStateMachine({
      definition: planMachine.definition,
      stateMachineArn: planMachine.stateMachineArn,
      executionName: 'release-1',
      clock,
      lambdas,
      stepFunctions: aws.stepfunctions,
      integrations: {
        'events:putEvents': putEvents,
        // StartExecution (request-response) of the migration: its real state machine, run beside the plan.
        'states:startExecution': (params) => {
          const p = params as { StateMachineArn: string; Name: string; Input: unknown };
          expect(p.StateMachineArn).toBe(migrationMachine.stateMachineArn);
          const arn = `${migrationMachine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${p.Name}`;
          if (!migrationState) {
            childStarts.migration = clock.now() - startedAt;
            migrationState = { arn };
            migrationRun = runStateMachine({
              definition: migrationMachine.definition, stateMachineArn: migrationMachine.stateMachineArn, executionName: p.Name, clock, lambdas,
              input: typeof p.Input === 'string' ? JSON.parse(p.Input) : p.Input, stepFunctions: aws.stepfunctions,
              integrations: { 'events:putEvents': putEvents },
            }).then((r) => { migrationState!.result = r; return r; });
          }
          return { ExecutionArn: arn, StartDate: new Date(clock.now()).toISOString() };
        },
        // DescribeExecution of the migration's execution (Step Functions API Reference: Status, Error, Cause).
        'aws-sdk:sfn:describeExecution': (params) => {
          const { ExecutionArn } = params as { ExecutionArn: string };
          if (throttles-- > 0) throw Object.assign(new Error('Rate exceeded'), { name: 'Sfn.ThrottlingException' });
          if (!migrationState || ExecutionArn !== migrationState.arn) throw Object.assign(new Error(`no execution ${ExecutionArn}`), { name: 'Sfn.ExecutionDoesNotExistException' });
          const r = migrationState.result;
          return r ? { ExecutionArn, Status: r.status, ...(r.error ? { Error: r.error, Cause: r.cause ?? '' } : {}) } : { ExecutionArn, Status: 'RUNNING' };
        },
        // .sync:2 of the traffic and flag rollouts: their virtual time, then the scripted end.
        'states:startExecution.sync:2': async (params) => {
          const p = params as { StateMachineArn: string; Name: string };
          const part = p.StateMachineArn === flagMachine.stateMachineArn ? 'flag' : 'traffic';
          childStarts[part] = clock.now() - startedAt;
          await clock.sleep((part === 'flag' ? FLAG_MINUTES : TRAFFIC_MINUTES) * MINUTE);
          const outcome = outcomes[part];
          const arn = `${p.StateMachineArn.replace(':stateMachine:', ':execution:')}:${p.Name}`;
          if (outcome.status === 'SUCCEEDED') return { ExecutionArn: arn, Status: 'SUCCEEDED', Output: {} };
          // A failed child fails the task with States.TaskFailed; the cause is its DescribeExecution, as JSON.
          throw Object.assign(new Error(JSON.stringify({ ExecutionArn: arn, Status: 'FAILED', Error: outcome.error, Cause: outcome.cause })), { name: 'States.TaskFailed' });
        },
      },
    });
    const migration = await migrationRun!;
    return {
      plan,
      migration,
      events: aws.events.events().map((e) => e.detailType),
      states: plan.events.filter((e) => e.type === 'StateEntered').map((e) => e.state!),
      childStarts,
    };
  } finally {
    aws.restore();
    restoreClock();
  }
}

async function columns(): Promise<string[]> {
  return (await pg.admin.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY ordinal_position`)).rows.map((r) => r.column_name);
}

describe('ReleasePlan state machine, executed with the migration\'s on a real PostgreSQL', () => {
  const template = synth();

  test('a healthy release: expand, traffic, flag, soak, then the contract; the migration completes last', async () => {
    const r = await release(template, { traffic: { status: 'SUCCEEDED' }, flag: { status: 'SUCCEEDED' } });
    expect(r.plan).toMatchObject({ status: 'SUCCEEDED' });
    expect(r.migration).toMatchObject({ status: 'SUCCEEDED' });
    // Order: the traffic starts only once the migration waits at its gate; the flag after the traffic; the contract after the soak.
    const migrationEvents = r.events.filter((e) => e.startsWith('Migration '));
    expect(migrationEvents).toEqual([MigrationEvent.STARTED, MigrationEvent.BACKFILLED, MigrationEvent.WAITING_FOR_ROLLOUT, MigrationEvent.COMPLETED]);
    const at = (type: string) => r.events.indexOf(type);
    expect(at(MigrationEvent.WAITING_FOR_ROLLOUT)).toBeLessThan(at(ReleasePlanEvent.MIGRATION_READY));
    expect(at(ReleasePlanEvent.MIGRATION_READY)).toBeLessThan(at(ReleasePlanEvent.TRAFFIC_COMPLETED));
    expect(at(ReleasePlanEvent.TRAFFIC_COMPLETED)).toBeLessThan(at(ReleasePlanEvent.FLAG_COMPLETED));
    expect(at(ReleasePlanEvent.FLAG_COMPLETED)).toBeLessThan(at(MigrationEvent.COMPLETED));
    expect(r.events[r.events.length - 1]).toBe(ReleasePlanEvent.COMPLETED);
    expect(r.childStarts.flag - r.childStarts.traffic).toBe(TRAFFIC_MINUTES * MINUTE);
    const soakEntered = r.plan.events.find((e) => e.type === 'StateEntered' && e.state === 'Soak')!;
    const contract = r.plan.events.find((e) => e.type === 'StateEntered' && e.state === 'Complete Migration')!;
    expect(contract.at - soakEntered.at).toBe(60 * MINUTE);
    // Contracted: plan is a column of users, NOT NULL, and the version schemas are gone.
    expect(await columns()).toContain('plan');
    expect((await pg.admin.query(`SELECT status FROM zdt_migrations.migrations WHERE name = 'add_users_plan'`)).rows).toEqual([{ status: 'completed' }]);
  });

  test('a traffic regression: the rollout rolled back, then the plan rolls the migration back; no flag runs', async () => {
    const r = await release(template, {
      traffic: { status: 'FAILED', error: ErrorName.ROLLED_BACK, cause: 'error rate of green 9% above 1%' },
      flag: { status: 'SUCCEEDED' },
    });
    expect(r.plan).toMatchObject({ status: 'FAILED', error: ReleasePlanErrorName.ROLLED_BACK });
    expect(r.plan.cause).toMatch(/^traffic failed \(ZdtRolledBack: error rate of green 9% above 1%\)\. The traffic is back on the stable version/);
    expect(r.childStarts.flag).toBeUndefined();
    // The migration's own execution rolled back, through its gate.
    expect(r.migration).toMatchObject({ status: 'FAILED', error: MigrationErrorName.ROLLBACK_REQUESTED });
    expect(r.events.slice(r.events.indexOf(ReleasePlanEvent.MIGRATION_READY))).toEqual([
      ReleasePlanEvent.MIGRATION_READY, ReleasePlanEvent.ROLLBACK_TRIGGERED, MigrationEvent.ROLLED_BACK, ReleasePlanEvent.ROLLED_BACK,
    ]);
    expect(await columns()).not.toContain('plan');
    expect((await pg.admin.query(`SELECT status FROM zdt_migrations.migrations WHERE name = 'add_users_plan'`)).rows).toEqual([{ status: 'rolled_back' }]);
  });

  test('a flag regression: the flag rolled back, the traffic stays, the migration stays expanded at its gate', async () => {
    const r = await release(template, {
      traffic: { status: 'SUCCEEDED' },
      flag: { status: 'FAILED', error: FlagRolloutErrorName.ROLLED_BACK, cause: 'Flag new-checkout rolled back (judge-fail)' },
    });
    expect(r.plan).toMatchObject({ status: 'FAILED', error: ReleasePlanErrorName.HALTED });
    expect(r.plan.cause).toMatch(/^flag new-checkout failed .*The traffic stays/);
    expect(r.events).not.toContain(ReleasePlanEvent.ROLLBACK_TRIGGERED);
    expect(r.events).toContain(ReleasePlanEvent.HALTED);
    expect(r.states).not.toContain('Complete Migration');
    expect(r.states).not.toContain('Roll Back Migration');
    // Still at its gate (the test's execution ends when its gate times out: the gate's own policy, no rollback).
    expect((await pg.admin.query(`SELECT status, gate_token IS NOT NULL AS waiting FROM zdt_migrations.migrations WHERE name = 'add_users_plan'`)).rows)
      .toEqual([{ status: 'validated', waiting: true }]);
    expect(r.migration).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });

  test('the migration fails before its gate: it rolled itself back, the plan started no traffic and says so; a throttled read was retried', async () => {
    // A column of that name already exists: the migration's start is refused and its execution rolls back.
    await pg.admin.query('ALTER TABLE users ADD COLUMN plan text');
    const r = await release(template, { traffic: { status: 'SUCCEEDED' }, flag: { status: 'SUCCEEDED' } }, { throttleReads: 2 });
    expect(r.migration).toMatchObject({ status: 'FAILED' });
    expect(r.plan).toMatchObject({ status: 'FAILED', error: ReleasePlanErrorName.FAILED });
    expect(r.plan.cause).toMatch(new RegExp(`^migration failed \\(${r.migration.error}: `));
    expect(r.childStarts).toEqual({ migration: 0 });
    expect(r.plan.events.filter((e) => e.type === 'StateRetried' && e.state === 'Read Migration Execution')).toHaveLength(2);
    expect(r.events.filter((e) => e.startsWith('Release '))).toEqual([ReleasePlanEvent.STARTED, ReleasePlanEvent.FAILED]);
  });
});
