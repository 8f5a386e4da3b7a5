/**
 * The operations added for pgroll parity (alterColumn, renameTable, dropIndex, renameConstraint, dropConstraint,
 * setReplicaIdentity, createTable with inline constraints), on a real PostgreSQL: both versions keep writing through
 * their schemas while the migration runs, complete leaves the expected schema, rollback restores it exactly.
 */
import { Client } from 'pg';
import { MigrationEngine } from '../../lambda/database/engine';
import { MigrationErrorName } from '../../lambda/database/errors';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, schemaSnapshot, usePgDatabase, validated, versions, withWriters } from './fixtures';
import { PgServer } from './pg-server';

const pg = usePgDatabase({
  setup: async (c) => {
    await createUsers(c, 1000);
    await c.query(`UPDATE users SET email = NULL WHERE id % 10 = 0`);
  },
});
let server: PgServer;
let db: string;
let admin: Client;
let engine: MigrationEngine;

beforeEach(async () => {
  ({ server, db, admin } = pg);
  engine = new MigrationEngine(admin, { ...FAST, acknowledgeHighRisk: true });
});

async function runToValidated(m: Migration): Promise<void> {
  await engine.backfill(m.name);
  await validated(engine, m.name);
}

describe('alterColumn', () => {
  test('SET NOT NULL with an up fix-up: the old version keeps writing NULLs (filled by up), complete makes the column NOT NULL', async () => {
    const m: Migration = { name: 'email_required', operations: [
      { op: 'alterColumn', table: 'users', column: 'email', nullable: false, up: `coalesce(email, 'unknown@example.com')` },
    ] };
    await engine.start(m);
    const w = await withWriters(pg, 'public_email_required', {
      old: `INSERT INTO users (name, email) VALUES ('old writer', NULL)`,
      next: `INSERT INTO users (name, email) VALUES ('new writer', 'new@example.com')`,
    }, () => runToValidated(m));
    expect(w.errors).toEqual([]);
    expect(w.counts.old).toBeGreaterThan(0);
    expect(w.counts.next).toBeGreaterThan(0);
    // The old version still sees its NULLs; the new one sees them filled.
    expect((await w.old.query(`SELECT count(*)::int AS n FROM users WHERE email IS NULL`)).rows[0].n).toBe(100 + w.counts.old);
    expect((await w.next.query(`SELECT count(*)::int AS n FROM users WHERE email = 'unknown@example.com'`)).rows[0].n).toBe(100 + w.counts.old);
    await expect(w.next.query(`INSERT INTO users (name, email) VALUES ('new', NULL)`)).rejects.toThrow(/violates check constraint/);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'`)).rows[0].attnotnull).toBe(true);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users`)).rows[0].n).toBe(1000 + w.counts.old + w.counts.next);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users WHERE email = 'unknown@example.com'`)).rows[0].n).toBe(100 + w.counts.old);
  });

  test('DROP NOT NULL with a down fix-up: the new version writes NULLs, the old version sees down\'s value', async () => {
    const m: Migration = { name: 'name_optional', operations: [
      { op: 'alterColumn', table: 'users', column: 'name', nullable: true, down: `coalesce(name, 'anonymous')` },
    ] };
    await engine.start(m);
    const w = await withWriters(pg, 'public_name_optional', {
      old: `INSERT INTO users (name) VALUES ('old writer')`,
      next: `INSERT INTO users (name) VALUES (NULL)`,
    }, () => runToValidated(m));
    expect(w.errors).toEqual([]);
    expect((await w.old.query(`SELECT count(*)::int AS n FROM users WHERE name = 'anonymous'`)).rows[0].n).toBe(w.counts.next);
    expect((await w.next.query(`SELECT count(*)::int AS n FROM users WHERE name IS NULL`)).rows[0].n).toBe(w.counts.next);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'name'`)).rows[0].attnotnull).toBe(false);
    expect((await admin.query(`SELECT count(*)::int AS n FROM users WHERE name IS NULL`)).rows[0].n).toBe(w.counts.next);
  });

  test('SET NOT NULL without up, and DROP NOT NULL without down, are refused naming the field', async () => {
    await expect(engine.plan({ name: 'a', operations: [{ op: 'alterColumn', table: 'users', column: 'email', nullable: false }] }))
      .rejects.toThrow(/operations\[0\] \(alterColumn on users\): up must be given to make email NOT NULL/);
    await expect(engine.plan({ name: 'b', operations: [{ op: 'alterColumn', table: 'users', column: 'name', nullable: true }] }))
      .rejects.toThrow(/operations\[0\] \(alterColumn on users\): down must be given to drop NOT NULL from name/);
  });

  test('several changes to one column at once: type, default, comment and nullability', async () => {
    const m: Migration = { name: 'price', operations: [{
      op: 'alterColumn', table: 'users', column: 'email', type: 'varchar(200)', default: `'nobody@example.com'`, comment: 'contact address',
      nullable: false, up: `coalesce(email, 'nobody@example.com')`, down: 'email',
    }] };
    await engine.start(m);
    const w = await withWriters(pg, 'public_price', {
      old: `INSERT INTO users (name) VALUES ('old writer')`,
      next: `INSERT INTO users (name) VALUES ('new writer')`,
    }, () => runToValidated(m));
    expect(w.errors).toEqual([]);
    // The new version's inserts take the new default; the old version's get up's value.
    expect((await w.next.query(`SELECT count(*)::int AS n FROM users WHERE name = 'new writer' AND email = 'nobody@example.com'`)).rows[0].n).toBe(w.counts.next);
    expect((await w.old.query(`SELECT count(*)::int AS n FROM users WHERE name = 'old writer' AND email IS NULL`)).rows[0].n).toBe(w.counts.old);
    await engine.complete(m.name);
    const col = (await admin.query(`SELECT format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def, col_description(a.attrelid, a.attnum) AS comment
      FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = 'users'::regclass AND a.attname = 'email'`)).rows[0];
    expect(col).toEqual({ type: 'character varying(200)', attnotnull: true, def: `'nobody@example.com'::character varying`, comment: 'contact address' });
  });

  test('a default and comment change copies nothing: the new version\'s inserts get the new default at once, the old version\'s the old one', async () => {
    const m: Migration = { name: 'city_default', operations: [{ op: 'alterColumn', table: 'users', column: 'city', default: `'Berlin'`, comment: 'where the user lives' }] };
    const before = await schemaSnapshot(admin);
    await engine.start(m);
    expect(await engine.backfill(m.name)).toMatchObject({ done: true, tables: [] });
    const { old, next } = await versions(server, db, 'public_city_default');
    await old.query(`INSERT INTO users (name) VALUES ('old')`);
    await next.query(`INSERT INTO users (name) VALUES ('new')`);
    expect((await admin.query(`SELECT name, city FROM users WHERE name IN ('old', 'new') ORDER BY name`)).rows).toEqual([{ name: 'new', city: 'Berlin' }, { name: 'old', city: 'unknown' }]);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(admin)).toEqual(before);
    await engine.start(m);
    await runToValidated(m);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT pg_get_expr(d.adbin, d.adrelid) AS def, col_description(d.adrelid, d.adnum) AS comment FROM pg_attrdef d
      JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'users'::regclass AND a.attname = 'city'`)).rows[0])
      .toEqual({ def: `'Berlin'::text`, comment: 'where the user lives' });
  });

  test('rollback of a rewrite restores the schema exactly, keeping every write of both versions', async () => {
    const m: Migration = { name: 'email_required', operations: [{ op: 'alterColumn', table: 'users', column: 'email', nullable: false, up: `coalesce(email, '?')`, comment: 'x' }] };
    const before = await schemaSnapshot(admin);
    await engine.start(m);
    const { old, next } = await versions(server, db, 'public_email_required');
    await old.query(`INSERT INTO users (name) VALUES ('old')`);
    await next.query(`INSERT INTO users (name, email) VALUES ('new', 'n@example.com')`);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(admin)).toEqual(before);
    expect((await admin.query(`SELECT name, email FROM users WHERE name IN ('old', 'new') ORDER BY name`)).rows).toEqual([{ name: 'new', email: 'n@example.com' }, { name: 'old', email: null }]);
  });
});

