/**
 * Constraints with up/down data fix-up (pgroll's create_constraint and alter_column check / unique / references) and
 * the indexes and constraints a rewritten column keeps, on a real PostgreSQL: the constraint binds the new version at
 * once while the old version keeps writing what it always wrote, the backfill and the up trigger fix the old values,
 * complete leaves the constraint valid under its name, rollback restores the schema exactly.
 */
import { MigrationEngine } from '../../lambda/database/engine';
import { MigrationErrorName } from '../../lambda/database/errors';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, schemaSnapshot, usePgDatabase, validated, versions, withWriters } from './fixtures';

const pg = usePgDatabase({
  setup: async (c) => {
    await createUsers(c, 1000);
    await c.query(`UPDATE users SET email = NULL WHERE id % 10 = 0`);
    await c.query(`CREATE TABLE orgs (id int PRIMARY KEY, name text NOT NULL)`);
    await c.query(`INSERT INTO orgs SELECT g, 'org ' || g FROM generate_series(1, 5) g`);
    await c.query(`ALTER TABLE users ADD COLUMN org_id int`);
    await c.query(`UPDATE users SET org_id = id % 7`);
  },
});
let engine: MigrationEngine;
beforeEach(() => { engine = new MigrationEngine(pg.admin, { ...FAST, acknowledgeHighRisk: true }); });

const count = async (sql: string, c = pg.admin) => (await c.query(sql)).rows[0].n as number;

async function toValidated(m: Migration): Promise<void> {
  await engine.backfill(m.name);
  await validated(engine, m.name);
}

