/**
 * The SchemaMigration state machine, executed: the synthesized definition runs in the rehearsal runner with the
 * real migration handler bound in-process against a real PostgreSQL, Secrets Manager mocked with the server's
 * credentials, and the rehearsal's AWS fakes behind the other SDK clients. The gate's task token is released the way
 * the application rollout's completion releases it: "Rollout Completed" reaches EventBridge, the stack's rule invokes
 * its target (the migration handler's releaseGate), whose SendTaskSuccess reaches the fake Step Functions API, which
 * answers the waiting execution.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { setClock } from '../../lambda/shared/clock';
import { EVENT_SOURCE, RolloutEvent } from '../../lambda/shared/contracts';
import { BackfillBatchResult, MigrationEvent } from '../../lambda/database/migration-contract';
import { MigrationErrorName } from '../../lambda/database/errors';
import { Migration } from '../../lambda/database/types';
import { SchemaMigration, SchemaMigrationProps } from '../../lib/database/schema-migration';
import { DatabaseTls } from '../../lib/database/database-tls';
import { importedRollout } from '../constructs/fixtures';
import {
  bindHandlers, CfnTemplate, IntegrationHandler, LambdaFunctionHandler, RunResult, runStateMachine, stateMachineOf,
  TimelineEvent, VirtualClock,
} from '../../rehearsal';
import { AwsFakes, PutEventsParams } from '../../rehearsal/fakes';
import { eventRulesOf, SimulatedEventBridge } from '../../rehearsal/simulation-events';
import { createExampleUsers, usePgDatabase } from './fixtures';
import { PG_PASSWORD, PG_USER, PgServer } from './pg-server';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'migrations');
const ROWS = 1000;
/** Rows per batch: 1,000 rows make ten batches. */
const BATCH_SIZE = 100;
/** Virtual pause between batches and the invocation budget: three batches per Backfill invocation. */
const BATCH_DELAY = Duration.seconds(5);
const INVOCATION_BUDGET = Duration.seconds(10);
/** How long the application rollout takes before it completes and releases the gate (virtual). */
const ROLLOUT_MINUTES = 30;
const MS_PER_MINUTE = 60_000;

const secrets = mockClient(SecretsManagerClient);

const pg = usePgDatabase({
  setup: (c) => createExampleUsers(c, ROWS),
});
let server: PgServer;
beforeEach(() => { server = pg.server; });
afterAll(() => { secrets.restore(); });
beforeEach(() => {
  secrets.reset();
});

/** The stack a user would write: the database's VPC and secret, and a SchemaMigration released by the rollout of "web". */
function synth(migration: Migration, props: Partial<SchemaMigrationProps> = {}): CfnTemplate {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Data');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const secret = new secretsmanager.Secret(stack, 'DbSecret');
  const m = new SchemaMigration(stack, 'Migration', {
    vpc, secret, migration, tls: DatabaseTls.DISABLE, batchSize: BATCH_SIZE, batchDelay: BATCH_DELAY, backfillInvocationBudget: INVOCATION_BUDGET, ...props,
  });
  m.completeAfterRollout(importedRollout(stack, 'web'));
  return Template.fromStack(stack).toJSON() as CfnTemplate;
}

interface Execution {
  readonly result: RunResult;
  readonly putEvents: { DetailType: string; Detail: Record<string, unknown> }[];
  readonly backfillOutputs: BackfillBatchResult[];
  /** Tokens answered through the Step Functions API (SendTaskSuccess), with what was sent. */
  readonly releasedTokens: string[];
  /** What the rule's target (the migration handler) returned. */
  readonly releaseResults: unknown[];
}

/**
 * Runs the state machine on a virtual clock. `afterBackfill` runs between Backfill invocations (application writes
 * while the migration is under way). When the gate waits, the application rollout takes ROLLOUT_MINUTES, then its
 * "Rollout Completed" event goes onto the bus; the stack's rule invokes the migration handler (releaseGate), whose
 * SendTaskSuccess answers the token through the fake Step Functions API. The operator model (taskTokens) answers
 * nothing itself.
 */