describe('renameTable', () => {
  const m: Migration = { name: 'customers', operations: [{ op: 'renameTable', table: 'users', to: 'customers' }] };

  test('the new version writes customers, the old one users, the same rows; complete renames the table', async () => {
    await engine.start(m);
    const w = await withWriters(pg, 'public_customers', {
      old: `INSERT INTO users (name) VALUES ('old writer')`,
      next: `INSERT INTO customers (name) VALUES ('new writer')`,
    }, () => runToValidated(m));
    expect(w.errors).toEqual([]);
    expect((await w.next.query(`SELECT count(*)::int AS n FROM customers`)).rows[0].n).toBe(1000 + w.counts.old + w.counts.next);
    await engine.complete(m.name);
    expect((await admin.query(`SELECT to_regclass('public.customers') IS NOT NULL AS renamed, to_regclass('public.users') IS NULL AS gone`)).rows[0]).toEqual({ renamed: true, gone: true });
    expect((await w.next.query(`SELECT count(*)::int AS n FROM customers`)).rows[0].n).toBe(1000 + w.counts.old + w.counts.next);
  });

  test('rollback restores the schema exactly; another operation on the renamed table is refused', async () => {
    const before = await schemaSnapshot(admin);
    await engine.start(m);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(admin)).toEqual(before);
    await expect(engine.plan({ name: 'x', operations: [{ op: 'renameTable', table: 'users', to: 'people' }, { op: 'addColumn', table: 'users', column: { name: 'x', type: 'text' } }] }))
      .rejects.toMatchObject({ name: MigrationErrorName.INVALID, message: expect.stringMatching(/table users is renamed by operations\[0\]; rename it in a migration of its own/) });
  });
});

