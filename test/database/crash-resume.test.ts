/**
 * Crashes and re-runs on a real PostgreSQL: a CLI backfill killed (kill -9) while both versions write, resumed by
 * the CLI and validated; second starts of the operations without a backfill; a rollback killed half-way, run again.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, migrateCommand } from '../../bin/migrate';
import { MigrationEngine } from '../../lambda/database/engine';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, schemaSnapshot, usePgDatabase, validated, withWriters } from './fixtures';

const pg = usePgDatabase({
  setup: async (c) => {
    await createUsers(c, 3000);
    await c.query(`CREATE TABLE orgs (id int PRIMARY KEY, name text NOT NULL)`);
    await c.query(`INSERT INTO orgs SELECT g, 'org ' || g FROM generate_series(1, 5) g`);
    await c.query(`CREATE INDEX users_city_idx ON users (city)`);
    await c.query(`ALTER TABLE users ADD CONSTRAINT users_price_positive CHECK (price_cents >= 0)`);
    await c.query(`ALTER TABLE users ADD CONSTRAINT users_name_city_key UNIQUE (name, city)`);
  },
});
let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'zdt-crash-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const engineOf = () => new MigrationEngine(pg.admin, { ...FAST, acknowledgeHighRisk: true });
const count = async (sql: string) => (await pg.admin.query(sql)).rows[0].n as number;

function fileOf(m: Migration): string {
  const file = join(dir, `${m.name}.json`);
  writeFileSync(file, JSON.stringify(m));
  return file;
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await migrateCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/**
 * `migrate <argv>` in a child process to be killed with SIGKILL: node itself with tsx's loader (`--import tsx`),
 * not tsx's CLI, which runs the script in a grandchild that the kill would leave running.
 */
function cliProcess(...argv: string[]): { child: ChildProcess; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'bin', 'migrate.ts'), ...argv], { stdio: 'ignore' });
  return { child, exited: new Promise((resolve) => child.once('exit', resolve)) };
}

