/**
 * Each operation end to end on a real PostgreSQL: both schema versions read and write during the migration,
 * then complete (or rollback) leaves the expected schema and every row.
 */
import { Client } from 'pg';
import { MigrationEngine } from '../../lambda/database/engine';
import { MigrationErrorName } from '../../lambda/database/errors';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, startAndBackfill, usePgDatabase, validated, versions } from './fixtures';
import { PgServer } from './pg-server';

let server: PgServer;
let db: string;
let admin: Client;
let engine: MigrationEngine;

const pg = usePgDatabase({ setup: (c) => createUsers(c, 1200) });
beforeEach(async () => {
  ({ server, db, admin } = pg);
  engine = new MigrationEngine(admin, { ...FAST, acknowledgeHighRisk: true });
});

async function columnsOf(table: string, schema = 'public'): Promise<Record<string, { type: string; notNull: boolean }>> {
  const r = await admin.query(
    `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull FROM pg_attribute a
     WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`, [`${schema}.${table}`]);
  return Object.fromEntries(r.rows.map((x) => [x.attname, { type: x.type, notNull: x.attnotnull }]));
}

describe('renameColumn', () => {
  const m: Migration = { name: 'rename_name', operations: [{ op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' }] };

  test('both versions read and write under their own column name, and complete renames the column', async () => {
    await startAndBackfill(engine, m);
    const { old, next } = await versions(server, db, 'public_rename_name');
    await old.query(`INSERT INTO users (name) VALUES ('from old')`);
    await next.query(`INSERT INTO users (full_name) VALUES ('from new')`);
    await next.query(`UPDATE users SET full_name = 'renamed by new' WHERE id = 1`);
    expect((await old.query(`SELECT name FROM users WHERE name IN ('from new', 'renamed by new') ORDER BY name`)).rows.map((r) => r.name)).toEqual(['from new', 'renamed by new']);
    expect((await next.query(`SELECT full_name FROM users WHERE full_name = 'from old'`)).rowCount).toBe(1);
    await validated(engine, m.name);
    await engine.complete(m.name);
    expect(Object.keys(await columnsOf('users'))).toContain('full_name');
    expect((await next.query(`SELECT count(*)::int AS n FROM users`)).rows[0].n).toBe(1202);
  });

  test('rollback leaves the column as it was', async () => {
    await engine.start(m);
    await engine.rollback(m.name);
    expect(Object.keys(await columnsOf('users'))).toContain('name');
    expect((await admin.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'public_rename_name'`)).rowCount).toBe(0);
  });
});

describe('addColumn', () => {
  test('a NOT NULL column with up: old writes get up, new writes keep their value, backfill fills the rest, complete sets NOT NULL', async () => {
    const m: Migration = { name: 'add_status', operations: [{ op: 'addColumn', table: 'users', column: { name: 'status', type: 'text', nullable: false }, up: `CASE WHEN email IS NULL THEN 'invited' ELSE 'active' END` }] };
    await engine.start(m);
    const { old, next } = await versions(server, db, 'public_add_status');
    await old.query(`INSERT INTO users (name) VALUES ('old, no email')`);
    const inserted = await next.query(`INSERT INTO users (name, status) VALUES ('new', 'suspended') RETURNING id`);
    await engine.backfill(m.name);
    await validated(engine, m.name);
    await engine.complete(m.name);
    const counts = (await admin.query(`SELECT status, count(*)::int AS n FROM users GROUP BY status ORDER BY status`)).rows;
    expect(counts).toEqual([{ status: 'active', n: 1200 }, { status: 'invited', n: 1 }, { status: 'suspended', n: 1 }]);
    expect((await admin.query(`SELECT status FROM users WHERE id = $1`, [inserted.rows[0].id])).rows[0].status).toBe('suspended');
    expect((await columnsOf('users')).status.notNull).toBe(true);
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conname LIKE '\\_zdt%'`)).rows[0].n).toBe(0);
  });

  test('a column with a constant default needs no backfill and keeps the default for old-version inserts', async () => {
    const m: Migration = { name: 'add_plan', operations: [{ op: 'addColumn', table: 'users', column: { name: 'plan', type: 'text', nullable: false, default: `'free'` } }] };
    await engine.start(m);
    const progress = await engine.backfill(m.name);
    expect(progress).toMatchObject({ done: true, tables: [] });
    const { old } = await versions(server, db, 'public_add_plan');
    await old.query(`INSERT INTO users (name) VALUES ('x')`);
    await validated(engine, m.name);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users WHERE plan = 'free'`)).rows[0].n).toBe(1201);
  });

  test('a volatile default is backfilled instead of rewriting the table', async () => {
    const m: Migration = { name: 'add_token', operations: [{ op: 'addColumn', table: 'users', column: { name: 'token', type: 'uuid', nullable: false, default: 'gen_random_uuid()' } }] };
    const plan = await engine.plan(m);
    expect(plan.steps.map((s) => s.note ?? '').join('\n')).toMatch(/volatile/);
    await engine.start(m);
    const progress = await engine.backfill(m.name);
    expect(progress.rowsDone).toBe(1200);
    await validated(engine, m.name);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT count(DISTINCT token)::int AS n FROM users`)).rows[0].n).toBe(1200);
  });
});