describe('indexes, constraints and replica identity', () => {
  beforeEach(async () => {
    await admin.query(`CREATE INDEX users_city_idx ON users (city)`);
    await admin.query(`ALTER TABLE users ADD CONSTRAINT users_name_city_key UNIQUE (name, city)`);
    await admin.query(`ALTER TABLE users ADD CONSTRAINT users_price_positive CHECK (price_cents >= 0)`);
  });
  const m: Migration = { name: 'tidy', operations: [
    { op: 'dropIndex', table: 'users', name: 'users_city_idx' },
    { op: 'dropConstraint', table: 'users', name: 'users_name_city_key' },
    { op: 'renameConstraint', table: 'users', from: 'users_price_positive', to: 'users_price_not_negative' },
    { op: 'setReplicaIdentity', table: 'users', identity: 'full' },
  ] };

  test('both versions write until complete, which drops, renames and sets them (a multi-column constraint included)', async () => {
    const before = await schemaSnapshot(admin);
    await engine.start(m);
    // Nothing of it applies before complete (pgroll renames constraints at complete too): the table is as it was.
    const started = await schemaSnapshot(admin) as { tables: unknown; constraints: unknown; indexes: unknown };
    const was = before as typeof started;
    expect([started.tables, started.constraints, started.indexes]).toEqual([was.tables, was.constraints, was.indexes]);
    await expect(admin.query(`INSERT INTO users (name, city) VALUES ('user 1', 'City 1')`)).rejects.toThrow(/users_name_city_key/);
    const w = await withWriters(pg, 'public_tidy', {
      old: `INSERT INTO users (name, city) VALUES ('old writer ' || clock_timestamp(), 'A')`,
      next: `INSERT INTO users (name, city) VALUES ('new writer ' || clock_timestamp(), 'B')`,
    }, () => runToValidated(m));
    expect(w.errors).toEqual([]);
    await engine.complete(m.name);
    const s = await schemaSnapshot(admin) as { tables: { relname: string; relreplident: string }[]; constraints: { conname: string }[]; indexes: { indexname: string }[] };
    expect(s.tables.find((t) => t.relname === 'users')?.relreplident).toBe('f');
    expect(s.constraints.map((c) => c.conname)).toEqual(expect.arrayContaining(['users_price_not_negative']));
    expect(s.constraints.map((c) => c.conname)).not.toEqual(expect.arrayContaining(['users_name_city_key', 'users_price_positive']));
    expect(s.indexes.map((i) => i.indexname)).not.toContain('users_city_idx');
    await admin.query(`INSERT INTO users (name, city) VALUES ('twice', 'C'), ('twice', 'C')`);
  });

  test('rollback restores the schema exactly', async () => {
    const before = await schemaSnapshot(admin);
    await engine.start(m);
    await runToValidated(m);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(admin)).toEqual(before);
  });

  test('refused at plan: an index that backs a constraint, an unknown constraint, a key other tables reference, a non-unique replica index', async () => {
    await admin.query(`CREATE TABLE invites (id serial PRIMARY KEY, name text, city text, FOREIGN KEY (name, city) REFERENCES users (name, city))`);
    await expect(engine.plan({ name: 'bad', operations: [
      { op: 'dropIndex', table: 'users', name: 'users_name_city_key' },
      { op: 'dropConstraint', table: 'users', name: 'nope' },
      { op: 'renameConstraint', table: 'users', from: 'users_name_city_key', to: 'users_price_positive' },
      { op: 'setReplicaIdentity', table: 'users', identity: 'index', index: 'users_city_idx' },
    ] })).rejects.toThrow(new RegExp([
      /operations\[0\] \(dropIndex on users\): index users_name_city_key backs constraint users_name_city_key; drop the constraint instead/,
      /operations\[1\] \(dropConstraint on users\): name names constraint nope, which public.users does not have/,
      /operations\[2\] \(renameConstraint on users\): to names constraint users_price_positive, which public.users already has/,
      /operations\[3\] \(setReplicaIdentity on users\): index users_city_idx must be unique/,
    ].map((r) => r.source).join('[\\s\\S]*')));
    await expect(engine.plan({ name: 'bad2', operations: [{ op: 'dropConstraint', table: 'users', name: 'users_name_city_key' }] }))
      .rejects.toThrow(/foreign keys invites.invites_name_city_fkey depend on users_name_city_key/);
  });
});

