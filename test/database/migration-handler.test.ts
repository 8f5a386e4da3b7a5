/** The migration Lambda against a real PostgreSQL, with Secrets Manager and Step Functions mocked. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { Client } from 'pg';
import { CONFIG_ENV, ErrorName } from '../../lambda/shared/contracts';
import { MigrationErrorName } from '../../lambda/database/errors';
import { MigrationHandlerConfig } from '../../lambda/database/migration-contract';
import { handler } from '../../lambda/database/migration-handler';
import { Migration } from '../../lambda/database/types';
import { createUsers, usePgDatabase } from './fixtures';
import { PG_PASSWORD, PG_USER, PgServer } from './pg-server';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);

let server: PgServer;
let db: string;
let admin: Client;
const pg = usePgDatabase({ setup: (c) => createUsers(c, 1000) });

const migration: Migration = {
  name: 'full_name',
  operations: [{ op: 'addColumn', table: 'users', column: { name: 'full_name', type: 'text', nullable: false }, up: 'name' }],
};

function configure(overrides: Partial<MigrationHandlerConfig> = {}) {
  const config: MigrationHandlerConfig = {
    secretArn: SECRET_ARN, schema: 'public', batchSize: 300, batchDelayMs: 0, lockTimeoutMs: 200, statementTimeoutMs: 60_000,
    maxLockAttempts: 5, acknowledgeHighRisk: false, acknowledgeLogicalReplication: false, backfillTimeBudgetMs: 0, tls: 'disable', ...overrides,
  };
  process.env[CONFIG_ENV] = JSON.stringify(config);
}

beforeEach(async () => {
  secrets.reset();
  sfn.reset();
  ({ server, db, admin } = pg);
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
    SecretString: JSON.stringify({ host: '127.0.0.1', port: server.port, username: PG_USER, password: PG_PASSWORD, dbname: db, engine: 'postgres' }),
  });
  configure();
});
afterEach(() => { delete process.env[CONFIG_ENV]; });

describe('migration handler', () => {
  test('runs the lifecycle the state machine drives: start, backfill loop, validate, gate, release, complete', async () => {
    await expect(handler({ action: 'start', migration })).resolves.toMatchObject({ migration: 'full_name', status: 'started', risk: 'low', versionSchema: 'public_full_name' });
    const results = [];
    for (;;) {
      const r = await handler({ action: 'backfillBatch', migration }) as { done: boolean; rowsDone: number };
      results.push(r);
      if (r.done) break;
    }
    // A zero time budget runs one batch per invocation: the state machine loops with the checkpoint.
    expect(results.map((r) => r.rowsDone)).toEqual([300, 600, 900, 1000]);
    await expect(handler({ action: 'validate', migration })).resolves.toMatchObject({ ok: true });
    await expect(handler({ action: 'waitGate', migration, taskToken: 'token-123' })).resolves.toEqual({ migration: 'full_name', waiting: true });
    sfn.on(SendTaskSuccessCommand).resolves({});
    await expect(handler({ action: 'releaseGate', reason: 'Rollout Completed for web' })).resolves.toEqual({ released: 'full_name' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input).toMatchObject({ taskToken: 'token-123' });
    await expect(handler({ action: 'releaseGate' })).resolves.toEqual({ released: null });
    await expect(handler({ action: 'complete', migration })).resolves.toEqual({ migration: 'full_name', status: 'completed' });
    expect((await admin.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'full_name'`)).rows[0].attnotnull).toBe(true);
  });

  test('uses the migration of its configuration when the request carries none', async () => {
    configure({ migration });
    await expect(handler({ action: 'start' })).resolves.toMatchObject({ migration: 'full_name' });
    await expect(handler({ action: 'status' })).resolves.toMatchObject({ migration: 'full_name', status: 'started' });
  });

  test('fails validation with a named error the state machine catches, and rollback undoes the expand', async () => {
    const cheap: Migration = { name: 'cheap', operations: [{ op: 'addCheck', table: 'users', name: 'users_price_cap', check: 'price_cents < 500' }] };
    await handler({ action: 'start', migration: cheap });
    await handler({ action: 'backfillBatch', migration: cheap });
    await expect(handler({ action: 'validate', migration: cheap })).rejects.toMatchObject({
      name: MigrationErrorName.VALIDATION_FAILED,
      message: expect.stringMatching(/Migration cheap failed validation: check users_price_cap holds: constraint users_price_cap on public.users does not hold for existing rows/),
    });
    await expect(handler({ action: 'rollback', migration: cheap })).resolves.toEqual({ migration: 'cheap', status: 'rolled_back' });
    expect((await admin.query(`SELECT 1 FROM pg_constraint WHERE conname = 'users_price_cap'`)).rowCount).toBe(0);
  });

  test('a gate whose execution is gone is forgotten', async () => {
    await handler({ action: 'start', migration });
    configure({ backfillTimeBudgetMs: 60_000 });
    await handler({ action: 'backfillBatch', migration });
    await handler({ action: 'validate', migration });
    await handler({ action: 'waitGate', migration, taskToken: 'expired' });
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));
    await expect(handler({ action: 'releaseGate' })).resolves.toEqual({ released: null, staleToken: 'full_name' });
    await expect(handler({ action: 'status', migration })).resolves.toMatchObject({ waitingForGate: false });
  });

  test('rejectGate answers the waiting gate with a rollback request (a release plan whose traffic rolled back), once', async () => {
    await handler({ action: 'start', migration });
    configure({ backfillTimeBudgetMs: 60_000 });
    await handler({ action: 'backfillBatch', migration });
    await handler({ action: 'validate', migration });
    await handler({ action: 'waitGate', migration, taskToken: 'token-9' });
    sfn.on(SendTaskFailureCommand).resolves({});
    await expect(handler({ action: 'rejectGate', reason: 'traffic rolled back' })).resolves.toEqual({ released: null, rejected: 'full_name' });
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'token-9', error: MigrationErrorName.ROLLBACK_REQUESTED, cause: 'traffic rolled back' },
    ]);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    await expect(handler({ action: 'rejectGate' })).resolves.toEqual({ released: null });
  });

  test('cancel stops a backfill running in another invocation (its query cancelled, matched by SQLSTATE 57014); the next backfill resumes and validates', async () => {
    configure({ lockTimeoutMs: 30_000, backfillTimeBudgetMs: 60_000 });
    await handler({ action: 'start', migration });
    // A row the backfill needs is locked: the running batch waits in its UPDATE, where only a query cancel stops it.
    const blocker = await server.connect(db);
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM users WHERE id = 500 FOR UPDATE');
    const running = handler({ action: 'backfillBatch', migration });
    const waiting = async () => (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE application_name = 'cdk-zero-downtime-migration' AND wait_event_type = 'Lock'`)).rows[0].n === 1;
    for (let i = 0; i < 200 && !await waiting(); i++) await new Promise((r) => setTimeout(r, 25));
    await expect(handler({ action: 'cancel', graceMs: 0 })).resolves.toMatchObject({ running: true, migration: 'full_name', cancelledQuery: true });
    await expect(running).rejects.toMatchObject({ name: MigrationErrorName.CANCELLED });
    await blocker.query('ROLLBACK');
    await expect(handler({ action: 'cancel' })).resolves.toEqual({ running: false, migration: 'full_name', pid: null, cancelledQuery: false });
    await expect(handler({ action: 'backfillBatch', migration })).resolves.toMatchObject({ done: true, rowsDone: 1000 });
    await expect(handler({ action: 'validate', migration })).resolves.toMatchObject({ ok: true });
  });

  test('a statement timeout (also SQLSTATE 57014) is not taken for a cancel, and a bad graceMs is refused naming the field', async () => {
    configure({ lockTimeoutMs: 30_000, statementTimeoutMs: 1_000, backfillTimeBudgetMs: 60_000 });
    await handler({ action: 'start', migration });
    const blocker = await server.connect(db);
    await blocker.query('BEGIN');
    await blocker.query('SELECT * FROM users WHERE id = 500 FOR UPDATE');
    await expect(handler({ action: 'backfillBatch', migration })).rejects.toMatchObject({ message: expect.stringMatching(/statement timeout/) });
    await blocker.query('ROLLBACK');
    await expect(handler({ action: 'cancel', graceMs: -1 })).rejects.toMatchObject({ name: ErrorName.INVALID_REQUEST, message: 'cancel: graceMs must be an integer from 0 to 60000 (ms), got -1' });
  });

  test('a malformed secret is an error naming the secret and the missing fields', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ host: 'db' }) });
    await expect(handler({ action: 'status', migration })).rejects.toMatchObject({
      name: ErrorName.INVALID_REQUEST,
      message: `Secret ${SECRET_ARN}: expected fields host, username, password (and port, dbname), missing username, password`,
    });
  });

  test('a throttled Secrets Manager call is retryable', async () => {
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(handler({ action: 'status', migration })).rejects.toMatchObject({ name: ErrorName.RETRYABLE });
  });
});