async function until(what: string, condition: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function killWhen(argv: string[], what: string, condition: () => Promise<boolean>, afterKill?: () => Promise<void>): Promise<void> {
  const { child, exited } = cliProcess(...argv);
  try {
    await until(what, condition);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  await afterKill?.();
  // The server notices the closed socket when the session next reads from it (a session waiting for a lock first
  // gets its lock); wait until it has ended and let go of its locks.
  await until('the killed session to end', async () => await count(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'zdt-migrate'`) === 0);
}

test('an alterColumn rewrite killed mid-backfill while both versions UPDATE: the CLI resumes it, validation holds, complete keeps every write', async () => {
  const m: Migration = { name: 'price_numeric', operations: [{
    op: 'alterColumn', table: 'users', column: 'price_cents', type: 'numeric(12,2)', up: 'price_cents / 100.0', down: '(price_cents * 100)::integer',
  }] };
  const file = fileOf(m);
  const engine = engineOf();
  await engine.start(m);
  const url = pg.server.url(pg.db);
  const done = async () => count(`SELECT coalesce(sum(rows_done), 0)::int AS n FROM zdt_migrations.backfill_checkpoints`);
  const w = await withWriters(pg, 'public_price_numeric', {
    old: `UPDATE users SET price_cents = price_cents + 1 WHERE id = 1 + (random() * 2999)::int`,
    next: `UPDATE users SET price_cents = 7.77 WHERE id = 1 + (random() * 2999)::int`,
  }, async () => {
    await killWhen(['backfill', '--database-url', url, '--batch-size', '50', '--batch-target-ms', '0', '--batch-delay-ms', '20', file],
      'the first backfill batches', async () => await done() >= 300);
    expect(await done()).toBeLessThan(3000);
    const resumed = await cli('backfill', '--database-url', url, file);
    expect({ code: resumed.code, err: resumed.err.split('\n').filter((l) => l.startsWith('migrate')) }).toEqual({ code: ExitCode.OK, err: [] });
    expect(resumed.out).toMatch(/validation: OK/);
  });
  expect(w.errors).toEqual([]);
  expect(w.counts.next).toBeGreaterThan(0);
  await validated(engine, m.name);
  const newWrites = await count(`SELECT count(*)::int AS n FROM users WHERE price_cents = 777`);
  await engine.complete(m.name);
  expect(await count(`SELECT count(*)::int AS n FROM users WHERE price_cents = 7.77`)).toBe(newWrites);
  expect(await count(`SELECT count(*)::int AS n FROM users WHERE price_cents IS NULL`)).toBe(0);
});

test('a second start of renameTable, renameConstraint, dropConstraint, setReplicaIdentity and createTable with foreign keys changes nothing', async () => {
  const m: Migration = { name: 'tidy', operations: [
    { op: 'renameTable', table: 'orgs', to: 'teams' },
    { op: 'renameConstraint', table: 'users', from: 'users_price_positive', to: 'users_price_not_negative' },
    { op: 'dropConstraint', table: 'users', name: 'users_name_city_key' },
    { op: 'setReplicaIdentity', table: 'users', identity: 'full' },
    { op: 'createTable', table: 'invites', columns: [
      { name: 'id', type: 'bigserial', primaryKey: true },
      { name: 'user_id', type: 'bigint', nullable: false, references: { table: 'users', column: 'id', onDelete: 'CASCADE' } },
      { name: 'org_id', type: 'int', references: { table: 'orgs', column: 'id' } },
    ], foreignKeys: [{ name: 'invites_user_org_fk', columns: ['user_id'], references: { table: 'users', columns: ['id'] } }] },
  ] };
  const engine = engineOf();
  await engine.start(m);
  const started = await schemaSnapshot(pg.admin);
  await expect(engine.start(m)).resolves.toMatchObject({ status: 'started' });
  expect(await schemaSnapshot(pg.admin)).toEqual(started);
  await engine.backfill(m.name);
  await validated(engine, m.name);
  const checked = await schemaSnapshot(pg.admin);
  await expect(engine.start(JSON.parse(JSON.stringify(m)))).resolves.toMatchObject({ status: 'validated' });
  expect(await schemaSnapshot(pg.admin)).toEqual(checked);
  await engine.complete(m.name);
  expect(await count(`SELECT count(*)::int AS n FROM pg_constraint WHERE conname IN ('users_price_not_negative', 'invites_user_org_fk', 'invites_org_id_fkey')`)).toBe(3);
});

test('a rollback killed half-way (kill -9 while it waits for a lock) is finished by a second rollback, restoring the schema exactly', async () => {
  const m: Migration = { name: 'two_tables', operations: [
    { op: 'alterColumn', table: 'users', column: 'email', type: 'varchar(200)' },
    { op: 'addColumn', table: 'orgs', column: { name: 'slug', type: 'text' }, up: `lower(name)` },
  ] };
  const before = await schemaSnapshot(pg.admin);
  const engine = engineOf();
  await engine.start(m);
  await engine.backfill(m.name);
  // A reader of users holds its lock: the rollback of operations[0] (DROP COLUMN on users) waits; operations[1] on
  // orgs, undone first (reverse order), and the version schema are already gone when the process dies.
  const reader = await pg.connect();
  await reader.query('BEGIN');
  await reader.query('SELECT count(*) FROM users');
  await killWhen(['rollback', '--database-url', pg.server.url(pg.db), '--lock-timeout-ms', '60000', fileOf(m)], 'the rollback to wait for the lock on users',
    async () => await count(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'zdt-migrate' AND wait_event_type = 'Lock'`) === 1,
    async () => { await reader.query('ROLLBACK'); });
  expect(await count(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'orgs'::regclass AND attname = 'slug' AND NOT attisdropped`)).toBe(0);
  expect(await count(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = '_zdt_new_email' AND NOT attisdropped`)).toBe(1);
  // Half rolled back, the old version still writes: the triggers of operations[0] are still there.
  await pg.admin.query(`INSERT INTO users (name, email) VALUES ('old writer', 'old@example.com')`);
  await engine.rollback(m.name);
  expect(await schemaSnapshot(pg.admin)).toEqual(before);
  expect((await engine.status(m.name))?.status).toBe('rolled_back');
  await engine.rollback(m.name);
});
