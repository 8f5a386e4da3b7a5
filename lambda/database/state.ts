/**
 * The engine's own bookkeeping, in the schema `zdt_migrations` of the same database: one row per migration
 * (its definition, lifecycle status, version schemas, gate token) and one backfill checkpoint per table.
 * A partial unique index allows one active migration per schema; an advisory lock keeps two engine actions
 * from overlapping.
 */
import type { ClientBase } from 'pg';
import { clock } from '../shared/clock';
import { pgCode } from './ddl';
import { MigrationError, MigrationErrorName } from './errors';
import { Migration } from './types';

export const STATE_SCHEMA = 'zdt_migrations';

/** First key of the two-key advisory lock, so ours never collide with an application's locks ("zdt"). */
export const ADVISORY_LOCK_CLASS = 0x7a6474;

/**
 * Lifecycle of a migration. 'starting' was written by engines whose start recorded the migration before its DDL
 * transaction; start now records it in that transaction ('started'), and still replaces a 'starting' record it finds.
 */
export type MigrationStatus = 'starting' | 'started' | 'backfilled' | 'validated' | 'completed' | 'rolled_back';
export const ACTIVE_STATUSES: readonly MigrationStatus[] = ['starting', 'started', 'backfilled', 'validated'];

export interface MigrationRecord {
  readonly schema: string;
  readonly name: string;
  readonly status: MigrationStatus;
  readonly migration: Migration;
  readonly versionSchema: string;
  /** Version schema of the previous completed migration (what the old application version uses), if any. */
  readonly previousVersionSchema: string | null;
  readonly gateToken: string | null;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly completedAt: string | null;
}

export interface BackfillCheckpoint {
  readonly table: string;
  /** Primary key of the last row touched (as text, in key order); null before the first batch. */
  readonly lastKey: string[] | null;
  /** Largest primary key when the backfill began: rows above it were written with the triggers in place. */
  readonly upperKey: string[] | null;
  readonly rowsDone: number;
  /** Rows to touch (estimate taken when the backfill began). */
  readonly rowsTotal: number;
  readonly batches: number;
  readonly done: boolean;
}

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.migrations (
  schema_name text NOT NULL,
  name text NOT NULL,
  status text NOT NULL,
  definition jsonb NOT NULL,
  version_schema text NOT NULL,
  previous_version_schema text,
  gate_token text,
  started_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz,
  PRIMARY KEY (schema_name, name)
);
CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_active ON ${STATE_SCHEMA}.migrations (schema_name)
  WHERE status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')});
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.cancel_requests (
  schema_name text PRIMARY KEY,
  requested_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.backfill_checkpoints (
  schema_name text NOT NULL,
  migration text NOT NULL,
  table_name text NOT NULL,
  last_key jsonb,
  upper_key jsonb,
  rows_done bigint NOT NULL DEFAULT 0,
  rows_total bigint NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  done boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (schema_name, migration, table_name)
);`;

/** SQLSTATEs of a lost race between two sessions creating the same object with IF NOT EXISTS. */
const CREATE_RACE_CODES = new Set(['23505', '42P06', '42P07']);

export async function ensureStateSchema(client: ClientBase): Promise<void> {
  // The newest table: a state schema made by an older engine gets the tables it lacks.
  const exists = await client.query(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = 'cancel_requests'`, [STATE_SCHEMA]);
  if (exists.rowCount === 1) return;
  try {
    await client.query(DDL);
  } catch (err) {
    if (!CREATE_RACE_CODES.has(pgCode(err) ?? '')) throw err;
    await client.query(DDL);
  }
}

export function nowParam(): string {
  return new Date(clock().now()).toISOString();
}

/**
 * Runs `body` holding the schema's migration lock (a session advisory lock), so two engine actions on the
 * same schema never overlap. Fails at once with ZdtMigrationInProgress when another session holds it.
 */
export async function withMigrationLock<T>(client: ClientBase, schema: string, body: () => Promise<T>): Promise<T> {
  const got = await client.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [ADVISORY_LOCK_CLASS, schema]);
  if (!got.rows[0].ok) {
    const h = await migrationLockHolder(client, schema);
    throw new MigrationError(MigrationErrorName.IN_PROGRESS,
      `Expected the migration lock of schema "${schema}" to be free, but another session holds it${h ? ` (pid ${h.pid}, application "${h.application}", ${h.state} since ${h.since})` : ''}. `
      + 'Wait for that run to finish, or stop it (migrate cancel).');
  }
  try {
    return await body();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [ADVISORY_LOCK_CLASS, schema]).catch(() => undefined);
  }
}

/** The session holding the schema's migration lock (another engine action running), if any. */
export async function migrationLockHolder(client: ClientBase, schema: string): Promise<{ pid: number; application: string; state: string; since: string } | null> {
  const r = await client.query(
    `SELECT a.pid, a.application_name, a.state, a.query_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = hashtext($2)::oid AND l.granted LIMIT 1`, [ADVISORY_LOCK_CLASS, schema]);
  const h = r.rows[0];
  return h ? { pid: h.pid, application: h.application_name, state: h.state, since: h.query_start ? new Date(h.query_start).toISOString() : 'unknown' } : null;
}

