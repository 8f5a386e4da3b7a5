/**
 * The backfill: touch every row that existed before the triggers, in keyset batches over the primary key, so
 * the up triggers fill the new columns (pgroll's method: `UPDATE ... SET pk = pk` on a batch locked FOR NO KEY
 * UPDATE). Each batch is one short transaction that also advances the checkpoint, so a crash loses nothing
 * and the next run resumes after the last committed batch.
 *
 * Termination under a steady stream of inserts: the walk stops at the largest primary key that existed when
 * the backfill began (`upperKey`). Every row above it, and every row written since, went through the
 * triggers already. Unlike pgroll's `needs_backfill` column, this needs no extra column on the table.
 */
import type { ClientBase } from 'pg';
import { clock } from '../shared/clock';
import { primaryKey } from './catalog';
import { DdlRunner } from './ddl';
import { MigrationError, MigrationErrorName } from './errors';
import { qi, qn } from './sql';
import { BackfillCheckpoint, nowParam, STATE_SCHEMA } from './state';
import { BACKFILL_SETTING } from './triggers';

/** Batches of 1,000 rows keep each transaction in the low milliseconds (pgroll's default too). */
export const DEFAULT_BATCH_SIZE = 1_000;
/** No pause by default: short transactions already leave room for other writers; raise it to throttle. */
export const DEFAULT_BATCH_DELAY_MS = 0;
/** Tables with more rows than this (per pg_class.reltuples) get an estimated total instead of count(*). */
const EXACT_COUNT_LIMIT = 200_000;

export interface BackfillOptions {
  /** Rows per batch. @default 1000 */
  readonly batchSize?: number;
  /** Pause between batches, ms. @default 0 */
  readonly batchDelayMs?: number;
}

interface Key { name: string; type: string }

function keyTuple(keys: Key[], alias = ''): string {
  return `(${keys.map((k) => `${alias}${qi(k.name)}`).join(', ')})`;
}

function paramTuple(keys: Key[], first: number): string {
  return `(${keys.map((k, i) => `$${first + i}::${k.type}`).join(', ')})`;
}