async function execute(template: CfnTemplate, db: string, afterBackfill: (result: BackfillBatchResult) => Promise<void>,
  afterError: (action: string, err: Error) => Promise<void> = async () => undefined): Promise<Execution> {
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ host: '127.0.0.1', port: server.port, username: PG_USER, password: PG_PASSWORD, dbname: db, engine: 'postgres' }),
  });
  const bound = bindHandlers(template, {}, { environment: { ZDT_LOG_LEVEL: 'silent' } });
  const backfillOutputs: BackfillBatchResult[] = [];
  const lambdas = new Map<string, LambdaFunctionHandler>([...bound].map(([name, fn]) => [name, async (payload, invocation) => {
    let out: unknown;
    try {
      out = await fn(payload, invocation);
    } catch (err) {
      await afterError((payload as { action?: string }).action ?? '', err as Error);
      throw err;
    }
    if ((payload as { action?: string }).action === 'backfillBatch') {
      backfillOutputs.push(out as BackfillBatchResult);
      await afterBackfill(out as BackfillBatchResult);
    }
    return out;
  }]));
  const clock = new VirtualClock();
  const restore = setClock(clock);
  const aws = new AwsFakes({ clock }).install();
  const bus = new SimulatedEventBridge({
    clock, region: aws.region, accountId: aws.accountId, rules: eventRulesOf('Data', template),
    lambda: (_stack, functionName) => (bound.has(functionName) ? { handler: bound.get(functionName)!, handlerName: 'migration' } : undefined),
  });
  const stopDelivering = aws.events.onDeliver((_params, _result, accepted) => bus.accepted(accepted));
  const recordEvents: IntegrationHandler = (params) => aws.events.putEvents(params as PutEventsParams);
  try {
    const result = await runStateMachine({
      definition: stateMachineOf(template).definition,
      clock,
      lambdas,
      integrations: { 'events:putEvents': recordEvents },
      stepFunctions: aws.stepfunctions,
      taskTokens: async () => {
        await clock.sleep(ROLLOUT_MINUTES * MS_PER_MINUTE);
        await aws.events.putEvents({ Entries: [{ Source: EVENT_SOURCE, DetailType: RolloutEvent.COMPLETED, Detail: JSON.stringify({ service: 'web', outcome: 'released' }) }] });
        await bus.drain();
        return undefined;
      },
    });
    const putEvents = aws.events.events().filter((e) => e.detailType !== RolloutEvent.COMPLETED).map((e) => ({ DetailType: e.detailType, Detail: e.detail }));
    const releasedTokens = aws.stepfunctions.tasks().filter((t) => t.status === 'SUCCEEDED' && t.answeredBy === 'api').map((t) => t.token);
    return { result, putEvents, backfillOutputs, releasedTokens, releaseResults: bus.invocations.map((i) => i.result ?? i.error) };
  } finally {
    stopDelivering();
    aws.restore();
    restore();
  }
}

function statesEntered(events: readonly TimelineEvent[]): string[] {
  return events.filter((e) => e.type === 'StateEntered').map((e) => e.state!);
}

/** The states in order, with consecutive repeats of the backfill loop folded into one "Backfill×n". */
function path(events: readonly TimelineEvent[]): string[] {
  const out: string[] = [];
  for (const s of statesEntered(events)) {
    if (s === 'BackfillDone?') continue;
    const last = out[out.length - 1];
    if (s === 'Backfill' && last?.startsWith('Backfill')) out[out.length - 1] = `Backfill×${Number(last.split('×')[1] ?? 1) + 1}`;
    else out.push(s);
  }
  return out.map((s) => (s === 'Backfill' ? 'Backfill×1' : s));
}

/** The test's database: the example schema with ROWS users (usePgDatabase's template). */
async function usersTable(): Promise<{ db: string; admin: Client }> {
  return { db: pg.db, admin: pg.admin };
}