describe('changeColumnType', () => {
  const m: Migration = {
    name: 'price_numeric',
    operations: [{ op: 'changeColumnType', table: 'users', column: 'price_cents', type: 'numeric(12,2)', up: 'price_cents::numeric / 100', down: '(price_cents * 100)::integer' }],
  };

  test('up and down conversions keep both versions in sync, and complete swaps the column', async () => {
    await engine.start(m);
    const { old, next } = await versions(server, db, 'public_price_numeric');
    await old.query(`INSERT INTO users (name, price_cents) VALUES ('old', 1999)`);
    await next.query(`INSERT INTO users (name, price_cents) VALUES ('new', 5.25)`);
    await next.query(`UPDATE users SET price_cents = 0.5 WHERE id = 1`);
    expect((await old.query(`SELECT price_cents FROM users WHERE name = 'new'`)).rows[0].price_cents).toBe(525);
    expect((await old.query(`SELECT price_cents FROM users WHERE id = 1`)).rows[0].price_cents).toBe(50);
    expect((await next.query(`SELECT price_cents FROM users WHERE name = 'old'`)).rows[0].price_cents).toBe('19.99');
    await engine.backfill(m.name);
    await validated(engine, m.name);
    await engine.complete(m.name);
    const cols = await columnsOf('users');
    expect(cols.price_cents).toEqual({ type: 'numeric(12,2)', notNull: true });
    expect(Object.keys(cols).some((c) => c.startsWith('_zdt'))).toBe(false);
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conname LIKE '\\_zdt%'`)).rows[0].n).toBe(0);
    expect((await admin.query(`SELECT price_cents FROM users WHERE id = 2`)).rows[0].price_cents).toBe('0.02');
  });

  test('a new-version update of a row the backfill has not reached keeps the old value', async () => {
    await engine.start(m);
    const { old, next } = await versions(server, db, 'public_price_numeric');
    await next.query(`UPDATE users SET name = 'touched by new' WHERE id = 9`);
    expect((await old.query(`SELECT price_cents FROM users WHERE id = 9`)).rows[0].price_cents).toBe(9);
    expect((await next.query(`SELECT price_cents FROM users WHERE id = 9`)).rows[0].price_cents).toBe('0.09');
  });

  test('validation fails when a converted value diverges from up(old)', async () => {
    await engine.start(m);
    await engine.backfill(m.name);
    await admin.query(`ALTER TABLE users DISABLE TRIGGER USER`);
    await admin.query(`UPDATE users SET _zdt_new_price_cents = 42 WHERE id = 7`);
    await admin.query(`ALTER TABLE users ENABLE TRIGGER USER`);
    const report = await engine.validate(m.name);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => !c.ok)?.detail).toMatch(/1200 rows; 1 where _zdt_new_price_cents differs/);
    await expect(engine.complete(m.name)).rejects.toThrow(/expected status validated, found backfilled/);
  });
});

describe('addIndex and addUnique', () => {
  test('builds indexes concurrently and turns the unique index into a constraint at complete', async () => {
    const m: Migration = {
      name: 'indexes',
      operations: [
        { op: 'addIndex', table: 'users', name: 'users_city_idx', columns: ['city'] },
        { op: 'addUnique', table: 'users', name: 'users_email_key', columns: ['email'] },
      ],
    };
    await startAndBackfill(engine, m);
    await validated(engine, m.name);
    await engine.complete(m.name);
    const r = await admin.query(`SELECT conname FROM pg_constraint WHERE conname = 'users_email_key' AND contype = 'u'`);
    expect(r.rowCount).toBe(1);
    expect((await admin.query(`SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_city_idx'::regclass`)).rows[0].indisvalid).toBe(true);
  });

  test('a unique index that fails on duplicates leaves no invalid index behind', async () => {
    await admin.query(`UPDATE users SET email = 'dup@example.com' WHERE id IN (1, 2)`);
    const m: Migration = { name: 'unique_email', operations: [{ op: 'addUnique', table: 'users', name: 'users_email_key', columns: ['email'] }] };
    await expect(engine.start(m)).rejects.toThrow(/Building index users_email_key on public.users \(email\) failed: could not create unique index/);
    expect((await admin.query(`SELECT 1 FROM pg_class WHERE relname = 'users_email_key'`)).rowCount).toBe(0);
    await engine.rollback(m.name);
    expect((await engine.status(m.name))?.status).toBe('rolled_back');
  });
});

