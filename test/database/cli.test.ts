/** `migrate` against the embedded server, with the example migrations of examples/migrations. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ExitCode, migrateCommand, ProgressBar } from '../../bin/migrate';
import { PgServer, startPgServer } from './pg-server';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'migrations');
const example = (f: string) => join(EXAMPLES, f);

let server: PgServer;
let db: string;
let url: string;
let admin: Client;
beforeAll(async () => { server = await startPgServer(); });
afterAll(async () => { await server.stop(); });
beforeEach(async () => {
  db = await server.freshDatabase();
  url = server.url(db);
  admin = await server.connect(db);
  await admin.query(readFileSync(example('schema.sql'), 'utf8'));
  await admin.query(`INSERT INTO users (name, email, street, city, postal_code, trial_ends_at, legacy_api_token)
    SELECT 'User ' || g, 'user' || g || '@everjust.dev', g || ' Main St', 'Berlin', '10115',
           CASE WHEN g % 4 = 0 THEN now() + interval '14 days' END, md5(g::text) FROM generate_series(1, 2500) g`);
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