describe('SchemaMigration state machine, executed on a real PostgreSQL', () => {
  test('start -> backfill loop -> validate -> gate released by the rollout -> complete, with both versions writing meanwhile', async () => {
    const migration = JSON.parse(readFileSync(join(EXAMPLES, '003_add_users_plan.json'), 'utf8')) as Migration;
    const template = synth(migration);
    const { db, admin } = await usersTable();
    const oldApp = await server.connect(db, { applicationName: 'app-old' });
    const newApp = await server.connect(db, { applicationName: 'app-new' });
    await newApp.query('SET search_path = public_add_users_plan');
    let writes = 0;

    const { result, putEvents, backfillOutputs, releasedTokens, releaseResults } = await execute(template, db, async () => {
      // Between invocations, both application versions write: the old one knows nothing of plans (its trial
      // users must get 'trial' from the up trigger), the new one sets plans itself.
      writes++;
      await oldApp.query(`INSERT INTO users (name, email, trial_ends_at) VALUES ($1, $2, now() + interval '7 days')`, [`old ${writes}`, `old${writes}@example.com`]);
      await oldApp.query(`UPDATE users SET trial_ends_at = now() + interval '3 days' WHERE id = $1`, [writes * 7]);
      await newApp.query(`INSERT INTO users (name, email, plan) VALUES ($1, $2, 'pro')`, [`new ${writes}`, `new${writes}@example.com`]);
    });

    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(path(result.events)).toEqual([
      'Start', 'EmitStarted', `Backfill×${backfillOutputs.length}`, 'EmitBackfilled', 'Validate', 'EmitWaiting', 'WaitForRollout', 'Complete', 'EmitCompleted', 'Completed',
    ]);
    // Several invocations, each resuming from the checkpoint the last one committed and handed to the execution state.
    expect(backfillOutputs.length).toBeGreaterThanOrEqual(3);
    const rowsDone = backfillOutputs.map((o) => o.rowsDone);
    expect(rowsDone).toEqual([...rowsDone].sort((a, b) => a - b));
    expect(new Set(rowsDone).size).toBe(rowsDone.length);
    expect(backfillOutputs.map((o) => o.done)).toEqual([...backfillOutputs.slice(1).map(() => false), true]);
    expect(rowsDone[rowsDone.length - 1]).toBe(ROWS);
    const backfillExits = result.events.filter((e) => e.type === 'StateExited' && e.state === 'Backfill');
    expect(backfillExits.map((e) => (e.output as { backfill: BackfillBatchResult }).backfill)).toEqual(backfillOutputs);
    expect(backfillOutputs[0].checkpoint).toEqual([{ table: 'users', lastKey: [String(backfillOutputs[0].rowsDone)], rowsDone: backfillOutputs[0].rowsDone, done: false }]);

    // The gate waited for the rollout (virtual time), and the rule's target released it with the token the execution issued.
    const issued = result.events.find((e) => e.type === 'TaskTokenIssued')!;
    expect(releasedTokens).toEqual([issued.taskToken]);
    expect(releaseResults).toEqual([{ released: 'add_users_plan' }]);
    const gateEntered = result.events.find((e) => e.type === 'StateEntered' && e.state === 'WaitForRollout')!;
    const completeEntered = result.events.find((e) => e.type === 'StateEntered' && e.state === 'Complete')!;
    expect(completeEntered.at - gateEntered.at).toBeGreaterThanOrEqual(ROLLOUT_MINUTES * MS_PER_MINUTE);
    expect(result.output).toMatchObject({ gate: { released: true, reason: 'Rollout Completed for web' }, complete: { migration: 'add_users_plan', status: 'completed' } });

    expect(putEvents.map((e) => e.DetailType)).toEqual([MigrationEvent.STARTED, MigrationEvent.BACKFILLED, MigrationEvent.WAITING_FOR_ROLLOUT, MigrationEvent.COMPLETED]);
    expect(putEvents[1].Detail).toMatchObject({ rowsDone: ROWS });
    for (const e of putEvents) expect(e.Detail).toMatchObject({ migration: 'add_users_plan', schema: 'public', execution: result.executionArn });

    // Contracted: plan is NOT NULL and right for every row, old, new and backfilled.
    const plans = (await admin.query(`SELECT
        count(*)::int AS total,
        count(*) FILTER (WHERE plan = 'pro')::int AS pro,
        count(*) FILTER (WHERE plan IS DISTINCT FROM CASE WHEN trial_ends_at IS NOT NULL THEN 'trial' ELSE 'free' END AND plan <> 'pro')::int AS wrong
      FROM users`)).rows[0];
    expect(plans).toEqual({ total: ROWS + 2 * writes, pro: writes, wrong: 0 });
    const column = (await admin.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'plan'`)).rows[0];
    expect(column.attnotnull).toBe(true);
    const leftovers = (await admin.query(`SELECT (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal)::int AS triggers,
      (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'users_plan_idx' AND i.indisvalid)::int AS index`)).rows[0];
    expect(leftovers).toEqual({ triggers: 0, index: 1 });
  });

  test('a Start that meets a lock timeout left nothing behind: the state machine\'s retry starts it and the migration completes', async () => {
    const migration = JSON.parse(readFileSync(join(EXAMPLES, '003_add_users_plan.json'), 'utf8')) as Migration;
    // One attempt per invocation: the lock timeout reaches the state machine, whose Retry runs Start again.
    const template = synth(migration, { lockTimeout: Duration.millis(10), maxLockAttempts: 1 });
    const { db, admin } = await usersTable();
    const report = await server.connect(db, { applicationName: 'long-report' });
    await report.query('BEGIN');
    await report.query('SELECT count(*) FROM users');
    const failures: string[] = [];
    const { result } = await execute(template, db, async () => undefined, async (action, err) => {
      failures.push(`${action}: ${err.name}`);
      if (action === 'start') await report.query('COMMIT');
    });
    expect(failures).toEqual([`start: ${MigrationErrorName.LOCK_TIMEOUT}`]);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect((await admin.query(`SELECT status FROM zdt_migrations.migrations WHERE name = 'add_users_plan'`)).rows).toEqual([{ status: 'completed' }]);
  });

  test('a failure before the gate rolls back: every write of both versions is kept, and the events say so in order', async () => {
    // Legacy rows without a city: the NOT NULL region the migration adds cannot be computed for them.
    const migration: Migration = {
      name: 'add_users_region',
      operations: [{ op: 'addColumn', table: 'users', column: { name: 'region', type: 'text', nullable: false }, up: `'EU-' || city` }],
    };
    const template = synth(migration);
    const { db, admin } = await usersTable();
    const FIRST_CITYLESS = 450;
    await admin.query(`UPDATE users SET city = NULL WHERE id >= $1 AND id % 50 = 0`, [FIRST_CITYLESS]);
    const before = (await admin.query(`SELECT md5(string_agg(u::text, ',' ORDER BY id)) AS sum FROM users u`)).rows[0].sum;
    const oldApp = await server.connect(db, { applicationName: 'app-old' });
    const newApp = await server.connect(db, { applicationName: 'app-new' });
    await newApp.query('SET search_path = public_add_users_region');
    const written: { email: string; city: string | null; name: string }[] = [];

    const { result, putEvents, backfillOutputs } = await execute(template, db, async () => {
      const n = written.length;
      // The new version sets region itself; the old version's rows get it from the up trigger.
      await newApp.query(`INSERT INTO users (name, email, city, region) VALUES ($1, $2, 'Lyon', 'EU-FR')`, [`new ${n}`, `new${n}@example.com`]);
      written.push({ name: `new ${n}`, email: `new${n}@example.com`, city: 'Lyon' });
      await oldApp.query(`INSERT INTO users (name, email, city) VALUES ($1, $2, 'Oslo')`, [`old ${n}`, `old${n}@example.com`]);
      written.push({ name: `old ${n}`, email: `old${n}@example.com`, city: 'Oslo' });
    });

    expect(result).toMatchObject({ status: 'FAILED', error: 'ZdtMigrationValidationFailed' });
    // The cause is the Lambda error as Step Functions reports it: { errorType, errorMessage, trace }.
    expect(JSON.parse(result.cause!)).toMatchObject({
      errorType: MigrationErrorName.VALIDATION_FAILED,
      errorMessage: expect.stringMatching(/^Backfill of public\.users after key \["\d+"\]: expected the up expressions to produce values the table accepts, but new row for relation "users" violates check constraint/),
    });
    expect(path(result.events)).toEqual(['Start', 'EmitStarted', `Backfill×${backfillOutputs.length + 1}`, 'Rollback', 'EmitRolledBack', 'MigrationRolledBack']);
    // The loop had made progress (checkpointed batches) before the failing batch.
    expect(backfillOutputs.length).toBeGreaterThanOrEqual(1);
    const lastGood = backfillOutputs[backfillOutputs.length - 1];
    expect(lastGood.done).toBe(false);
    expect(lastGood.rowsDone).toBeGreaterThan(0);
    expect(lastGood.rowsDone).toBeLessThan(FIRST_CITYLESS);
    expect(putEvents.map((e) => e.DetailType)).toEqual([MigrationEvent.STARTED, MigrationEvent.ROLLED_BACK]);
    expect(putEvents[1].Detail).toMatchObject({ migration: 'add_users_region', error: MigrationErrorName.VALIDATION_FAILED });

    // Rolled back: no region column, no version schema, no trigger; the original rows untouched...
    const shape = (await admin.query(`SELECT
        (SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'region' AND NOT attisdropped)::int AS region,
        (SELECT count(*) FROM pg_namespace WHERE nspname = 'public_add_users_region')::int AS version_schema,
        (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal)::int AS triggers`)).rows[0];
    expect(shape).toEqual({ region: 0, version_schema: 0, triggers: 0 });
    const after = (await admin.query(`SELECT md5(string_agg(u::text, ',' ORDER BY id)) AS sum FROM users u WHERE id <= $1`, [ROWS])).rows[0].sum;
    expect(after).toBe(before);
    // ...and every row either version wrote during the migration is there, as written.
    const rows = (await admin.query(`SELECT name, email, city FROM users WHERE id > $1 ORDER BY id`, [ROWS])).rows;
    expect(rows).toEqual(written);
    expect(written.length).toBeGreaterThanOrEqual(2);
  });
});
