/** Shared fixtures of the database tests: a users table and clients of the two schema versions. */
import { Client } from 'pg';
import { MigrationEngine, EngineOptions } from '../../lambda/database/engine';
import { PgServer } from './pg-server';

/** Engine options for tests: short lock timeouts and backoffs keep retries fast. */
export const FAST: EngineOptions = { lockTimeoutMs: 200, retryBaseDelayMs: 20, retryMaxDelayMs: 200, maxAttempts: 20, batchSize: 500 };

export async function createUsers(c: Client, rows: number): Promise<void> {
  await c.query(`CREATE TABLE users (
    id bigserial PRIMARY KEY, name text NOT NULL, email text, price_cents integer NOT NULL DEFAULT 0,
    street text, city text NOT NULL DEFAULT 'unknown', created_at timestamptz NOT NULL DEFAULT now())`);
  await c.query(`INSERT INTO users (name, email, price_cents, street, city)
    SELECT 'user ' || g, 'u' || g || '@example.com', g, g || ' Main St', 'City ' || (g % 10) FROM generate_series(1, $1::int) g`, [rows]);
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