describe('createConstraint', () => {
  test('unique: the old version keeps writing a duplicate, up makes it unique for the new version, which cannot write one; complete attaches the constraint', async () => {
    await pg.admin.query(`UPDATE users SET email = 'shared@example.com' WHERE id <= 5`);
    const m: Migration = { name: 'email_unique', operations: [{
      op: 'createConstraint', table: 'users', name: 'users_email_key', type: 'unique', columns: ['email'],
      up: { email: `CASE WHEN email = 'shared@example.com' THEN 'shared+' || id || '@example.com' ELSE email END` },
    }] };
    await engine.start(m);
    const w = await withWriters(pg, 'public_email_unique', {
      old: `INSERT INTO users (name, email) VALUES ('old writer', 'shared@example.com')`,
      next: `INSERT INTO users (name, email) VALUES ('new writer', 'new-' || clock_timestamp() || '@example.com')`,
    }, () => toValidated(m));
    expect(w.errors).toEqual([]);
    expect(w.counts.old).toBeGreaterThan(0);
    expect(w.counts.next).toBeGreaterThan(0);
    // The old version reads what it wrote; the new version the fixed-up values.
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE email = 'shared@example.com'`, w.old)).toBe(5 + w.counts.old);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE email = 'shared@example.com'`, w.next)).toBe(0);
    expect(await count(`SELECT count(DISTINCT email)::int AS n FROM users WHERE email LIKE 'shared+%'`, w.next)).toBe(5 + w.counts.old);
    await expect(w.next.query(`INSERT INTO users (name, email) VALUES ('dup', 'u7@example.com')`)).rejects.toThrow(/users_email_key/);
    await engine.complete(m.name);
    const con = (await pg.admin.query(`SELECT contype, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'users_email_key'`)).rows;
    expect(con).toEqual([{ contype: 'u', def: 'UNIQUE (email)' }]);
    expect(await count(`SELECT count(*)::int AS n FROM users`)).toBe(1000 + w.counts.old + w.counts.next);
  });

  test('unique: the constraint binds up\'s values, so without a fix-up the old version\'s duplicate is refused; rollback restores the schema exactly', async () => {
    const before = await schemaSnapshot(pg.admin);
    const m: Migration = { name: 'email_unique', operations: [{ op: 'createConstraint', table: 'users', name: 'users_email_key', type: 'unique', columns: ['email'] }] };
    await engine.start(m);
    const { old, next } = await versions(pg.server, pg.db, 'public_email_unique');
    await next.query(`INSERT INTO users (name, email) VALUES ('n', 'n@example.com')`);
    await expect(old.query(`INSERT INTO users (name, email) VALUES ('o', 'n@example.com')`)).rejects.toThrow(/users_email_key/);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(pg.admin)).toEqual(before);
    await old.query(`INSERT INTO users (name, email) VALUES ('o', 'n@example.com')`);
  });

  test('check over two columns: up fixes both, the new version cannot write a violating row, complete leaves it validated', async () => {
    await pg.admin.query(`UPDATE users SET price_cents = -id WHERE id % 7 = 0`);
    const m: Migration = { name: 'sane_users', operations: [{
      op: 'createConstraint', table: 'users', name: 'users_sane', type: 'check', columns: ['name', 'price_cents'],
      check: 'price_cents >= 0 AND length(name) <= 12',
      up: { name: 'left(name, 12)', price_cents: 'greatest(price_cents, 0)' },
    }] };
    const before = await schemaSnapshot(pg.admin);
    await engine.start(m);
    const w = await withWriters(pg, 'public_sane_users', {
      old: `INSERT INTO users (name, price_cents) VALUES ('an old writer with a long name', -5)`,
      next: `INSERT INTO users (name, price_cents) VALUES ('new writer', 5)`,
    }, () => toValidated(m));
    expect(w.errors).toEqual([]);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE price_cents < 0 OR length(name) > 12`, w.old)).toBe(142 + w.counts.old);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE price_cents < 0 OR length(name) > 12`, w.next)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE name = 'an old write' AND price_cents = 0`, w.next)).toBe(w.counts.old);
    await expect(w.next.query(`INSERT INTO users (name, price_cents) VALUES ('x', -1)`)).rejects.toThrow(/users_sane/);
    await expect(w.next.query(`UPDATE users SET name = 'a name longer than twelve' WHERE id = 1`)).rejects.toThrow(/users_sane/);
    // Rolled back after the backfill: the old columns kept every write of both versions, the schema is as before.
    await engine.rollback(m.name);
    expect(await schemaSnapshot(pg.admin)).toEqual(before);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE name = 'new writer'`)).toBe(w.counts.next);
    await engine.start({ ...m, name: 'sane_users2' });
    await toValidated({ ...m, name: 'sane_users2' });
    await engine.complete('sane_users2');
    expect((await pg.admin.query(`SELECT convalidated, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'users_sane'`)).rows)
      .toEqual([{ convalidated: true, def: 'CHECK (((price_cents >= 0) AND (length(name) <= 12)))' }]);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE price_cents < 0`)).toBe(0);
  });

  test('foreign key: up nulls the dangling references, the new version cannot write one, the old version still can until complete', async () => {
    const m: Migration = { name: 'user_orgs', operations: [{
      op: 'createConstraint', table: 'users', name: 'users_org_fk', type: 'foreignKey', columns: ['org_id'],
      references: { table: 'orgs', columns: ['id'], onDelete: 'SET NULL' },
      up: { org_id: 'CASE WHEN EXISTS (SELECT 1 FROM public.orgs o WHERE o.id = org_id) THEN org_id END' },
    }] };
    await engine.start(m);
    const w = await withWriters(pg, 'public_user_orgs', {
      old: `INSERT INTO users (name, org_id) VALUES ('old writer', 99)`,
      next: `INSERT INTO users (name, org_id) VALUES ('new writer', 3)`,
    }, () => toValidated(m));
    expect(w.errors).toEqual([]);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE org_id = 99`, w.old)).toBe(w.counts.old);
    expect(await count(`SELECT count(*)::int AS n FROM users u WHERE org_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orgs o WHERE o.id = u.org_id)`, w.next)).toBe(0);
    await expect(w.next.query(`INSERT INTO users (name, org_id) VALUES ('x', 42)`)).rejects.toThrow(/users_org_fk/);
    await engine.complete(m.name);
    expect((await pg.admin.query(`SELECT convalidated, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'users_org_fk'`)).rows)
      .toEqual([{ convalidated: true, def: 'FOREIGN KEY (org_id) REFERENCES orgs(id) ON DELETE SET NULL' }]);
    await pg.admin.query(`DELETE FROM orgs WHERE id = 3`);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE org_id = 3`)).toBe(0);
  });

  test('refused at plan, naming the field: an up for a column not constrained, a taken name, a missing referenced table', async () => {
    await expect(engine.plan({ name: 'bad', operations: [
      { op: 'createConstraint', table: 'users', name: 'x', type: 'unique', columns: ['email'], up: { name: 'name' } },
    ] })).rejects.toThrow(/operations\[0\] \(createConstraint on users\): up names column "name", which is not in columns \(email\)/);
    await expect(engine.plan({ name: 'bad', operations: [
      { op: 'createConstraint', table: 'users', name: 'users_pkey', type: 'check', columns: ['email'], check: 'email <> \'\'' },
      { op: 'createConstraint', table: 'users', name: 'fk', type: 'foreignKey', columns: ['org_id'], references: { table: 'teams', columns: ['id'] } },
    ] })).rejects.toThrow(/name users_pkey is already a constraint or index of public.users[\s\S]*references.table names table public.teams, which does not exist/);
  });
});

describe('alterColumn check, unique and references', () => {
  test('all three on one column with up/down: the new version is bound at once, the old version is not; complete keeps all three', async () => {
    const m: Migration = { name: 'org_rules', operations: [{
      op: 'alterColumn', table: 'users', column: 'org_id',
      check: { name: 'users_org_positive', constraint: 'org_id > 0' },
      unique: { name: 'users_org_key' },
      references: { name: 'users_org_ref', table: 'orgs', column: 'id' },
      // Only the first users keep their org (unique: users 1-5 have orgs 1-5), dangling and non-positive ones become NULL.
      up: `CASE WHEN id <= 7 AND org_id > 0 AND EXISTS (SELECT 1 FROM public.orgs o WHERE o.id = org_id) THEN org_id END`,
    }] };
    const before = await schemaSnapshot(pg.admin);
    await engine.start(m);
    const { old, next } = await versions(pg.server, pg.db, 'public_org_rules');
    await old.query(`INSERT INTO users (name, org_id) VALUES ('old', -1)`);
    await expect(next.query(`INSERT INTO users (name, org_id) VALUES ('n', -1)`)).rejects.toThrow(/users_org_positive/);
    await expect(next.query(`INSERT INTO users (name, org_id) VALUES ('n', 42)`)).rejects.toThrow(/users_org_ref/);
    await toValidated(m);
    await expect(next.query(`INSERT INTO users (name, org_id) VALUES ('n', 1)`)).rejects.toThrow(/users_org_key/);
    expect((await next.query(`SELECT org_id FROM users WHERE org_id IS NOT NULL ORDER BY org_id`)).rows.map((r) => r.org_id)).toEqual([1, 2, 3, 4, 5]);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(pg.admin)).toEqual(before);
    await engine.start({ ...m, name: 'org_rules2' });
    await toValidated({ ...m, name: 'org_rules2' });
    await engine.complete('org_rules2');
    expect((await pg.admin.query(`SELECT conname, contype, convalidated FROM pg_constraint WHERE conrelid = 'users'::regclass AND conname LIKE 'users_org%' ORDER BY 1`)).rows)
      .toEqual([
        { conname: 'users_org_key', contype: 'u', convalidated: true },
        { conname: 'users_org_positive', contype: 'c', convalidated: true },
        { conname: 'users_org_ref', contype: 'f', convalidated: true },
      ]);
  });
});

describe('dropConstraint with up/down', () => {
  test('frees the new version at once while the old version keeps the constraint (down fixes what the new version writes); complete drops it', async () => {
    await pg.admin.query(`ALTER TABLE users ADD CONSTRAINT users_name_city_key UNIQUE (name, city)`);
    await pg.admin.query(`CREATE INDEX users_city_idx ON users (city)`);
    const m: Migration = { name: 'free_names', operations: [{
      op: 'dropConstraint', table: 'users', name: 'users_name_city_key',
      up: { name: 'name', city: 'city' },
      down: { name: `name || ' #' || id` },
    }] };
    const before = await schemaSnapshot(pg.admin);
    await engine.start(m);
    const w = await withWriters(pg, 'public_free_names', {
      old: `INSERT INTO users (name, city) VALUES ('old ' || clock_timestamp(), 'A')`,
      next: `INSERT INTO users (name, city) VALUES ('twice', 'B')`,
    }, () => toValidated(m));
    expect(w.errors).toEqual([]);
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE name = 'twice' AND city = 'B'`, w.next)).toBe(w.counts.next);
    expect(await count(`SELECT count(DISTINCT name)::int AS n FROM users WHERE name LIKE 'twice #%'`, w.old)).toBe(w.counts.next);
    await expect(w.old.query(`INSERT INTO users (name, city) VALUES ('user 1', 'City 1')`)).rejects.toThrow(/users_name_city_key/);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(pg.admin)).toEqual(before);
    await engine.start({ ...m, name: 'free_names2' });
    await toValidated({ ...m, name: 'free_names2' });
    await engine.complete('free_names2');
    expect(await count(`SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'users_name_city_key'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = 'users_city_idx'`)).toBe(1);
    // Rolled back, the rows kept the old version's values (down's); the second run carried them over.
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE name LIKE 'twice #%' AND city = 'B'`)).toBe(w.counts.next);
    await pg.admin.query(`INSERT INTO users (name, city) VALUES ('twice', 'B'), ('twice', 'B')`);
  });

  test('up/down must name exactly the constraint\'s columns', async () => {
    await pg.admin.query(`ALTER TABLE users ADD CONSTRAINT users_name_city_key UNIQUE (name, city)`);
    await expect(engine.plan({ name: 'bad', operations: [{ op: 'dropConstraint', table: 'users', name: 'users_name_city_key', down: { name: 'name' } }] }))
      .rejects.toThrow(/operations\[0\] \(dropConstraint on users\): up\/down must name exactly the columns of users_name_city_key \(city, name\), got name/);
  });
});

describe('a rewritten column keeps its indexes and constraints', () => {
  beforeEach(async () => {
    await pg.admin.query(`CREATE INDEX users_email_lower_idx ON users (lower(email)) WHERE email IS NOT NULL`);
    await pg.admin.query(`CREATE INDEX users_city_email_idx ON users (city, email)`);
    await pg.admin.query(`ALTER TABLE users ADD CONSTRAINT users_email_at CHECK (email LIKE '%@%')`);
    await pg.admin.query(`ALTER TABLE users ADD CONSTRAINT users_name_email_key UNIQUE (name, email)`);
    await pg.admin.query(`DELETE FROM users WHERE org_id = 0 OR org_id > 5`);
    await pg.admin.query(`ALTER TABLE users ADD CONSTRAINT users_org_fkey FOREIGN KEY (org_id) REFERENCES orgs (id)`);
  });
  const m: Migration = { name: 'email_varchar', operations: [
    { op: 'changeColumnType', table: 'users', column: 'email', type: 'varchar(200)' },
    { op: 'alterColumn', table: 'users', column: 'org_id', type: 'bigint' },
  ] };

  test('twins hold for the new version during the migration; complete gives them the original names and definitions', async () => {
    const indexesBefore = (await pg.admin.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1`)).rows;
    await engine.start(m);
    const w = await withWriters(pg, 'public_email_varchar', {
      old: `INSERT INTO users (name, email, org_id) VALUES ('old', 'o' || clock_timestamp() || '@x', 1)`,
      next: `INSERT INTO users (name, email, org_id) VALUES ('new', 'n' || clock_timestamp() || '@x', 2)`,
    }, () => toValidated(m));
    expect(w.errors).toEqual([]);
    // The originals and their twins both hold (down copies the new version's values to the old columns).
    await expect(w.next.query(`INSERT INTO users (name, email) VALUES ('n', 'no-at-sign')`)).rejects.toThrow(/users_email_at/);
    await expect(w.next.query(`INSERT INTO users (name, email, org_id) VALUES ('user 1', 'u1@example.com', 1)`)).rejects.toThrow(/users_name_email_key/);
    await expect(w.next.query(`INSERT INTO users (name, org_id) VALUES ('n', 9)`)).rejects.toThrow(/users_org_fkey/);
    expect((await pg.admin.query(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname LIKE '\\_zdt\\_dup\\_%' ORDER BY 1`)).rows).toEqual([
      { conname: '_zdt_dup_users_email_at', def: `CHECK (((_zdt_new_email)::text ~~ '%@%'::text))` },
      { conname: '_zdt_dup_users_org_fkey', def: 'FOREIGN KEY (_zdt_new_org_id) REFERENCES orgs(id)' },
    ]);
    expect((await pg.admin.query(`SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '\\_zdt\\_dup\\_%' ORDER BY 1`)).rows).toEqual([
      { indexname: '_zdt_dup_users_city_email_idx', indexdef: 'CREATE INDEX _zdt_dup_users_city_email_idx ON public.users USING btree (city, _zdt_new_email)' },
      { indexname: '_zdt_dup_users_email_lower_idx', indexdef: 'CREATE INDEX _zdt_dup_users_email_lower_idx ON public.users USING btree (lower((_zdt_new_email)::text)) WHERE (_zdt_new_email IS NOT NULL)' },
      { indexname: '_zdt_dup_users_name_email_key', indexdef: 'CREATE UNIQUE INDEX _zdt_dup_users_name_email_key ON public.users USING btree (name, _zdt_new_email)' },
    ]);
    await engine.complete(m.name);
    expect((await pg.admin.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1`)).rows).toEqual(indexesBefore);
    expect((await pg.admin.query(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' AND indexname LIKE 'users_%email%' ORDER BY 1`)).rows).toEqual([
      { indexname: 'users_city_email_idx', indexdef: 'CREATE INDEX users_city_email_idx ON public.users USING btree (city, email)' },
      { indexname: 'users_email_lower_idx', indexdef: 'CREATE INDEX users_email_lower_idx ON public.users USING btree (lower((email)::text)) WHERE (email IS NOT NULL)' },
      { indexname: 'users_name_email_key', indexdef: 'CREATE UNIQUE INDEX users_name_email_key ON public.users USING btree (name, email)' },
    ]);
    expect((await pg.admin.query(`SELECT conname, pg_get_constraintdef(oid) AS def, convalidated FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype <> 'p' ORDER BY 1`)).rows).toEqual([
      { conname: 'users_email_at', def: `CHECK (((email)::text ~~ '%@%'::text))`, convalidated: true },
      { conname: 'users_name_email_key', def: 'UNIQUE (name, email)', convalidated: true },
      { conname: 'users_org_fkey', def: 'FOREIGN KEY (org_id) REFERENCES orgs(id)', convalidated: true },
    ]);
  });

  test('rollback drops the twins with the new columns: the schema is exactly as before', async () => {
    const before = await schemaSnapshot(pg.admin);
    await engine.start(m);
    await toValidated(m);
    await engine.rollback(m.name);
    expect(await schemaSnapshot(pg.admin)).toEqual(before);
  });

  test('an index over two columns that two operations rewrite is refused, and the start leaves nothing behind', async () => {
    const before = await schemaSnapshot(pg.admin);
    await expect(engine.start({ name: 'two', operations: [
      { op: 'alterColumn', table: 'users', column: 'city', type: 'varchar(100)' },
      { op: 'changeColumnType', table: 'users', column: 'email', type: 'varchar(200)' },
    ] })).rejects.toMatchObject({ name: MigrationErrorName.INVALID, message: expect.stringMatching(/index users_city_email_idx on public.users involves city and email, which two operations of this migration rewrite/) });
    expect(await schemaSnapshot(pg.admin)).toEqual(before);
  });
});

