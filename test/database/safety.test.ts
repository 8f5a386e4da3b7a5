/**
 * DDL safety, the migration lock, rollback after a partial backfill and the plan of a destructive migration.
 */
import { Client } from 'pg';
import { MigrationEngine } from '../../lambda/database/engine';
import { MigrationErrorName } from '../../lambda/database/errors';
import { formatPlan } from '../../lambda/database/plan';
import { ADVISORY_LOCK_CLASS } from '../../lambda/database/state';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, usePgDatabase, versions } from './fixtures';
import { PgServer } from './pg-server';

let server: PgServer;
let db: string;
let admin: Client;
const pg = usePgDatabase({ setup: (c) => createUsers(c, 1000) });
beforeEach(() => { ({ server, db, admin } = pg); });

const addColumn: Migration = { name: 'add_bio', operations: [{ op: 'addColumn', table: 'users', column: { name: 'bio', type: 'text' } }] };

/** Inserts in a loop until stopped; `count()` is how many inserts have completed so far. */
function writer(c: Client) {
  let running = true;
  let count = 0;
  const done = (async () => {
    while (running) {
      await c.query(`INSERT INTO users (name) VALUES ('writer')`);
      count++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { pid: (c as unknown as { processID: number }).processID, count: () => count, stop: async () => { running = false; await done; return count; } };
}

/** Holds ACCESS SHARE on users (a long report query in an open transaction) until `release()`. */
async function holdReadLock(): Promise<{ pid: number; release: () => Promise<void> }> {
  const holder = await server.connect(db, { applicationName: 'long-report' });
  await holder.query('BEGIN');
  await holder.query('SELECT count(*) FROM users');
  return { pid: (holder as unknown as { processID: number }).processID, release: async () => { await holder.query('COMMIT'); } };
}

/**
 * Polls until `condition` holds. Not a timing assertion: the limit only turns a condition that never comes into a
 * failure naming it (and stops polling), well inside the test's own timeout.
 */
async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const giveUp = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The sessions that block `pid`'s lock request now (pg_blocking_pids). */
async function blockers(observer: Client, pid: number): Promise<number[]> {
  return (await observer.query('SELECT pg_blocking_pids($1) AS pids', [pid])).rows[0].pids;
}

/** Whether `pid` holds a granted lock on users (in pg_locks). */
async function holdsLockOnUsers(observer: Client, pid: number): Promise<boolean> {
  return ((await observer.query(`SELECT 1 FROM pg_locks WHERE pid = $1 AND relation = 'users'::regclass AND granted`, [pid])).rowCount ?? 0) > 0;
}

describe('DDL safety', () => {
  test('a long-running transaction holding a lock: the migration times out, retries, and never blocks other writers', async () => {
    const hold = await holdReadLock();
    const observer = await server.connect(db, { applicationName: 'observer' });
    const w = writer(await server.connect(db));
    const migratorPid = (admin as unknown as { processID: number }).processID;
    const sent: string[] = [];
    const query = admin.query.bind(admin) as (...args: unknown[]) => unknown;
    jest.spyOn(admin, 'query').mockImplementation(((...args: unknown[]) => {
      if (typeof args[0] === 'string') sent.push(args[0]);
      return query(...args);
    }) as never);
    const engine = new MigrationEngine(admin, { lockTimeoutMs: 100, retryBaseDelayMs: 50, retryMaxDelayMs: 200, maxAttempts: 1000 });
    let started = false;
    const starting = engine.start(addColumn).then(() => { started = true; });
    try {
      // The ALTER TABLE queues behind the report, and writers queue behind the ALTER (the hazard)...
      await until('the writer waits for the queued ALTER', async () => (await blockers(observer, w.pid)).includes(migratorPid));
      const blockedAt = w.count();
      const retriesBefore = engine.lockRetries;
      // ...until the ALTER gives up at its lock_timeout: the writer goes on while the report still holds its lock,
      // and the migration retries later.
      await until('the writer inserted again', () => w.count() > blockedAt);
      await until('the migration retried', () => engine.lockRetries > retriesBefore);
      expect(await holdsLockOnUsers(observer, hold.pid)).toBe(true);
      expect(started).toBe(false);
    } finally {
      await hold.release();
      await starting;
      await w.stop();
    }
    // The ALTER's transaction carried the engine's lock_timeout, so PostgreSQL bounds each such wait of a writer by it
    // (https://www.postgresql.org/docs/17/runtime-config-client.html#GUC-LOCK-TIMEOUT).
    const alter = sent.findIndex((q) => /^ALTER TABLE "public"."users" ADD COLUMN "bio"/.test(q));
    expect(sent.slice(0, alter).reverse().find((q) => q.startsWith('BEGIN'))).toMatch(/SET LOCAL lock_timeout = '100'/);
    expect(engine.lockRetries).toBeGreaterThan(0);
    expect((await admin.query(`SELECT 1 FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'bio'`)).rowCount).toBe(1);
  });

  test('without a short lock_timeout the same ALTER TABLE queues writers for the whole hold (the hazard the retries avoid)', async () => {
    const hold = await holdReadLock();
    const observer = await server.connect(db, { applicationName: 'observer' });
    const w = writer(await server.connect(db));
    await until('the writer inserted', () => w.count() >= 1);
    const migrator = await server.connect(db, { applicationName: 'migrator' });
    const migratorPid = (migrator as unknown as { processID: number }).processID;
    const starting = new MigrationEngine(migrator, { lockTimeoutMs: 10_000 }).start(addColumn);
    let blockedAt = 0;
    try {
      // The chain of the hazard, as PostgreSQL reports it: the ALTER waits for the report, the writer for the ALTER.
      await until('the ALTER waits for the report', async () => (await blockers(observer, migratorPid)).includes(hold.pid));
      await until('the writer waits for the ALTER', async () => (await blockers(observer, w.pid)).includes(migratorPid));
      blockedAt = w.count();
      // A while later the writer still waits, and has inserted nothing: it is held for as long as the report runs.
      await new Promise((r) => setTimeout(r, 200));
      expect(await blockers(observer, w.pid)).toContain(migratorPid);
      expect(w.count()).toBe(blockedAt);
    } finally {
      await hold.release();
      await starting;
    }
    await until('the writer inserted again', () => w.count() > blockedAt);
    await w.stop();
  });

  test('gives up with ZdtMigrationLockTimeout after the last attempt, having changed nothing', async () => {
    const hold = await holdReadLock();
    const engine = new MigrationEngine(admin, { lockTimeoutMs: 50, retryBaseDelayMs: 10, retryMaxDelayMs: 20, maxAttempts: 3 });
    await expect(engine.start(addColumn)).rejects.toMatchObject({
      name: MigrationErrorName.LOCK_TIMEOUT,
      message: expect.stringMatching(/start of migration add_bio: expected to acquire its locks within lock_timeout 50 ms, but 3 attempts failed/),
    });
    await hold.release();
    expect((await admin.query(`SELECT 1 FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'bio'`)).rowCount).toBe(0);
    // The record commits with the DDL: nothing blocks the schema, and a retry (the state machine's) just starts.
    expect(await engine.status('add_bio')).toBeNull();
    await engine.start(addColumn);
  });

  test('statement_timeout stops a DDL statement that runs too long', async () => {
    const engine = new MigrationEngine(admin, { ...FAST, statementTimeoutMs: 200 });
    await expect(engine.start({ name: 'slow', operations: [{ op: 'sql', up: 'SELECT pg_sleep(2)', down: 'SELECT 1', risk: 'low' }] }))
      .rejects.toThrow(/statement timeout/);
  });
});

describe('migration lock', () => {
  test('two runs never overlap: an action fails at once while another session holds the lock', async () => {
    const other = await server.connect(db, { applicationName: 'other-migrator' });
    await other.query('SELECT pg_advisory_lock($1, hashtext($2))', [ADVISORY_LOCK_CLASS, 'public']);
    const engine = new MigrationEngine(admin, FAST);
    await expect(engine.start(addColumn)).rejects.toMatchObject({
      name: MigrationErrorName.IN_PROGRESS,
      message: expect.stringMatching(/migration lock of schema "public" to be free, but another session holds it \(pid \d+, application "other-migrator"/),
    });
    await other.query('SELECT pg_advisory_unlock_all()');
    await engine.start(addColumn);
  });

  test('concurrent starts of two engines: exactly one wins', async () => {
    const a = new MigrationEngine(await server.connect(db), FAST);
    const b = new MigrationEngine(await server.connect(db), FAST);
    const results = await Promise.allSettled([a.start(addColumn), b.start({ ...addColumn, name: 'add_bio_too' })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.name).toBe(MigrationErrorName.IN_PROGRESS);
  });
});

describe('rollback', () => {
  test('after a partial backfill, every write of both versions is kept and the expand is gone', async () => {
    const m: Migration = {
      name: 'reshape',
      operations: [
        { op: 'changeColumnType', table: 'users', column: 'price_cents', type: 'numeric(12,2)', up: 'price_cents::numeric / 100', down: '(price_cents * 100)::integer' },
        { op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' },
        { op: 'moveColumns', table: 'users', columns: ['street', 'city'], to: 'addresses', key: 'user_id' },
        { op: 'addIndex', table: 'users', name: 'users_email_idx', columns: ['email'] },
      ],
    };
    const engine = new MigrationEngine(admin, { ...FAST, batchSize: 100, batchTargetMs: 0 });
    await engine.start(m);
    const partial = await engine.backfill(m.name, { maxBatches: 3 });
    expect(partial).toMatchObject({ done: false, rowsDone: 300 });
    const { old, next } = await versions(server, db, 'public_reshape');
    const n = await next.query(`INSERT INTO users (full_name, price_cents) VALUES ('new version row', 12.5) RETURNING id`);
    await next.query(`INSERT INTO addresses (user_id, street, city) VALUES ($1, 'New St', 'New City')`, [n.rows[0].id]);
    await next.query(`UPDATE users SET price_cents = 7.77 WHERE id = 50`);
    await next.query(`UPDATE users SET full_name = 'renamed late' WHERE id = 900`);
    await old.query(`INSERT INTO users (name, price_cents, city) VALUES ('old version row', 300, 'Old City')`);

    await engine.rollback(m.name);

    const rows = (await admin.query(`SELECT id, name, price_cents, street, city FROM users WHERE id IN ($1, 50, 900) OR name = 'old version row' ORDER BY id`, [n.rows[0].id])).rows;
    expect(rows).toEqual([
      { id: '50', name: 'user 50', price_cents: 777, street: '50 Main St', city: 'City 0' },
      { id: '900', name: 'renamed late', price_cents: 900, street: '900 Main St', city: 'City 0' },
      { id: n.rows[0].id, name: 'new version row', price_cents: 1250, street: 'New St', city: 'New City' },
      { id: expect.any(String), name: 'old version row', price_cents: 300, street: null, city: 'Old City' },
    ]);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users`)).rows[0].n).toBe(1002);
    const leftovers = await admin.query(`SELECT
        (SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname LIKE '\\_zdt%' AND NOT attisdropped)::int AS columns,
        (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_zdt%')::int AS triggers,
        (SELECT count(*) FROM pg_namespace WHERE nspname = 'public_reshape')::int AS schemas,
        (SELECT count(*) FROM pg_class WHERE relname IN ('addresses', 'users_email_idx'))::int AS relations,
        (SELECT count(*) FROM zdt_migrations.backfill_checkpoints)::int AS checkpoints`);
    expect(leftovers.rows[0]).toEqual({ columns: 0, triggers: 0, schemas: 0, relations: 0, checkpoints: 0 });
    expect((await admin.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'city'`)).rows[0].attnotnull).toBe(true);
  });

  test('old-version inserts go on through a rollback: a new NOT NULL column goes with the trigger that fills it', async () => {
    const m: Migration = { name: 'add_display', operations: [{ op: 'addColumn', table: 'users', column: { name: 'display', type: 'text', nullable: false }, up: 'upper(name)' }] };
    const engine = new MigrationEngine(admin, FAST);
    await engine.start(m);
    const inserters = await Promise.all([1, 2, 3].map(() => server.connect(db)));
    let running = true;
    let inserts = 0;
    const failures: string[] = [];
    const loops = inserters.map(async (c) => {
      while (running) {
        try {
          await c.query(`INSERT INTO users (name) VALUES ('during rollback')`);
          inserts++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 50));
    await engine.rollback(m.name);
    await new Promise((r) => setTimeout(r, 50));
    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(inserts).toBeGreaterThan(0);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users WHERE name = 'during rollback'`)).rows[0].n).toBe(inserts);
  });

  test('a completed migration cannot be rolled back', async () => {
    const engine = new MigrationEngine(admin, FAST);
    await engine.start(addColumn);
    await engine.backfill('add_bio');
    await engine.validate('add_bio');
    await engine.complete('add_bio');
    await expect(engine.rollback('add_bio')).rejects.toThrow(/Cannot roll back migration add_bio: it was completed at .*write a new migration instead/);
  });
});

describe('trigger functions', () => {
  test('completing a migration leaves the sync of same-named and prefix-named migrations on other schemas working', async () => {
    const upperName = (name: string): Migration => ({
      name, operations: [{ op: 'addColumn', table: 'users', column: { name: 'shout', type: 'text' }, up: 'upper(name)' }],
    });
    for (const schema of ['s2', 's3']) {
      await admin.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.users (id bigserial PRIMARY KEY, name text NOT NULL)`);
    }
    const done = new MigrationEngine(admin, FAST);
    // The same name on another schema, and a name that starts with the completed one's name plus '_'.
    const sameName = new MigrationEngine(admin, { ...FAST, schema: 's2' });
    const prefixed = new MigrationEngine(admin, { ...FAST, schema: 's3' });
    await sameName.start(upperName('a'));
    await prefixed.start(upperName('a_b'));
    await done.start(upperName('a'));
    await done.backfill('a');
    await validatedOk(done, 'a');
    await done.complete('a');

    for (const schema of ['s2', 's3']) {
      await admin.query(`INSERT INTO ${schema}.users (name) VALUES ('still synced')`);
      const r = await admin.query(`SELECT shout FROM ${schema}.users WHERE name = 'still synced'`);
      expect({ schema, shout: r.rows[0].shout }).toEqual({ schema, shout: 'STILL SYNCED' });
    }
  });
});

async function validatedOk(engine: MigrationEngine, name: string): Promise<void> {
  expect((await engine.validate(name)).ok).toBe(true);
}

describe('plan', () => {
  const destructive: Migration = {
    name: 'drop_legacy',
    description: 'Remove the legacy email column and the sessions table',
    operations: [
      { op: 'dropColumn', table: 'users', column: 'email' },
      { op: 'dropTable', table: 'sessions' },
    ],
  };
  beforeEach(async () => { await admin.query('CREATE TABLE sessions (id serial PRIMARY KEY)'); });

  test('lists each step with its locks, rollback and risk, and flags the destructive ones', async () => {
    const plan = await new MigrationEngine(admin, FAST).plan(destructive);
    expect(plan.risk).toBe('high');
    expect(plan.highRisk).toEqual([
      'operations[0] (dropColumn): ALTER TABLE public.users DROP COLUMN email — drops data',
      'operations[1] (dropTable): DROP TABLE public.sessions — drops data',
    ]);
    const text = formatPlan(plan);
    expect(text).toMatch(/risk: HIGH/);
    expect(text).toMatch(/COMPLETE\n.*\[HIGH\] ALTER TABLE public.users DROP COLUMN email\n\s+locks: ACCESS EXCLUSIVE on public.users \(metadata only, brief; lock_timeout \+ retries\)\n\s+rollback: none \(irreversible: the column's data is gone\)/);
    expect(text).toMatch(/START\n.*\[low \] take the migration lock/);
    expect(text).toMatch(/only with an explicit acknowledgement/);
  });

  test('a high-risk migration does not start without an acknowledgement, and nothing is changed', async () => {
    await expect(new MigrationEngine(admin, FAST).start(destructive)).rejects.toMatchObject({
      name: MigrationErrorName.ACKNOWLEDGEMENT_REQUIRED,
      message: expect.stringMatching(/drop_legacy is high risk and start needs an explicit acknowledgement[\s\S]*DROP COLUMN email/),
    });
    expect((await admin.query(`SELECT count(*)::int AS n FROM zdt_migrations.migrations`)).rows[0].n).toBe(0);
    expect((await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'public_drop_legacy'`)).rowCount).toBe(0);
  });

  test('complete also requires the acknowledgement', async () => {
    await new MigrationEngine(admin, { ...FAST, acknowledgeHighRisk: true }).start(destructive);
    const unacknowledged = new MigrationEngine(admin, FAST);
    await unacknowledged.backfill('drop_legacy');
    await unacknowledged.validate('drop_legacy');
    await expect(unacknowledged.complete('drop_legacy')).rejects.toThrow(/complete needs an explicit acknowledgement/);
    expect((await admin.query(`SELECT 1 FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email' AND NOT attisdropped`)).rowCount).toBe(1);
  });
});
