/**
 * The backfill under load: concurrent writers of both versions lose or diverge no row; a killed backfill
 * resumes where it stopped; the walk terminates although inserts never stop.
 */
import { Client } from 'pg';
import { MIN_BATCH_SIZE, nextBatchSize } from '../../lambda/database/backfill';
import { MigrationEngine } from '../../lambda/database/engine';
import { Migration } from '../../lambda/database/types';
import { createUsers, FAST, usePgDatabase, validated, versions } from './fixtures';
import { PgServer } from './pg-server';

const ROWS = 4000;

const pg = usePgDatabase({ setup: (c) => createUsers(c, ROWS) });
let server: PgServer;
beforeEach(() => { server = pg.server; });

const migration: Migration = {
  name: 'reshape_users',
  operations: [
    { op: 'changeColumnType', table: 'users', column: 'price_cents', type: 'numeric(12,2)', up: 'price_cents::numeric / 100', down: '(price_cents * 100)::integer' },
    { op: 'addColumn', table: 'users', column: { name: 'display', type: 'text', nullable: false }, up: `upper(name)` },
    { op: 'moveColumns', table: 'users', columns: ['street', 'city'], to: 'addresses', key: 'user_id' },
  ],
};

/** A writer loop: random inserts, updates and deletes until stopped; records the ids it created and deleted. */
function writer(c: Client, version: 'old' | 'new', seed: number) {
  let running = true;
  const inserted: string[] = [];
  const deleted: string[] = [];
  let ops = 0;
  let rnd = seed;
  const next = () => { rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd; };
  const done = (async () => {
    while (running) {
      const id = 1 + (next() % ROWS);
      const k = next() % 10;
      if (k < 4) {
        const r = version === 'old'
          ? await c.query(`INSERT INTO users (name, price_cents, street, city) VALUES ($1, $2, 'w st', 'w city') RETURNING id`, [`w${seed}-${ops}`, next() % 100000])
          : await c.query(`INSERT INTO users (name, price_cents) VALUES ($1, $2) RETURNING id`, [`w${seed}-${ops}`, (next() % 100000) / 100]);
        inserted.push(r.rows[0].id);
      } else if (k < 9) {
        if (version === 'old') await c.query(`UPDATE users SET price_cents = $2, name = name || '+', city = 'upd' WHERE id = $1`, [id, next() % 100000]);
        else await c.query(`UPDATE users SET price_cents = $2 WHERE id = $1`, [id, (next() % 100000) / 100]);
      } else {
        const r = await c.query(`DELETE FROM users WHERE id = $1 RETURNING id`, [id + ROWS * 10]);
        deleted.push(...r.rows.map((x) => x.id));
      }
      ops++;
    }
  })();
  return { stop: async () => { running = false; await done; return { version, inserted, deleted, ops }; } };
}

async function assertConsistent(admin: Client) {
  const r = await admin.query(`SELECT
      count(*) FILTER (WHERE _zdt_new_price_cents IS DISTINCT FROM price_cents::numeric / 100)::int AS price_diverged,
      count(*) FILTER (WHERE display IS NULL)::int AS display_missing,
      (SELECT count(*) FROM users u LEFT JOIN addresses a ON a.user_id = u.id
        WHERE a.user_id IS NULL OR ROW(u.street, u.city) IS DISTINCT FROM ROW(a.street, a.city))::int AS address_diverged
    FROM users`);
  expect(r.rows[0]).toEqual({ price_diverged: 0, display_missing: 0, address_diverged: 0 });
}

