/**
 * Migrations an operator can re-run (issue 13): an idempotent start, a start that fails without blocking the
 * schema, errors found at plan rather than after the triggers are live, and dependents found before complete.
 */
import { Client } from 'pg';
import { runBackfill } from '../../lambda/database/backfill';
import { backoffMs, DdlRunner, retryWindowMs } from '../../lambda/database/ddl';
import { MigrationEngine } from '../../lambda/database/engine';
import { MigrationErrorName } from '../../lambda/database/errors';
import { ensureStateSchema } from '../../lambda/database/state';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, usePgDatabase, validated } from './fixtures';
import { PgServer } from './pg-server';

let server: PgServer;
let db: string;
let admin: Client;
const pg = usePgDatabase({ setup: (c) => createUsers(c, 600) });
beforeEach(() => { ({ server, db, admin } = pg); });

const engineOf = (o = {}) => new MigrationEngine(admin, { ...FAST, acknowledgeHighRisk: true, ...o });

async function activeMigrations(): Promise<string[]> {
  const r = await admin.query(`SELECT name FROM zdt_migrations.migrations WHERE status NOT IN ('completed', 'rolled_back')`);
  return r.rows.map((x) => x.name);
}

describe('start is idempotent', () => {
  // Keys deliberately out of jsonb's order (jsonb sorts keys by length, then bytes).
  const m: Migration = {
    operations: [{ up: `CASE WHEN email IS NULL THEN 'invited' ELSE 'active' END`, table: 'users', op: 'addColumn', column: { type: 'text', name: 'status' } }],
    description: 'a description, as every example has',
    name: 'add_status',
  } as unknown as Migration;

  test('a second start of the same definition is a no-op, whatever the order of its keys', async () => {
    const engine = engineOf();
    await engine.start(m);
    await expect(engine.start(m)).resolves.toMatchObject({ status: 'started' });
    await engine.backfill(m.name);
    await expect(engine.start(JSON.parse(JSON.stringify(m)))).resolves.toMatchObject({ status: 'backfilled' });
    await validated(engine, m.name);
  });

  test('a changed definition is still refused', async () => {
    const engine = engineOf();
    await engine.start(m);
    const changed = { ...m, operations: [{ ...m.operations[0], up: `'x'` }] };
    await expect(engine.start(changed)).rejects.toMatchObject({ name: MigrationErrorName.WRONG_STATE, message: expect.stringMatching(/different definition/) });
  });

  test('plan of a started migration says it is started and what start would do now (resume)', async () => {
    const engine = engineOf();
    await engine.start(m);
    const plan = await engine.plan(m);
    expect(plan.warnings.join('\n')).toMatch(/add_status is already started on schema public \(status started\); start resumes it/);
  });
});

