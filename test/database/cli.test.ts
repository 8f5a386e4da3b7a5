/** `migrate` against the embedded server, with the example migrations of examples/migrations. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ExitCode, migrateCommand, ProgressBar } from '../../bin/migrate';
import { MigrationEngine } from '../../lambda/database/engine';
import { FAST, usePgDatabase } from './fixtures';
import { PgServer } from './pg-server';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'migrations');
const example = (f: string) => join(EXAMPLES, f);

const pg = usePgDatabase({
  setup: async (c) => {
    await c.query(readFileSync(example('schema.sql'), 'utf8'));
    await c.query(`INSERT INTO users (name, email, street, city, postal_code, trial_ends_at, legacy_api_token)
      SELECT 'User ' || g, 'user' || g || '@everjust.dev', g || ' Main St', 'Berlin', '10115',
             CASE WHEN g % 4 = 0 THEN now() + interval '14 days' END, md5(g::text) FROM generate_series(1, 2500) g`);
  },
});
let server: PgServer;
let db: string;
let url: string;
let admin: Client;
beforeEach(() => {
  ({ server, db, admin } = pg);
  url = server.url(db);
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await migrateCommand(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('migrate CLI', () => {
  test('plan prints the steps and changes nothing', async () => {
    const r = await run('plan', '--database-url', url, example('001_rename_users_name.json'));
    expect(r.code).toBe(ExitCode.OK);
    expect(r.out).toMatch(/Migration rename_users_name — EverJust.dev/);
    expect(r.out).toMatch(/new version sees users.name as full_name/);
    expect((await admin.query(`SELECT to_regnamespace('public_rename_users_name') AS s`)).rows[0].s).toBeNull();
  });

  test('start expands, backfills with progress on stderr and validates; status and complete follow', async () => {
    const file = example('003_add_users_plan.json');
    const started = await run('start', '--database-url', url, '--batch-size', '500', file);
    expect(started.code).toBe(ExitCode.OK);
    expect(started.err).toMatch(/backfill  20\.0% 500\/2500 rows/);
    expect(started.err).toMatch(/backfill 100\.0% 2500\/2500 rows/);
    expect(started.out).toMatch(/validation: OK/);
    const status = await run('status', '--database-url', url);
    expect(status.out).toMatch(/migration add_users_plan on schema public: validated\n\s+new version schema: public_add_users_plan/);
    expect(status.out).toMatch(/backfill: done, 2500\/2500 rows/);
    expect((await run('complete', '--database-url', url, file)).code).toBe(ExitCode.OK);
    expect((await admin.query(`SELECT plan, count(*)::int AS n FROM users GROUP BY plan ORDER BY plan`)).rows).toEqual([{ plan: 'free', n: 1875 }, { plan: 'trial', n: 625 }]);
  });

  test('loads a TypeScript migration module and rolls it back', async () => {
    const file = example('002_split_user_address.ts');
    expect((await run('start', '--database-url', url, file)).code).toBe(ExitCode.OK);
    expect((await admin.query(`SELECT count(*)::int AS n FROM user_addresses WHERE city = 'Berlin'`)).rows[0].n).toBe(2500);
    const r = await run('rollback', '--database-url', url, file);
    expect(r).toMatchObject({ code: ExitCode.OK, out: 'rolled back split_user_address' });
    expect((await admin.query(`SELECT to_regclass('public.user_addresses') AS t`)).rows[0].t).toBeNull();
  });

  test('a destructive migration needs --acknowledge-high-risk (exit 3)', async () => {
    const file = example('004_drop_users_legacy_token.json');
    const refused = await run('start', '--database-url', url, file);
    expect(refused.code).toBe(ExitCode.ACKNOWLEDGEMENT_REQUIRED);
    expect(refused.err).toMatch(/high risk and start needs an explicit acknowledgement/);
    expect((await run('start', '--database-url', url, '--acknowledge-high-risk', file)).code).toBe(ExitCode.OK);
    expect((await run('complete', '--database-url', url, '--acknowledge-high-risk', file)).code).toBe(ExitCode.OK);
  });

  test('exit codes: usage errors (2), another migration in progress (5), wrong state (7)', async () => {
    expect((await run('frobnicate', '--database-url', url)).code).toBe(ExitCode.USAGE);
    expect((await run('start', '--database-url', url)).err).toMatch(/start needs a migration file/);
    expect((await run('plan', '--database-url', url, '--batch-size', 'many', example('001_rename_users_name.json'))).err).toMatch(/--batch-size must be a whole number/);
    expect((await run('complete', '--database-url', url, example('001_rename_users_name.json'))).code).toBe(ExitCode.WRONG_STATE);
    expect((await run('start', '--database-url', url, example('001_rename_users_name.json'))).code).toBe(ExitCode.OK);
    const second = await run('start', '--database-url', url, example('003_add_users_plan.json'));
    expect(second.code).toBe(ExitCode.IN_PROGRESS);
    expect(second.err).toMatch(/but rename_users_name is validated/);
  });

  test('an invalid migration file is a usage error naming the operation and field', async () => {
    const r = await run('plan', '--database-url', url, join(__dirname, 'fixtures', 'invalid-migration.json'));
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.err).toMatch(/operations\[0\] \(addColumn on users\): column\.type must be a non-empty SQL string/);
  });
});

/** Waits until `probe` returns true (polling), or fails after `ms`. */
async function until(what: string, probe: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const rowsBackfilled = async () => {
  const r = await admin.query(`SELECT coalesce(sum(rows_done), 0)::int AS n FROM zdt_migrations.backfill_checkpoints`).catch(() => ({ rows: [{ n: 0 }] }));
  return r.rows[0].n as number;
};

describe('migrate CLI: re-running', () => {
  test('every example migration can be started twice (the second start resumes or does nothing) and completed', async () => {
    const files = readdirSync(EXAMPLES).filter((f) => /\.(json|ts)$/.test(f)).sort();
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const first = await run('start', '--database-url', url, '--acknowledge-high-risk', example(f));
      expect({ f, code: first.code, err: first.err.split('\n').filter((l) => l.startsWith('migrate')) }).toEqual({ f, code: ExitCode.OK, err: [] });
      const second = await run('start', '--database-url', url, '--acknowledge-high-risk', example(f));
      expect({ f, code: second.code }).toEqual({ f, code: ExitCode.OK });
      expect(second.out).toMatch(/already started on schema public \(status validated\); start resumes it/);
      expect(second.out).toMatch(/resumed: the new version uses search_path=/);
      expect(second.out).toMatch(/validation: OK/);
      expect((await run('complete', '--database-url', url, '--acknowledge-high-risk', example(f))).code).toBe(ExitCode.OK);
    }
  });

  test('start killed (kill -9) in the middle of its backfill: start again resumes the backfill and validates', async () => {
    await admin.query(`INSERT INTO users (name, email) SELECT 'More ' || g, 'more' || g || '@everjust.dev' FROM generate_series(1, 7500) g`);
    const file = example('003_add_users_plan.json');
    // node itself with tsx's loader: tsx's CLI would run migrate in a grandchild that the kill leaves running.
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'bin', 'migrate.ts'), 'start', '--database-url', url,
      '--batch-size', '100', '--batch-target-ms', '0', '--batch-delay-ms', '20', file], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await until('the first backfill batches', async () => (await rowsBackfilled()) >= 500);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const partial = await rowsBackfilled();
    expect(partial).toBeLessThan(10_000);
    // The server notices the dead client at once (its socket closed); wait until it has let go of the migration lock.
    await until('the killed session to end', async () => (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'zdt-migrate'`)).rows[0].n === 0);
    const resumed = await run('start', '--database-url', url, file);
    expect(resumed.code).toBe(ExitCode.OK);
    expect(resumed.out).toMatch(/resumed: the new version uses search_path=public_add_users_plan/);
    expect(resumed.out).toMatch(/validation: OK/);
    expect(await rowsBackfilled()).toBe(10_000);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users WHERE plan IS NULL`)).rows[0].n).toBe(0);
  });

  test('backfill resumes a started migration and validates it without contracting', async () => {
    const file = example('003_add_users_plan.json');
    const engine = new MigrationEngine(admin, FAST);
    await engine.start(loadJson(file));
    await engine.backfill('add_users_plan', { maxBatches: 1 });
    const r = await run('backfill', '--database-url', url, file);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.out).toMatch(/validation: OK/);
    expect((await engine.status('add_users_plan'))?.status).toBe('validated');
    // Not contracted: the old version's schema is intact, the triggers still run.
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE '\\_zdt%'`)).rows[0].n).toBeGreaterThan(0);
    expect((await run('backfill', '--database-url', url, example('001_rename_users_name.json'))).code).toBe(ExitCode.WRONG_STATE);
  });

  test('cancel stops a running start between batches; rollback then undoes it, or backfill resumes it', async () => {
    const file = example('003_add_users_plan.json');
    const running = run('start', '--database-url', url, '--batch-size', '20', '--batch-target-ms', '0', '--batch-delay-ms', '30', file);
    await until('the first backfill batches', async () => (await rowsBackfilled()) >= 100);
    // rollback is refused while start runs, and says how to stop it.
    const refused = await run('rollback', '--database-url', url, file);
    expect(refused.code).toBe(ExitCode.IN_PROGRESS);
    expect(refused.err).toMatch(/another session holds it .*stop it \(migrate cancel\)/);
    const cancelled = await run('cancel', '--database-url', url);
    expect(cancelled.code).toBe(ExitCode.OK);
    expect(cancelled.out).toMatch(/stopped the run of add_users_plan on schema public \(session pid \d+\)/);
    const started = await running;
    expect(started.code).toBe(ExitCode.CANCELLED);
    expect(started.err).toMatch(/ZdtMigrationCancelled: The backfill of migration add_users_plan on schema public was cancelled/);
    expect(await rowsBackfilled()).toBeLessThan(2500);
    expect((await run('cancel', '--database-url', url)).out).toMatch(/nothing is running on schema public \(migration add_users_plan is active and idle\)/);
    expect((await run('rollback', '--database-url', url, file)).code).toBe(ExitCode.OK);
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'plan' AND NOT attisdropped`)).rows[0].n).toBe(0);
  });

  test('cancel of a run stuck in one long query cancels that query', async () => {
    // A batch waits behind a row lock held by another transaction: the run cannot check the request until it returns.
    const file = example('003_add_users_plan.json');
    const engine = new MigrationEngine(admin, FAST);
    await engine.start(loadJson(file));
    const holder = await server.connect(db);
    await holder.query('BEGIN');
    await holder.query(`UPDATE users SET email = email WHERE id = 1`);
    const running = run('backfill', '--database-url', url, '--lock-timeout-ms', '60000', file);
    await until('the backfill to wait for the row lock', async () => (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'zdt-migrate' AND wait_event_type = 'Lock'`)).rows[0].n === 1);
    const cancelled = await run('cancel', '--database-url', url, '--grace-ms', '200');
    expect(cancelled.out).toMatch(/its query cancelled/);
    const r = await running;
    expect(r.code).toBe(ExitCode.CANCELLED);
    await holder.query('ROLLBACK');
    expect((await run('backfill', '--database-url', url, file)).code).toBe(ExitCode.OK);
  });

  test('plan of a second migration while another is active says so and exits 5', async () => {
    expect((await run('start', '--database-url', url, example('001_rename_users_name.json'))).code).toBe(ExitCode.OK);
    const r = await run('plan', '--database-url', url, example('003_add_users_plan.json'));
    expect(r.code).toBe(ExitCode.IN_PROGRESS);
    expect(r.out).toMatch(/migration rename_users_name is validated on schema public: start of add_users_plan is refused/);
    expect(r.err).toMatch(/migration rename_users_name is validated on schema public; start of add_users_plan would be refused/);
  });

  test('--lock-timeout-ms 0 (no timeout in PostgreSQL) is a usage error', async () => {
    const r = await run('start', '--database-url', url, '--lock-timeout-ms', '0', example('001_rename_users_name.json'));
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.err).toMatch(/--lock-timeout-ms must be a whole number of at least 1 \(0 would mean no timeout in PostgreSQL/);
    expect((await admin.query(`SELECT to_regclass('zdt_migrations.migrations') AS t`)).rows[0].t).toBeNull();
  });
});

function loadJson(file: string) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

describe('ProgressBar', () => {
  test('redraws one line on a TTY', () => {
    const writes: string[] = [];
    const bar = new ProgressBar({ isTTY: true, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream, Date.now() - 1000);
    bar.update(50, 100);
    bar.finish();
    expect(writes[0]).toMatch(/^\r\[#{15}-{15}\] backfill  50\.0% 50\/100 rows \d+ rows\/s$/);
    expect(writes[1]).toBe('\n');
  });
});
