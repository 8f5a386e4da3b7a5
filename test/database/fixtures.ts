/** Shared fixtures of the database tests: a users table and clients of the two schema versions. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { MigrationEngine, EngineOptions } from '../../lambda/database/engine';
import { PgServer, startPgServer } from './pg-server';

/** Engine options for tests: short lock timeouts and backoffs keep retries fast. */
export const FAST: EngineOptions = { lockTimeoutMs: 200, retryBaseDelayMs: 20, retryMaxDelayMs: 200, maxAttempts: 20, batchSize: 500 };

export async function createUsers(c: Client, rows: number): Promise<void> {
  await c.query(`CREATE TABLE users (
    id bigserial PRIMARY KEY, name text NOT NULL, email text, price_cents integer NOT NULL DEFAULT 0,
    street text, city text NOT NULL DEFAULT 'unknown', created_at timestamptz NOT NULL DEFAULT now())`);
  await c.query(`INSERT INTO users (name, email, price_cents, street, city)
    SELECT 'user ' || g, 'u' || g || '@example.com', g, g || ' Main St', 'City ' || (g % 10) FROM generate_series(1, $1::int) g`, [rows]);
}

/**
 * The example app's users table (examples/migrations/schema.sql, what the example migrations apply to) with `rows`
 * users, every tenth on a trial.
 */
export async function createExampleUsers(c: Client, rows: number): Promise<void> {
  await c.query(readFileSync(join(__dirname, '..', '..', 'examples', 'migrations', 'schema.sql'), 'utf8'));
  await c.query(`INSERT INTO users (name, email, city, trial_ends_at)
    SELECT 'user ' || g, 'u' || g || '@example.com', 'City ' || (g % 10), CASE WHEN g % 10 = 0 THEN now() + interval '14 days' END
    FROM generate_series(1, $1::int) g`, [rows]);
}

export interface Versions {
  /** A session of the old application version (physical schema, or the previous version schema). */
  readonly old: Client;
  /** A session of the new application version (search_path = the migration's version schema). */
  readonly next: Client;
}

export async function versions(server: PgServer, db: string, versionSchema: string, oldSchema = 'public'): Promise<Versions> {
  const old = await server.connect(db, { applicationName: 'app-old' });
  await old.query(`SET search_path = ${oldSchema}`);
  const next = await server.connect(db, { applicationName: 'app-new' });
  await next.query(`SET search_path = ${versionSchema}`);
  return { old, next };
}

export async function startAndBackfill(engine: MigrationEngine, migration: { name: string }): Promise<void> {
  await engine.start(migration);
  await engine.backfill(migration.name);
}

export async function validated(engine: MigrationEngine, name: string): Promise<void> {
  const report = await engine.validate(name);
  if (!report.ok) throw new Error(`validation failed: ${JSON.stringify(report.checks.filter((c) => !c.ok))}`);
}

/** A test file's PostgreSQL: the server, and each test's own fresh database with a connected admin client. */
export interface PgDatabase {
  readonly server: PgServer;
  /** The current test's database. */
  readonly db: string;
  /** A client of the current test's database (closed after the test). */
  readonly admin: Client;
  /** Another client of the current test's database (closed after the test). */
  connect(options?: { applicationName?: string }): Promise<Client>;
}

/**
 * The database tests' one setup: a real PostgreSQL server per test file (started before its first test, stopped
 * after its last), and for each test a fresh database copied from a template that `setup` filled once (CREATE
 * DATABASE ... TEMPLATE ... STRATEGY FILE_COPY copies files: cheaper than running the setup's SQL per test, measured
 * about 360 ms against 600 ms for a 1,000-row users table on a loaded machine). Clients a test opens
 * through `connect` are closed after it, so long files do not run into max_connections.
 */
export function usePgDatabase(options: { setup?: (c: Client) => Promise<void>; postgresFlags?: string[] } = {}): PgDatabase {
  let server: PgServer | undefined;
  let template: string | undefined;
  let db: string | undefined;
  let admin: Client | undefined;
  let open: Client[] = [];
  let n = 0;
  const connect = async (o: { applicationName?: string } = {}) => {
    const c = await server!.connect(db!, o);
    open.push(c);
    return c;
  };
  beforeAll(async () => {
    server = await startPgServer({ postgresFlags: options.postgresFlags });
    if (options.setup) {
      template = await server.freshDatabase();
      const c = await server.connect(template);
      try { await options.setup(c); } finally { await c.end(); }
    }
  });
  afterAll(async () => { await server?.stop(); });
  beforeEach(async () => {
    if (template) {
      db = `${template}_t${++n}`;
      const c = await server!.connect('postgres');
      // FILE_COPY copies the template's files (a checkpoint, free with fsync off): faster here than the default
      // WAL_LOG strategy, which writes every block of a small database through the WAL.
      try { await c.query(`CREATE DATABASE ${db} TEMPLATE ${template} STRATEGY FILE_COPY`); } finally { await c.end(); }
    } else {
      db = await server!.freshDatabase();
    }
    admin = await connect();
  });
  afterEach(async () => {
    const closing = open;
    open = [];
    await Promise.all(closing.map((c) => c.end().catch(() => undefined)));
  });
  return {
    get server() { return server!; },
    get db() { return db!; },
    get admin() { return admin!; },
    connect,
  };
}

/** Everything about the public schema a migration could change, for an exact before/after comparison. */
export async function schemaSnapshot(admin: Client): Promise<unknown> {
  const q = async (sql: string) => (await admin.query(sql)).rows;
  return {
    tables: await q(`SELECT c.relname, c.relreplident, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1`),
    columns: await q(`SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def,
        col_description(a.attrelid, a.attnum) AS comment
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1, a.attnum`),
    constraints: await q(`SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def, convalidated FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`),
    indexes: await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`),
    triggers: await q(`SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1`),
    functions: await q(`SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'zdt_migrations' ORDER BY 1`),
    schemas: await q(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'public\\_%' ORDER BY 1`),
  };
}

/**
 * Writers of both versions running `writes` in a loop (a short pause between statements) while `during` runs;
 * returns how many statements each ran, the errors that stopped a writer, and the two sessions.
 */
export async function withWriters(pg: { server: PgServer; db: string }, versionSchema: string, writes: { old: string; next: string },
  during: () => Promise<void>): Promise<{ counts: { old: number; next: number }; errors: string[] } & Versions> {
  const { old, next } = await versions(pg.server, pg.db, versionSchema);
  let running = true;
  const counts = { old: 0, next: 0 };
  const errors: string[] = [];
  const loop = async (c: Client, sql: string, key: 'old' | 'next') => {
    while (running) {
      try {
        await c.query(sql);
        counts[key]++;
      } catch (err) {
        errors.push(`${key}: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const loops = [loop(old, writes.old, 'old'), loop(next, writes.next, 'next')];
  try {
    await during();
  } finally {
    running = false;
    await Promise.all(loops);
  }
  return { counts, errors, old, next };
}