describe('addForeignKey and addCheck', () => {
  beforeEach(async () => {
    await admin.query(`CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, total integer NOT NULL)`);
    await admin.query(`INSERT INTO orders (user_id, total) SELECT g, g FROM generate_series(1, 300) g`);
  });

  test('NOT VALID constraints are enforced at once and validated without blocking writers', async () => {
    const m: Migration = {
      name: 'constraints',
      operations: [
        { op: 'addForeignKey', table: 'orders', name: 'orders_user_fk', columns: ['user_id'], references: { table: 'users', columns: ['id'] }, onDelete: 'CASCADE' },
        { op: 'addCheck', table: 'orders', name: 'orders_total_positive', check: 'total > 0' },
      ],
    };
    await startAndBackfill(engine, m);
    await expect(admin.query(`INSERT INTO orders (user_id, total) VALUES (999999, 1)`)).rejects.toThrow(/orders_user_fk/);
    await expect(admin.query(`INSERT INTO orders (user_id, total) VALUES (1, -1)`)).rejects.toThrow(/orders_total_positive/);
    await validated(engine, m.name);
    const r = await admin.query(`SELECT conname, convalidated FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype IN ('f', 'c') ORDER BY conname`);
    expect(r.rows).toEqual([{ conname: 'orders_total_positive', convalidated: true }, { conname: 'orders_user_fk', convalidated: true }]);
  });

  test('validation reports existing rows that break a check', async () => {
    await admin.query(`UPDATE orders SET total = 0 WHERE id = 5`);
    const m: Migration = { name: 'check_total', operations: [{ op: 'addCheck', table: 'orders', name: 'orders_total_positive', check: 'total > 0' }] };
    await startAndBackfill(engine, m);
    const report = await engine.validate(m.name);
    expect(report.ok).toBe(false);
    expect(report.checks[0].detail).toMatch(/constraint orders_total_positive on public.orders does not hold for existing rows/);
    await engine.rollback(m.name);
    expect((await admin.query(`SELECT 1 FROM pg_constraint WHERE conname = 'orders_total_positive'`)).rowCount).toBe(0);
  });
});