describe('a rewritten row the backfill has not reached', () => {
  test('a new-version UPDATE that leaves the column NULL (not naming it, or writing NULL) gets up(old), and the old version keeps its value', async () => {
    const m: Migration = { name: 'price_big', operations: [{ op: 'alterColumn', table: 'users', column: 'price_cents', type: 'bigint', up: 'price_cents * 10', down: 'price_cents / 10' }] };
    await engine.start(m);
    const { old, next } = await versions(pg.server, pg.db, 'public_price_big');
    // Not backfilled yet: the new column is NULL on every existing row.
    expect(await count(`SELECT count(*)::int AS n FROM users WHERE _zdt_new_price_cents IS NULL`)).toBe(1000);
    await next.query(`UPDATE users SET name = 'renamed' WHERE id = 5`);
    await next.query(`UPDATE users SET price_cents = NULL WHERE id = 6`);
    expect((await next.query(`SELECT id, price_cents::int FROM users WHERE id IN (5, 6) ORDER BY id`)).rows).toEqual([{ id: '5', price_cents: 50 }, { id: '6', price_cents: 60 }]);
    expect((await old.query(`SELECT id, price_cents FROM users WHERE id IN (5, 6) ORDER BY id`)).rows).toEqual([{ id: '5', price_cents: 5 }, { id: '6', price_cents: 6 }]);
    // Once backfilled, the same UPDATE writes NULL and down's value flows to the old column.
    await toValidated(m);
    await next.query(`UPDATE users SET price_cents = 70 WHERE id = 7`);
    expect((await old.query(`SELECT price_cents FROM users WHERE id = 7`)).rows[0].price_cents).toBe(7);
  });
});