describe('a failed start does not block the schema', () => {
  test('an up with a syntax error fails at plan, naming the operation; start leaves nothing behind', async () => {
    const bad: Migration = { name: 'bad_up', operations: [{ op: 'addColumn', table: 'users', column: { name: 'x', type: 'text' }, up: 'upper(name' }] };
    const engine = engineOf();
    await expect(engine.plan(bad)).rejects.toMatchObject({ name: MigrationErrorName.INVALID, message: expect.stringMatching(/operations\[0\] \(addColumn on users\): up .*syntax error/) });
    await expect(engine.start(bad)).rejects.toMatchObject({ name: MigrationErrorName.INVALID });
    expect(await activeMigrations()).toEqual([]);
    await engine.start({ name: 'good', operations: [{ op: 'addColumn', table: 'users', column: { name: 'x', type: 'text' } }] });
  });

  test('a malformed type and an unknown column in up fail at plan', async () => {
    const engine = engineOf();
    await expect(engine.plan({ name: 'bad_type', operations: [{ op: 'addColumn', table: 'users', column: { name: 'x', type: 'txet' } }] }))
      .rejects.toThrow(/operations\[0\] \(addColumn on users\): column.type .*type "txet" does not exist/);
    await expect(engine.plan({ name: 'bad_col', operations: [{ op: 'changeColumnType', table: 'users', column: 'price_cents', type: 'bigint', up: 'prise_cents * 2' }] }))
      .rejects.toThrow(/operations\[0\] \(changeColumnType on users\): up .*column "prise_cents" does not exist/);
    await expect(engine.plan({ name: 'bad_down', operations: [{ op: 'changeColumnType', table: 'users', column: 'price_cents', type: 'numeric', up: 'price_cents / 100.0', down: 'round(price_cents * 100' }] }))
      .rejects.toThrow(/operations\[0\] \(changeColumnType on users\): down .*syntax error/);
  });

  test('a start that fails after its DDL (a unique index over duplicates) undoes itself and says so', async () => {
    await admin.query(`UPDATE users SET email = 'same@example.com' WHERE id IN (1, 2)`);
    const engine = engineOf();
    const m: Migration = { name: 'unique_email', operations: [{ op: 'addUnique', table: 'users', name: 'users_email_key', columns: ['email'] }] };
    await expect(engine.start(m)).rejects.toMatchObject({ name: MigrationErrorName.INVALID, message: expect.stringMatching(/start of unique_email was rolled back/) });
    expect(await activeMigrations()).toEqual([]);
    expect((await admin.query(`SELECT to_regclass('public.users_email_key') AS i`)).rows[0].i).toBeNull();
  });

  test('a start that met a lock timeout left nothing: a retry starts it (as the state machine\'s retry does)', async () => {
    const holder = await server.connect(db);
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM users');
    const m: Migration = { name: 'add_bio', description: 'keys in any order', operations: [{ op: 'addColumn', table: 'users', column: { name: 'bio', type: 'text' } }] };
    await expect(engineOf({ lockTimeoutMs: 20, maxAttempts: 2, retryBaseDelayMs: 1, retryMaxDelayMs: 2 }).start(m)).rejects.toMatchObject({ name: MigrationErrorName.LOCK_TIMEOUT });
    expect(await activeMigrations()).toEqual([]);
    await holder.query('COMMIT');
    await expect(engineOf().start(m)).resolves.toMatchObject({ status: 'started' });
  });
});

describe('column names', () => {
  test('a legal quoted column name with regular-expression characters does not crash start', async () => {
    await admin.query(`ALTER TABLE users ADD COLUMN "legacy(code" text DEFAULT 'L1'`);
    const engine = engineOf();
    const m: Migration = { name: 'code_copy', operations: [{ op: 'addColumn', table: 'users', column: { name: 'code', type: 'text' }, up: `lower("legacy(code")` }] };
    await engine.start(m);
    await admin.query(`INSERT INTO users (name, "legacy(code") VALUES ('old writer', 'ABC')`);
    expect((await admin.query(`SELECT code FROM users WHERE name = 'old writer'`)).rows[0].code).toBe('abc');
    await engine.backfill(m.name);
    await validated(engine, m.name);
  });
});

describe('a bad up never goes live', () => {
  const toInt: Migration = { name: 'email_to_int', operations: [{ op: 'changeColumnType', table: 'users', column: 'email', type: 'integer' }] };

  test('a conversion that fails on existing data is refused at plan and start, naming the column, a value and the row; the old version keeps writing', async () => {
    const engine = engineOf();
    const message = /operations\[0\] \(changeColumnType on users\): up fails on existing rows of public\.users: invalid input syntax for type integer: "u1@example\.com" \(row id=1, email="u1@example\.com"\)/;
    await expect(engine.plan(toInt)).rejects.toThrow(message);
    await expect(engine.start(toInt)).rejects.toMatchObject({ name: MigrationErrorName.INVALID, message: expect.stringMatching(message) });
    expect(await activeMigrations()).toEqual([]);
    await admin.query(`INSERT INTO users (name, email) VALUES ('old app', 'still@works')`);
  });

  test('the failing row is found however far into the table it is', async () => {
    await admin.query(`UPDATE users SET email = id::text`);
    await admin.query(`UPDATE users SET email = 'oops' WHERE id = 437`);
    await expect(engineOf().plan(toInt)).rejects.toThrow(/"oops" \(row id=437, email="oops"\)/);
  });

  test('a backfill failure on data (22xxx) is a clear validation error naming the table and the key', async () => {
    const ddl = new DdlRunner(admin, FAST);
    await ensureStateSchema(admin);
    await expect(runBackfill(ddl, 'public', 'm', [{ table: 'users', set: [{ column: 'price_cents', value: 'price_cents / (id - 300)' }] }], { batchSize: 100, batchTargetMs: 0 }))
      .rejects.toMatchObject({ name: MigrationErrorName.VALIDATION_FAILED, message: expect.stringMatching(/Backfill of public\.users after key \["200"\]: .*division by zero \(SQLSTATE 22012\)/) });
  });
});