describe('createTable with inline constraints', () => {
  const m: Migration = { name: 'orders', operations: [{
    op: 'createTable', table: 'orders', comment: 'one row per order',
    columns: [
      { name: 'id', type: 'bigserial', primaryKey: true },
      { name: 'user_id', type: 'bigint', nullable: false, references: { table: 'users', column: 'id', onDelete: 'CASCADE' } },
      { name: 'quantity', type: 'integer', nullable: false, check: 'quantity > 0', comment: 'items' },
      { name: 'unit_cents', type: 'integer', nullable: false },
      { name: 'total_cents', type: 'integer', nullable: false },
    ],
    checks: [{ name: 'orders_total_matches', check: 'total_cents = quantity * unit_cents' }],
  }] };

  test('the new version writes the table; its foreign key and checks hold; rollback drops it', async () => {
    const before = await schemaSnapshot(admin);
    await engine.start(m);
    const { next } = await versions(server, db, 'public_orders');
    await next.query(`INSERT INTO orders (user_id, quantity, unit_cents, total_cents) VALUES (1, 2, 50, 100)`);
    await expect(next.query(`INSERT INTO orders (user_id, quantity, unit_cents, total_cents) VALUES (1, 0, 50, 0)`)).rejects.toThrow(/orders_quantity_check/);
    await expect(next.query(`INSERT INTO orders (user_id, quantity, unit_cents, total_cents) VALUES (1, 2, 50, 99)`)).rejects.toThrow(/orders_total_matches/);
    await expect(next.query(`INSERT INTO orders (user_id, quantity, unit_cents, total_cents) VALUES (999999, 1, 1, 1)`)).rejects.toThrow(/orders_user_id_fkey/);
    await admin.query(`DELETE FROM users WHERE id = 1`);
    expect((await next.query(`SELECT count(*)::int AS n FROM orders`)).rows[0].n).toBe(0);
    expect((await admin.query(`SELECT obj_description('public.orders'::regclass, 'pg_class') AS c`)).rows[0].c).toBe('one row per order');
    await engine.rollback(m.name);
    expect(await schemaSnapshot(admin)).toEqual(before);
  });

  test('a foreign key to a table that does not exist and a check on an unknown column are refused at plan', async () => {
    const badReference = JSON.parse(JSON.stringify(m));
    badReference.operations[0].columns[1].references.table = 'members';
    await expect(engine.plan(badReference)).rejects.toThrow(/operations\[0\] \(createTable on orders\): columns\[1\]\.references\.table names table public\.members, which does not exist/);
    const badCheck = JSON.parse(JSON.stringify(m));
    badCheck.operations[0].checks[0].check = 'totl_cents > 0';
    await expect(engine.plan(badCheck)).rejects.toThrow(/operations\[0\] \(createTable on orders\): checks\[0\]\.check is not valid here: column "totl_cents" does not exist/);
  });
});