/** Creates the checkpoint row of a table: its key bounds and an estimate of the rows to touch. */
async function initCheckpoint(client: ClientBase, schema: string, migration: string, table: string, keys: Key[]): Promise<void> {
  const t = qn(schema, table);
  const order = keys.map((k) => `${qi(k.name)} DESC`).join(', ');
  const upper = await client.query(`SELECT json_build_array(${keys.map((k) => `${qi(k.name)}::text`).join(', ')}) AS k FROM ${t} ORDER BY ${order} LIMIT 1`);
  const upperKey = upper.rows[0]?.k ?? null;
  const est = await client.query('SELECT reltuples::bigint AS n FROM pg_class WHERE oid = $1::regclass', [t]);
  let total = Number(est.rows[0].n);
  if (total < EXACT_COUNT_LIMIT) total = Number((await client.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.backfill_checkpoints (schema_name, migration, table_name, last_key, upper_key, rows_total, done, updated_at)
     VALUES ($1, $2, $3, NULL, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [schema, migration, table, upperKey === null ? null : JSON.stringify(upperKey), total, upperKey === null, nowParam()]);
}

export async function readCheckpoint(client: ClientBase, schema: string, migration: string, table: string): Promise<BackfillCheckpoint | null> {
  const r = await client.query(`SELECT * FROM ${STATE_SCHEMA}.backfill_checkpoints WHERE schema_name = $1 AND migration = $2 AND table_name = $3`, [schema, migration, table]);
  if (r.rowCount === 0) return null;
  const row = r.rows[0];
  return { table, lastKey: row.last_key, upperKey: row.upper_key, rowsDone: Number(row.rows_done), rowsTotal: Number(row.rows_total), batches: row.batches, done: row.done };
}

/** Runs one batch on one table (creating its checkpoint first if needed); returns the checkpoint after it. */
export async function backfillBatch(ddl: DdlRunner, schema: string, migration: string, table: string, options: BackfillOptions = {}): Promise<BackfillCheckpoint> {
  const client = ddl.client;
  const keys = await primaryKey(client, schema, table);
  if (keys.length === 0) {
    throw new MigrationError(MigrationErrorName.INVALID, `Backfill of ${schema}.${table}: expected a primary key to walk, found none`);
  }
  let cp = await readCheckpoint(client, schema, migration, table);
  if (!cp) {
    await initCheckpoint(client, schema, migration, table, keys);
    cp = (await readCheckpoint(client, schema, migration, table))!;
  }
  if (cp.done) return cp;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const t = qn(schema, table);
  const params: unknown[] = [];
  const conditions: string[] = [];
  if (cp.lastKey) {
    conditions.push(`${keyTuple(keys)} > ${paramTuple(keys, params.length + 1)}`);
    params.push(...cp.lastKey);
  }
  conditions.push(`${keyTuple(keys)} <= ${paramTuple(keys, params.length + 1)}`);
  params.push(...cp.upperKey!);
  const sql = `WITH batch AS (
      SELECT ${keys.map((k) => qi(k.name)).join(', ')} FROM ${t}
      WHERE ${conditions.join(' AND ')}
      ORDER BY ${keys.map((k) => qi(k.name)).join(', ')} LIMIT ${Math.floor(batchSize)}
      FOR NO KEY UPDATE
    ), touched AS (
      UPDATE ${t} AS x SET ${qi(keys[0].name)} = x.${qi(keys[0].name)} FROM batch
      WHERE ${keyTuple(keys, 'x.')} = ${keyTuple(keys, 'batch.')}
      RETURNING ${keys.map((k) => `x.${qi(k.name)}`).join(', ')}
    )
    SELECT (SELECT count(*) FROM touched) AS n,
           (SELECT json_build_array(${keys.map((k) => `${qi(k.name)}::text`).join(', ')}) FROM touched
            ORDER BY ${keys.map((k) => `${qi(k.name)} DESC`).join(', ')} LIMIT 1) AS last`;
  try {
    return await runBatch();
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    // Integrity violations (23xxx): an up expression produced a value a constraint rejects. Retrying cannot help.
    if (!code.startsWith('23')) throw err;
    throw new MigrationError(MigrationErrorName.VALIDATION_FAILED,
      `Backfill of ${schema}.${table} after key ${JSON.stringify(cp.lastKey)}: expected the up expressions to produce values the table accepts, but ${(err as Error).message}${(err as { detail?: string }).detail ? ` (${(err as { detail?: string }).detail})` : ''}. Roll back and fix the migration's up expression.`);
  }

  function runBatch(): Promise<BackfillCheckpoint> {
    return ddl.transaction(`backfill batch of ${schema}.${table}`, async (c) => {
      await c.query(`SET LOCAL ${BACKFILL_SETTING} = 'on'`);
      const r = await c.query(sql, params);
      const n = Number(r.rows[0].n);
      const last = r.rows[0].last as string[] | null;
      const done = n < batchSize || last === null || JSON.stringify(last) === JSON.stringify(cp!.upperKey);
      const u = await c.query(
        `UPDATE ${STATE_SCHEMA}.backfill_checkpoints SET last_key = coalesce($4, last_key), rows_done = rows_done + $5, batches = batches + 1,
           done = $6, updated_at = $7 WHERE schema_name = $1 AND migration = $2 AND table_name = $3 RETURNING *`,
        [schema, migration, table, last === null ? null : JSON.stringify(last), n, done, nowParam()]);
      const row = u.rows[0];
      return { table, lastKey: row.last_key, upperKey: row.upper_key, rowsDone: Number(row.rows_done), rowsTotal: Number(row.rows_total), batches: row.batches, done: row.done };
    });
  }
}

export interface BackfillBudget {
  /** Stop after this many batches (the Lambda returns and the state machine loops). At least one batch runs. */
  readonly maxBatches?: number;
  /** Stop once this much time has passed (ms, by clock()). */
  readonly timeBudgetMs?: number;
  /** Called after each batch. */
  readonly onBatch?: (checkpoint: BackfillCheckpoint) => void;
}

/** Runs batches over the tables in order until all are done or the budget is spent; returns the checkpoints. */
export async function runBackfill(ddl: DdlRunner, schema: string, migration: string, tables: readonly string[],
  options: BackfillOptions & BackfillBudget = {}): Promise<BackfillCheckpoint[]> {
  const startedAt = clock().now();
  let batches = 0;
  const result: BackfillCheckpoint[] = [];
  for (const table of tables) {
    let cp = await readCheckpoint(ddl.client, schema, migration, table);
    while (!cp?.done) {
      // At least one batch per call, so any budget makes progress.
      if (batches > 0 && ((options.maxBatches !== undefined && batches >= options.maxBatches)
        || (options.timeBudgetMs !== undefined && clock().now() - startedAt >= options.timeBudgetMs))) break;
      if (batches > 0 && (options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS) > 0) await clock().sleep(options.batchDelayMs!);
      cp = await backfillBatch(ddl, schema, migration, table, options);
      batches++;
      options.onBatch?.(cp);
    }
    if (cp) result.push(cp);
  }
  return result;
}