describe('moveColumns', () => {
  const m: Migration = { name: 'split_address', operations: [{ op: 'moveColumns', table: 'users', columns: ['street', 'city'], to: 'addresses', key: 'user_id' }] };

  test('old-version writes reach the new table, new-version writes reach the old columns, complete drops them from users', async () => {
    await engine.start(m);
    const { old, next } = await versions(server, db, 'public_split_address');
    await old.query(`UPDATE users SET street = 'moved st' WHERE id = 3`);
    const o = await old.query(`INSERT INTO users (name, street, city) VALUES ('old', '1 Old Rd', 'Oldtown') RETURNING id`);
    const n = await next.query(`INSERT INTO users (name) VALUES ('new') RETURNING id`);
    await next.query(`INSERT INTO addresses (user_id, street, city) VALUES ($1, '2 New Ave', 'Newtown')`, [n.rows[0].id]);
    expect(Object.keys((await next.query(`SELECT * FROM users LIMIT 1`)).rows[0])).not.toContain('street');
    expect((await next.query(`SELECT street, city FROM addresses WHERE user_id = $1`, [o.rows[0].id])).rows[0]).toEqual({ street: '1 Old Rd', city: 'Oldtown' });
    expect((await old.query(`SELECT street, city FROM users WHERE id = $1`, [n.rows[0].id])).rows[0]).toEqual({ street: '2 New Ave', city: 'Newtown' });
    await engine.backfill(m.name);
    // Existing rows reach the new table through the backfill (the new version is released after it).
    expect((await next.query(`SELECT street FROM addresses WHERE user_id = 3`)).rows[0].street).toBe('moved st');
    await next.query(`UPDATE addresses SET city = 'Elsewhere' WHERE user_id = 4`);
    expect((await old.query(`SELECT city FROM users WHERE id = 4`)).rows[0].city).toBe('Elsewhere');
    await validated(engine, m.name);
    await engine.complete(m.name);
    expect(Object.keys(await columnsOf('users'))).not.toContain('street');
    expect((await admin.query(`SELECT count(*)::int AS n FROM addresses`)).rows[0].n).toBe(1202);
    expect((await columnsOf('addresses')).city.notNull).toBe(true);
  });

  test('rollback drops the new table and restores NOT NULL on the source columns', async () => {
    await startAndBackfill(engine, m);
    expect((await columnsOf('users')).city.notNull).toBe(false);
    await engine.rollback(m.name);
    expect(await columnsOf('addresses')).toEqual({});
    expect((await columnsOf('users')).city.notNull).toBe(true);
    expect((await admin.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conname LIKE '\\_zdt%'`)).rows[0].n).toBe(0);
  });
});

describe('dropColumn and dropTable', () => {
  test('the new version no longer sees them; down fills the old NOT NULL column; complete drops them', async () => {
    await admin.query(`CREATE TABLE legacy_sessions (id serial PRIMARY KEY, token text)`);
    await admin.query(`ALTER TABLE users ADD COLUMN nickname text NOT NULL DEFAULT 'x'`);
    await admin.query(`ALTER TABLE users ALTER COLUMN nickname DROP DEFAULT`);
    const m: Migration = {
      name: 'drop_stuff',
      operations: [
        { op: 'dropColumn', table: 'users', column: 'nickname', down: `split_part(name, ' ', 1)` },
        { op: 'dropTable', table: 'legacy_sessions' },
      ],
    };
    await engine.start(m);
    const { old, next } = await versions(server, db, 'public_drop_stuff');
    await next.query(`INSERT INTO users (name) VALUES ('Ada Lovelace')`);
    expect((await old.query(`SELECT nickname FROM users WHERE name = 'Ada Lovelace'`)).rows[0].nickname).toBe('Ada');
    await expect(next.query(`SELECT * FROM legacy_sessions`)).rejects.toThrow(/does not exist/);
    await old.query(`INSERT INTO legacy_sessions (token) VALUES ('t')`);
    await engine.backfill(m.name);
    await validated(engine, m.name);
    await engine.complete(m.name);
    expect(Object.keys(await columnsOf('users'))).not.toContain('nickname');
    expect((await admin.query(`SELECT to_regclass('public.legacy_sessions') AS t`)).rows[0].t).toBeNull();
  });
});

describe('createTable and raw sql', () => {
  test('the new table is usable by the new version; raw SQL runs up at start, complete at complete, down on rollback', async () => {
    const m: Migration = {
      name: 'teams',
      operations: [
        { op: 'createTable', table: 'teams', columns: [{ name: 'id', type: 'bigserial', primaryKey: true }, { name: 'name', type: 'text', nullable: false, unique: true }] },
        { op: 'sql', up: 'CREATE TABLE audit_log (id serial PRIMARY KEY, msg text)', down: 'DROP TABLE IF EXISTS audit_log', risk: 'low' },
      ],
    };
    await engine.start(m);
    const { next } = await versions(server, db, 'public_teams');
    await next.query(`INSERT INTO teams (name) VALUES ('platform')`);
    await next.query(`INSERT INTO audit_log (msg) VALUES ('hello')`);
    await engine.rollback(m.name);
    expect((await admin.query(`SELECT to_regclass('public.teams') AS a, to_regclass('public.audit_log') AS b`)).rows[0]).toEqual({ a: null, b: null });
    await startAndBackfill(engine, m);
    await validated(engine, m.name);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT to_regclass('public.teams')::text AS a`)).rows[0].a).toBe('teams');
  });
});