describe('dependent objects are found at plan', () => {
  test('dropping a column a view uses is refused at plan and start, naming the view', async () => {
    await admin.query(`CREATE VIEW active_users AS SELECT id, email FROM users`);
    const m: Migration = { name: 'drop_email', operations: [{ op: 'dropColumn', table: 'users', column: 'email' }] };
    await expect(engineOf().plan(m)).rejects.toThrow(/operations\[0\] \(dropColumn on users\): .*view public\.active_users depends on users\.email/);
    await expect(engineOf().start(m)).rejects.toMatchObject({ name: MigrationErrorName.INVALID });
    expect(await activeMigrations()).toEqual([]);
  });

  test('retyping a column a view uses, dropping a table a view uses, and a column a foreign key references are refused', async () => {
    await admin.query(`CREATE VIEW prices AS SELECT price_cents FROM users`);
    await admin.query(`ALTER TABLE users ADD CONSTRAINT users_email_uq UNIQUE (email)`);
    await admin.query(`CREATE TABLE invites (id serial PRIMARY KEY, email text REFERENCES users (email))`);
    await admin.query(`CREATE TABLE audit (id serial PRIMARY KEY); CREATE VIEW audit_ids AS SELECT id FROM audit`);
    await expect(engineOf().plan({ name: 'retype', operations: [{ op: 'changeColumnType', table: 'users', column: 'price_cents', type: 'bigint' }] }))
      .rejects.toThrow(/view public\.prices depends on users\.price_cents/);
    await expect(engineOf().plan({ name: 'drop_email', operations: [{ op: 'dropColumn', table: 'users', column: 'email' }] }))
      .rejects.toThrow(/constraint invites_email_fkey on table public\.invites depends on users\.email/);
    await expect(engineOf().plan({ name: 'drop_audit', operations: [{ op: 'dropTable', table: 'audit' }] }))
      .rejects.toThrow(/view public\.audit_ids depends on audit/);
  });

  test('the views of earlier migrations\' version schemas are not dependents (they are dropped at complete)', async () => {
    const engine = engineOf();
    const first: Migration = { name: 'rename_name', operations: [{ op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' }] };
    await engine.start(first);
    await engine.backfill(first.name);
    await validated(engine, first.name);
    await engine.complete(first.name);
    const drop: Migration = { name: 'drop_email', operations: [{ op: 'dropColumn', table: 'users', column: 'email' }] };
    await engine.start(drop);
    await engine.backfill(drop.name);
    await validated(engine, drop.name);
    await engine.complete(drop.name);
  });
});

describe('lock timeout settings', () => {
  test('lockTimeoutMs 0 (no timeout in PostgreSQL) is refused by the engine', () => {
    expect(() => new MigrationEngine(admin, { lockTimeoutMs: 0 })).toThrow(/lockTimeoutMs must be a whole number of milliseconds of at least 1 \(0 means no timeout in PostgreSQL\), got 0/);
  });

  test('the retry window is bounded: every backoff is between half and all of its cap', () => {
    const random = jest.spyOn(Math, 'random');
    random.mockReturnValue(0);
    expect([0, 1, 5, 9].map((n) => backoffMs(n, 200, 5000))).toEqual([100, 200, 2500, 2500]);
    random.mockReturnValue(0.999999);
    expect([0, 1, 5, 9].map((n) => backoffMs(n, 200, 5000))).toEqual([200, 400, 5000, 5000]);
    random.mockRestore();
    // With the defaults: 10 attempts of 500 ms lock waits and 9 backoffs.
    expect(retryWindowMs({})).toEqual({ minMs: 18_100, maxMs: 31_200 });
  });
});

describe('plan while another migration is active', () => {
  test('says which migration is active', async () => {
    const engine = engineOf();
    await engine.start({ name: 'first', operations: [{ op: 'addColumn', table: 'users', column: { name: 'x', type: 'text' } }] });
    const plan = await engine.plan({ name: 'second', operations: [{ op: 'addColumn', table: 'users', column: { name: 'y', type: 'text' } }] });
    expect(plan.activeMigration).toEqual({ name: 'first', status: 'started' });
    expect(plan.warnings.join('\n')).toMatch(/migration first is started on schema public: start of second is refused until first is completed or rolled back/);
  });
});