describe('backfill', () => {
  test('concurrent writers of both versions during the backfill: no lost or diverged row', async () => {
    const { db, admin } = pg;
    const engine = new MigrationEngine(admin, { ...FAST, batchSize: 200, batchDelayMs: 5 });
    await engine.start(migration);
    const writers = [];
    for (let i = 0; i < 2; i++) {
      const { old, next } = await versions(server, db, 'public_reshape_users');
      writers.push(writer(old, 'old', 11 + i), writer(next, 'new', 101 + i));
    }
    const progress = await engine.backfill(migration.name);
    const results = await Promise.all(writers.map((w) => w.stop()));
    expect(progress.done).toBe(true);
    expect(results.reduce((n, r) => n + r.ops, 0)).toBeGreaterThan(100);
    const ids = results.flatMap((r) => r.inserted);
    const present = await admin.query(`SELECT count(*)::int AS n FROM users WHERE id = ANY($1::bigint[])`, [ids]);
    expect(present.rows[0].n).toBe(ids.length);
    // The new version inserts users without an address row (its application would add one in addresses);
    // do that for those users only, so every other user's address must come from the backfill or the triggers.
    const newIds = results.filter((r) => r.version === 'new').flatMap((r) => r.inserted);
    expect(newIds.length).toBeGreaterThan(0);
    await admin.query(`INSERT INTO addresses (user_id, street, city) SELECT id, street, city FROM users WHERE id = ANY($1::bigint[]) ON CONFLICT DO NOTHING`, [newIds]);
    await assertConsistent(admin);
    await validated(engine, migration.name);
  });

  test('a backfill killed mid-way resumes after the last committed batch', async () => {
    const { db, admin } = pg;
    await new MigrationEngine(admin, FAST).start(migration);
    const victim = await server.connect(db, { applicationName: 'backfill-victim' });
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    let batches = 0;
    const killed = new MigrationEngine(victim, { ...FAST, batchSize: 250 }).backfill(migration.name, {
      onBatch: () => {
        batches++;
        if (batches === 5) void admin.query('SELECT pg_terminate_backend($1)', [pid]);
      },
    });
    await expect(killed).rejects.toThrow(/terminat|Connection/i);
    const cp = (await admin.query(`SELECT rows_done::int, batches, done, (last_key->>0)::bigint AS last FROM zdt_migrations.backfill_checkpoints`)).rows[0];
    expect(cp.done).toBe(false);
    expect(cp.batches).toBeGreaterThanOrEqual(5);
    // The checkpoint is exactly what committed: every row up to its key converted and counted, none after it.
    const filled = (await admin.query(`SELECT count(*) FILTER (WHERE id <= $1 AND _zdt_new_price_cents IS NOT NULL)::int AS below,
        count(*) FILTER (WHERE id > $1 AND _zdt_new_price_cents IS NOT NULL)::int AS above FROM users`, [cp.last])).rows[0];
    expect(filled).toEqual({ below: cp.rows_done, above: 0 });
    expect(cp.rows_done).toBe(Number(cp.last));

    const resumed = await new MigrationEngine(await server.connect(db), { ...FAST, batchSize: 250 }).backfill(migration.name);
    expect(resumed.done).toBe(true);
    // Resumed where it stopped: no row counted twice.
    expect(resumed.rowsDone).toBe(ROWS);
    expect(resumed.tables[0].batches).toBeGreaterThan(cp.batches);
    await assertConsistent(admin);
    await validated(new MigrationEngine(admin, FAST), migration.name);
  });

  test('terminates under a steady stream of inserts: it stops at the largest key that existed when it began', async () => {
    const { db, admin } = pg;
    // Fixed batches (no sizing), so that the batch count shows the walk did not chase the inserts.
    const engine = new MigrationEngine(admin, { ...FAST, batchSize: 100, batchTargetMs: 0 });
    await engine.start(migration);
    const inserter = await server.connect(db);
    let running = true;
    let inserts = 0;
    const stream = (async () => {
      while (running) {
        await inserter.query(`INSERT INTO users (name, street, city) SELECT 'stream', 's', 'c' FROM generate_series(1, 20)`);
        inserts += 20;
      }
    })();
    const progress = await engine.backfill(migration.name);
    running = false;
    await stream;
    expect(inserts).toBeGreaterThan(0);
    expect(progress.done).toBe(true);
    const upper = Number(progress.tables[0].upperKey![0]);
    const below = (await admin.query(`SELECT count(*)::int AS n, (SELECT max(id) FROM users)::bigint AS max FROM users WHERE id <= $1`, [upper])).rows[0];
    // Exactly the rows that existed when the backfill began were touched, although inserts went on past them.
    expect(Number(below.max)).toBeGreaterThan(upper);
    expect(progress.rowsDone).toBe(below.n);
    expect(progress.tables[0].batches).toBe(Math.ceil(below.n / 100));
    await assertConsistent(admin);
  });
});

describe('backfill of a table with a composite primary key', () => {
  test('walks the key in order, resumes, and converts every row', async () => {
    const { admin } = pg;
    await admin.query(`CREATE TABLE line_items (order_id int, line int, qty int NOT NULL, PRIMARY KEY (order_id, line))`);
    await admin.query(`INSERT INTO line_items SELECT o, l, o * l FROM generate_series(1, 100) o, generate_series(1, 10) l`);
    const m: Migration = { name: 'wide_qty', operations: [{ op: 'changeColumnType', table: 'line_items', column: 'qty', type: 'bigint' }] };
    const engine = new MigrationEngine(admin, { ...FAST, batchSize: 90, batchTargetMs: 0 });
    await engine.start(m);
    const first = await engine.backfill(m.name, { maxBatches: 3 });
    expect(first).toMatchObject({ done: false, rowsDone: 270 });
    // 270 rows in key order: orders 1..27, all ten lines each.
    expect(first.tables[0].lastKey).toEqual(['27', '10']);
    const rest = await engine.backfill(m.name);
    expect(rest).toMatchObject({ done: true, rowsDone: 1000 });
    expect((await admin.query(`SELECT count(*)::int AS n FROM line_items WHERE _zdt_new_qty IS DISTINCT FROM qty`)).rows[0].n).toBe(0);
    await validated(engine, m.name);
  });
});

describe('batch sizing', () => {
  test('the next batch is scaled to the target duration, growing at most twofold, within the minimum and the largest size', () => {
    // 1,000 rows in 40 ms against a 20 ms target: half as many.
    expect(nextBatchSize(1000, 40, 20, 10_000)).toBe(500);
    // Twice as fast as the target would allow 4x; growth is capped at 2x per batch.
    expect(nextBatchSize(1000, 5, 20, 10_000)).toBe(2000);
    expect(nextBatchSize(1000, 0, 20, 10_000)).toBe(2000);
    expect(nextBatchSize(8000, 10, 20, 10_000)).toBe(10_000);
    // A batch stuck behind a lock for seconds shrinks to the minimum, not to zero.
    expect(nextBatchSize(1000, 60_000, 20, 10_000)).toBe(MIN_BATCH_SIZE);
    // No target: always the largest size.
    expect(nextBatchSize(123, 500, 0, 700)).toBe(700);
  });

  test('with sizing off, every batch has batchSize rows', async () => {
    const { admin } = pg;
    await admin.query(`DELETE FROM users WHERE id > 1050`);
    const engine = new MigrationEngine(admin, { ...FAST, batchSize: 150, batchTargetMs: 0 });
    await engine.start(migration);
    const rows: number[] = [];
    const progress = await engine.backfill(migration.name, { onBatch: (_cp, batch) => rows.push(batch.rows) });
    expect(progress).toMatchObject({ done: true, rowsDone: 1050 });
    expect(rows).toEqual([150, 150, 150, 150, 150, 150, 150]);
  });
});