describe('consecutive migrations', () => {
  test('the old version of the second migration is the first one\'s version schema, dropped when the second completes', async () => {
    const first: Migration = { name: 'm1', operations: [{ op: 'renameColumn', table: 'users', from: 'name', to: 'full_name' }] };
    const second: Migration = { name: 'm2', operations: [{ op: 'addColumn', table: 'users', column: { name: 'bio', type: 'text' } }] };
    await startAndBackfill(engine, first);
    await validated(engine, 'm1');
    await engine.complete('m1');
    const plan = await engine.plan(second);
    expect(plan.previousVersionSchema).toBe('public_m1');
    await engine.start(second);
    const { old, next } = await versions(server, db, 'public_m2', 'public_m1');
    await old.query(`INSERT INTO users (full_name) VALUES ('still on m1')`);
    await next.query(`INSERT INTO users (full_name, bio) VALUES ('on m2', 'hi')`);
    expect((await old.query(`SELECT * FROM users WHERE full_name = 'on m2'`)).rows[0]).not.toHaveProperty('bio');
    await engine.backfill('m2');
    await validated(engine, 'm2');
    await engine.complete('m2');
    expect((await admin.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_m%' ORDER BY 1`)).rows.map((r) => r.nspname)).toEqual(['public_m2']);
  });

  test('a second migration cannot start while one is active', async () => {
    await engine.start({ name: 'a', operations: [{ op: 'addColumn', table: 'users', column: { name: 'x', type: 'int' } }] });
    await expect(engine.start({ name: 'b', operations: [{ op: 'addColumn', table: 'users', column: { name: 'y', type: 'int' } }] }))
      .rejects.toMatchObject({ name: MigrationErrorName.IN_PROGRESS, message: expect.stringMatching(/but a is started/) });
  });

  test('a definition that does not match the database fails before any SQL runs', async () => {
    await expect(engine.start({ name: 'bad', operations: [{ op: 'renameColumn', table: 'users', from: 'nope', to: 'x' }] }))
      .rejects.toThrow(/operations\[0\] \(renameColumn on users\): from names column nope, which public.users does not have/);
    expect((await admin.query(`SELECT count(*)::int AS n FROM zdt_migrations.migrations`)).rows[0].n).toBe(0);
  });
});