/** Asks the engine action running on the schema to stop (it reads the request between batches and DDL attempts). */
export async function requestCancel(client: ClientBase, schema: string): Promise<void> {
  await client.query(`INSERT INTO ${STATE_SCHEMA}.cancel_requests (schema_name, requested_at) VALUES ($1, $2)
    ON CONFLICT (schema_name) DO UPDATE SET requested_at = EXCLUDED.requested_at`, [schema, nowParam()]);
}

export async function cancelRequested(client: ClientBase, schema: string): Promise<boolean> {
  return (await client.query(`SELECT 1 FROM ${STATE_SCHEMA}.cancel_requests WHERE schema_name = $1`, [schema])).rowCount === 1;
}

/** Forgets a cancel request: when it was honoured, and when a new action takes the lock (a request is for the run that was going on). */
export async function clearCancelRequest(client: ClientBase, schema: string): Promise<void> {
  await client.query(`DELETE FROM ${STATE_SCHEMA}.cancel_requests WHERE schema_name = $1`, [schema]);
}

function toRecord(row: Record<string, unknown>): MigrationRecord {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    schema: row.schema_name as string,
    name: row.name as string,
    status: row.status as MigrationStatus,
    migration: row.definition as Migration,
    versionSchema: row.version_schema as string,
    previousVersionSchema: (row.previous_version_schema as string | null) ?? null,
    gateToken: (row.gate_token as string | null) ?? null,
    startedAt: iso(row.started_at)!,
    updatedAt: iso(row.updated_at)!,
    completedAt: iso(row.completed_at),
  };
}

/**
 * JSON with object keys sorted at every level: the stored definition is jsonb, which reorders keys (shorter keys
 * first), so two definitions are the same when their canonical texts are.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
    : v));
}

/** Whether a stored definition and a given one are the same migration (key order ignored). */
export function sameDefinition(stored: Migration, given: Migration): boolean {
  return canonicalJson(stored) === canonicalJson(given);
}

export async function getMigration(client: ClientBase, schema: string, name: string): Promise<MigrationRecord | null> {
  const r = await client.query(`SELECT * FROM ${STATE_SCHEMA}.migrations WHERE schema_name = $1 AND name = $2`, [schema, name]);
  return r.rowCount === 0 ? null : toRecord(r.rows[0]);
}

/** The schema's active migration, if any. */
export async function getActiveMigration(client: ClientBase, schema: string): Promise<MigrationRecord | null> {
  const r = await client.query(`SELECT * FROM ${STATE_SCHEMA}.migrations WHERE schema_name = $1 AND status = ANY($2)`, [schema, ACTIVE_STATUSES]);
  return r.rowCount === 0 ? null : toRecord(r.rows[0]);
}

/** The most recent migration of the schema (active or not). */
export async function getLatestMigration(client: ClientBase, schema: string): Promise<MigrationRecord | null> {
  const r = await client.query(`SELECT * FROM ${STATE_SCHEMA}.migrations WHERE schema_name = $1 ORDER BY started_at DESC, updated_at DESC LIMIT 1`, [schema]);
  return r.rowCount === 0 ? null : toRecord(r.rows[0]);
}

/** Version schema of the latest completed migration whose schema still exists. */
export async function currentVersionSchema(client: ClientBase, schema: string): Promise<string | null> {
  const r = await client.query(
    `SELECT m.version_schema FROM ${STATE_SCHEMA}.migrations m JOIN pg_namespace n ON n.nspname = m.version_schema
     WHERE m.schema_name = $1 AND m.status = 'completed' ORDER BY m.completed_at DESC LIMIT 1`, [schema]);
  return r.rowCount === 0 ? null : r.rows[0].version_schema;
}

export async function setStatus(client: ClientBase, schema: string, name: string, status: MigrationStatus): Promise<void> {
  await client.query(
    `UPDATE ${STATE_SCHEMA}.migrations SET status = $3, updated_at = $4,
       completed_at = CASE WHEN $3 = 'completed' THEN $4::timestamptz ELSE completed_at END
     WHERE schema_name = $1 AND name = $2`, [schema, name, status, nowParam()]);
}

export async function setGateToken(client: ClientBase, schema: string, name: string, token: string | null): Promise<void> {
  await client.query(`UPDATE ${STATE_SCHEMA}.migrations SET gate_token = $3, updated_at = $4 WHERE schema_name = $1 AND name = $2`,
    [schema, name, token, nowParam()]);
}

export async function getCheckpoints(client: ClientBase, schema: string, migration: string): Promise<BackfillCheckpoint[]> {
  const r = await client.query(
    `SELECT * FROM ${STATE_SCHEMA}.backfill_checkpoints WHERE schema_name = $1 AND migration = $2 ORDER BY table_name`, [schema, migration]);
  return r.rows.map(rowToCheckpoint);
}

/** A row of backfill_checkpoints (SELECT * or RETURNING *) as a checkpoint. */
export function rowToCheckpoint(row: Record<string, unknown>): BackfillCheckpoint {
  return {
    table: row.table_name as string,
    lastKey: row.last_key as string[] | null,
    upperKey: row.upper_key as string[] | null,
    rowsDone: Number(row.rows_done),
    rowsTotal: Number(row.rows_total),
    batches: row.batches as number,
    done: row.done as boolean,
  };
}

export async function deleteCheckpoints(client: ClientBase, schema: string, migration: string): Promise<void> {
  await client.query(`DELETE FROM ${STATE_SCHEMA}.backfill_checkpoints WHERE schema_name = $1 AND migration = $2`, [schema, migration]);
}
