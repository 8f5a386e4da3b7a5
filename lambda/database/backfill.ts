/**
 * The backfill: fill the new columns/tables for every row that existed before the triggers, in keyset batches
 * over the primary key. Each batch is one short transaction, sent with its BEGIN and COMMIT in one round trip
 * (so row locks are released as soon as the server is done, not a client round trip later), made of one
 * statement that
 *   - finds the batch's upper key (an index-only walk of the primary key from the checkpoint; for a composite
 *     key, a query of its own just before);
 *   - updates the rows of that key range, in key order (a range scan of the primary key index), computing the
 *     new values itself (BackfillStep of each operation) on each row's latest version, only where a writer has
 *     not set them already;
 *   - copies them into new tables (moveColumns) with INSERT ... ON CONFLICT DO NOTHING;
 *   - advances the checkpoint, so a crash loses nothing and the next run resumes after the last committed batch.
 *     Only the backfill writes the checkpoint row, so it never makes an application writer wait.
 * The migration's row triggers do not fire for these writes (a transaction-local setting their WHEN clause
 * checks, triggers.ts). pgroll's `UPDATE ... SET pk = pk` instead locks each batch in a separate pass and lets a
 * PL/pgSQL trigger compute every row.
 *
 * Batches are sized to a target duration (nextBatchSize), between MIN_BATCH_SIZE and `batchSize`: a batch holds
 * its row locks that long, and its commit flushes the WAL it wrote, which concurrent commits wait behind. A batch
 * runs with the engine's lock_timeout: a row that a long transaction holds makes it give up (releasing the rows
 * it already locked) and retry with backoff (DdlRunner), instead of holding its own locks while it waits.
 *
 * Termination under a steady stream of inserts: the walk stops at the largest primary key that existed when
 * the backfill began (`upperKey`). Every row above it, and every row written since, went through the
 * triggers already. Unlike pgroll's `needs_backfill` column, this needs no extra column on the table.
 */
import type { ClientBase } from 'pg';
import { clock } from '../shared/clock';
import { primaryKey } from './catalog';
import { DdlRunner, pgCode } from './ddl';
import { MigrationError, MigrationErrorName } from './errors';
import { BackfillStep } from './operations/operation';
import { qi, ql, qn } from './sql';
import { BackfillCheckpoint, nowParam, rowToCheckpoint, STATE_SCHEMA } from './state';
import { BACKFILL_SETTING } from './triggers';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TARGET_MS, DEFAULT_BATCH_DELAY_MS } from './migration-contract';
export { DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TARGET_MS, DEFAULT_BATCH_DELAY_MS };

/**
 * Settings of every backfill transaction. The triggers skip the backfill's own writes; and the batch does not wait
 * for its commit to reach the disk (synchronous_commit off, this transaction only). That is safe here: a batch and
 * its checkpoint commit in one transaction, so a server crash loses both together (at most the last few hundred ms
 * of batches, never a write of the application), and the resume redoes them; any later synchronous commit (the
 * application's, or complete's) flushes the WAL before it, batches included. Writers then stop queueing behind
 * the backfill's own WAL flushes.
 */
const BATCH_SETTINGS = { [BACKFILL_SETTING]: 'on', synchronous_commit: 'off' };

/** First batch of a run (pgroll's fixed size): small enough to be quick on any table, then adapted. */
export const INITIAL_BATCH_SIZE = 1_000;
/** Smallest batch: even on a table with wide rows or slow triggers of its own, a batch makes progress. */
export const MIN_BATCH_SIZE = 10;
/**
 * A batch is at least this many times its fixed cost (round trip, planning, commit), measured when the backfill
 * begins: over a slow link or a synchronously replicated commit, a short target would otherwise shrink batches
 * to a few rows that spend most of their time on overhead. At 2, at least half of a batch's time is row work.
 */
export const MIN_TARGET_OVERHEAD_FACTOR = 2;
/** Probes of the fixed cost of a batch (the median is taken). */
const OVERHEAD_PROBES = 3;
/** A batch grows at most this factor over the last one: one fast batch on cached pages says little about the next. */
const MAX_GROWTH = 2;
/** SQLSTATE classes of errors caused by the data and the up expressions (data exception, integrity constraint violation). */
const DATA_ERROR_CLASSES = ['22', '23'];
/** Tables with more rows than this (per pg_class.reltuples) get an estimated total instead of count(*). */
const EXACT_COUNT_LIMIT = 200_000;

export interface BackfillOptions {
  /** Largest batch (rows); with `batchTargetMs` 0, every batch's size. @default 10000 */
  readonly batchSize?: number;
  /**
   * Target duration of one batch transaction (ms): each batch is sized from the last one's measured duration.
   * 0 turns sizing off: every batch has `batchSize` rows. @default 5 (DEFAULT_BATCH_TARGET_MS)
   */
  readonly batchTargetMs?: number;
  /** Pause between batches, ms. @default 0 */
  readonly batchDelayMs?: number;
}

/**
 * The size of the next batch: proportional to how far the last batch (`size` rows in `elapsedMs`) was from the
 * target, growing at most MAX_GROWTH times, within [MIN_BATCH_SIZE, max]. Pure, for the sizing's tests.
 */
export function nextBatchSize(size: number, elapsedMs: number, targetMs: number, max: number): number {
  const min = Math.min(MIN_BATCH_SIZE, max);
  if (targetMs <= 0) return max;
  const scaled = elapsedMs > 0 ? size * (targetMs / elapsedMs) : size * MAX_GROWTH;
  return Math.max(min, Math.min(max, Math.floor(size * MAX_GROWTH), Math.floor(scaled)));
}

/**
 * Elapsed real time of database work. Not clock(): the rehearsal's virtual clock does not advance while a real
 * PostgreSQL works, and lock hold time is a property of the real server.
 */
function stopwatch(): () => number {
  const t = performance.now();
  return () => performance.now() - t;
}

interface Key { name: string; type: string }

function keyTuple(keys: readonly Key[]): string {
  return `(${keys.map((k) => qi(k.name)).join(', ')})`;
}

/** Rows to touch: pg_class's estimate, or an exact count on a table small enough (EXACT_COUNT_LIMIT). */
async function rowsToTouch(client: ClientBase, t: string, exact: boolean): Promise<number> {
  const est = await client.query('SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = $1::regclass', [t]);
  const total = Number(est.rows[0].n);
  return exact && total < EXACT_COUNT_LIMIT ? Number((await client.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n) : total;
}

/**
 * Creates the checkpoint row of a table: the largest key now (the upper end of the walk) and the rows to touch.
 * `exact` false (inside start's DDL transaction, where a count would hold its locks): the estimate only; the first
 * batch run counts (TableBackfill.prepare).
 */
export async function initCheckpoint(client: ClientBase, schema: string, migration: string, table: string, exact = true): Promise<void> {
  const keys = await primaryKey(client, schema, table);
  if (keys.length === 0) {
    throw new MigrationError(MigrationErrorName.INVALID, `Backfill of ${schema}.${table}: expected a primary key to walk, found none`);
  }
  const t = qn(schema, table);
  const order = keys.map((k) => `${qi(k.name)} DESC`).join(', ');
  const upper = await client.query(`SELECT json_build_array(${keys.map((k) => `${qi(k.name)}::text`).join(', ')}) AS k FROM ${t} ORDER BY ${order} LIMIT 1`);
  const upperKey = upper.rows[0]?.k ?? null;
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.backfill_checkpoints (schema_name, migration, table_name, last_key, upper_key, rows_total, done, updated_at)
     VALUES ($1, $2, $3, NULL, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [schema, migration, table, upperKey === null ? null : JSON.stringify(upperKey), await rowsToTouch(client, t, exact), upperKey === null, nowParam()]);
}

export async function readCheckpoint(client: ClientBase, schema: string, migration: string, table: string): Promise<BackfillCheckpoint | null> {
  const r = await client.query(`SELECT * FROM ${STATE_SCHEMA}.backfill_checkpoints WHERE schema_name = $1 AND migration = $2 AND table_name = $3`, [schema, migration, table]);
  return r.rowCount === 0 ? null : rowToCheckpoint(r.rows[0]);
}

/** One table's backfill, prepared once per run: its key, its checkpoint, and the batch statement's parts. */
export class TableBackfill {
  /** Rows in the last batch and its duration (ms), for sizing and reporting. */
  lastBatch: { rows: number; size: number; ms: number } | null = null;

  private constructor(
    private readonly ddl: DdlRunner,
    private readonly schema: string,
    private readonly migration: string,
    readonly table: string,
    private readonly keys: readonly Key[],
    private readonly steps: readonly BackfillStep[],
    public checkpoint: BackfillCheckpoint,
  ) {}

  /** Reads the table's key and checkpoint (creating it on the first run). `steps` all concern `table`. */
  static async prepare(ddl: DdlRunner, schema: string, migration: string, table: string, steps: readonly BackfillStep[]): Promise<TableBackfill> {
    const client = ddl.client;
    const keys = await primaryKey(client, schema, table);
    if (keys.length === 0) {
      throw new MigrationError(MigrationErrorName.INVALID, `Backfill of ${schema}.${table}: expected a primary key to walk, found none`);
    }
    let cp = await readCheckpoint(client, schema, migration, table);
    if (!cp) {
      await initCheckpoint(client, schema, migration, table);
      cp = (await readCheckpoint(client, schema, migration, table))!;
    } else if (cp.batches === 0 && !cp.done) {
      // Made by start with an estimate: count before the first batch (outside any DDL transaction).
      const total = await rowsToTouch(client, qn(schema, table), true);
      await client.query(`UPDATE ${STATE_SCHEMA}.backfill_checkpoints SET rows_total = $4 WHERE schema_name = $1 AND migration = $2 AND table_name = $3`,
        [schema, migration, table, total]);
      cp = { ...cp, rowsTotal: total };
    }
    return new TableBackfill(ddl, schema, migration, table, keys, steps.filter((s) => s.table === table), cp);
  }

  /** Runs one batch of at most `size` rows; returns the checkpoint after it. */
  async batch(size: number): Promise<BackfillCheckpoint> {
    const cp = this.checkpoint;
    if (cp.done) return cp;
    size = Math.max(1, Math.floor(size));
    // A single-column key finds the batch's upper bound inside the batch statement; a composite key (whose row
    // comparison with a subquery no index serves) finds it first, in a query of its own.
    const bound = this.keys.length === 1 ? undefined : await this.boundOf(cp, size);
    const elapsed = stopwatch();
    try {
      const result = await this.ddl.oneShot(`backfill batch of ${this.schema}.${this.table}`, this.statement(cp, size, bound),
        { settings: BATCH_SETTINGS });
      this.checkpoint = rowToCheckpoint(result.rows[0]);
      this.lastBatch = { rows: this.checkpoint.rowsDone - cp.rowsDone, size, ms: elapsed() };
      return this.checkpoint;
    } catch (err) {
      const code = pgCode(err) ?? '';
      // Data exceptions (22xxx: a cast, a division by zero, a value too long) and integrity violations (23xxx: a
      // constraint rejects the value) come from the up expressions and the rows: retrying cannot help.
      if (!DATA_ERROR_CLASSES.some((c) => code.startsWith(c))) throw err;
      const detail = (err as { detail?: string }).detail;
      throw new MigrationError(MigrationErrorName.VALIDATION_FAILED,
        `Backfill of ${this.schema}.${this.table} after key ${JSON.stringify(cp.lastKey)}: expected the up expressions to produce values the table accepts, but ${(err as Error).message} (SQLSTATE ${code})${detail ? ` (${detail})` : ''}. `
        + `The rows after that key were not changed; roll back (migrate rollback) and fix the migration's up expression or the data, then start again.`);
    }
  }

  /**
   * The fixed cost of a batch (ms): a transaction like a batch's, BEGIN to COMMIT in one round trip, that writes
   * only the checkpoint row (its timestamp), so it pays the commit's WAL flush as a batch does. Median of a few.
   */
  async measureOverhead(): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < OVERHEAD_PROBES; i++) {
      const elapsed = stopwatch();
      await this.ddl.oneShot(`backfill overhead probe of ${this.schema}.${this.table}`,
        `UPDATE ${STATE_SCHEMA}.backfill_checkpoints SET updated_at = ${ql(nowParam())}::timestamptz
         WHERE schema_name = ${ql(this.schema)} AND migration = ${ql(this.migration)} AND table_name = ${ql(this.table)}`,
        { settings: BATCH_SETTINGS });
      times.push(elapsed());
    }
    return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
  }

  /**
   * The key of the `size`-th row after the checkpoint (a walk of the primary key index, no locks, outside the
   * batch transaction); null when fewer rows are left below the upper key.
   */
  private async boundOf(cp: BackfillCheckpoint, size: number): Promise<string[] | null> {
    const keys = this.keys.map((k) => qi(k.name)).join(', ');
    const r = await this.ddl.client.query(
      `SELECT json_build_array(${this.keys.map((k) => `${qi(k.name)}::text`).join(', ')}) AS k
       FROM (SELECT ${keys} FROM ${qn(this.schema, this.table)} WHERE ${this.range(cp.lastKey, this.literal(cp.upperKey!))}
             ORDER BY ${keys} OFFSET ${size - 1} LIMIT 1) b`);
    return r.rows[0]?.k ?? null;
  }

  /** A key as a row of quoted literals cast to the key's types. */
  private literal(values: readonly string[]): string {
    return `(${this.keys.map((k, i) => `${ql(values[i])}::${k.type}`).join(', ')})`;
  }

  /** `(key) > last AND (key) <= hi` (`hi` is SQL). */
  private range(lastKey: readonly string[] | null, hi: string): string {
    return [...(lastKey ? [`${keyTuple(this.keys)} > ${this.literal(lastKey)}`] : []), `${keyTuple(this.keys)} <= ${hi}`].join(' AND ');
  }

  /**
   * The batch: one statement that finds the range's upper bound (single-column key), touches the range in key
   * order, copies, and advances the checkpoint. Its values are quoted literals, so that it runs with BEGIN and
   * COMMIT in one round trip (DdlRunner.oneShot). `bound` is given for a composite key (null: the rest of the range).
   */
  private statement(cp: BackfillCheckpoint, size: number, bound: string[] | null | undefined): string {
    const t = qn(this.schema, this.table);
    const upper = this.literal(cp.upperKey!);
    const ctes: string[] = [];
    let hi: string;
    let lastKey: string;
    let done: string;
    if (bound === undefined) {
      const key = qi(this.keys[0].name);
      ctes.push(
        `bound AS (SELECT ${key} AS hi FROM ${t} WHERE ${this.range(cp.lastKey, upper)} ORDER BY ${key} OFFSET ${size - 1} LIMIT 1)`,
        `batch AS (SELECT coalesce((SELECT hi FROM bound), ${upper}) AS hi, coalesce((SELECT hi FROM bound) = ${upper}, true) AS done)`);
      hi = '(SELECT hi FROM batch)';
      lastKey = 'jsonb_build_array((SELECT hi FROM batch)::text)';
      done = '(SELECT done FROM batch)';
    } else {
      const last = bound ?? cp.upperKey!;
      hi = this.literal(last);
      lastKey = `${ql(JSON.stringify(last))}::jsonb`;
      done = String(bound === null || JSON.stringify(bound) === JSON.stringify(cp.upperKey));
    }
    const sets = this.steps.flatMap((s) => s.set ?? []);
    const copies = this.steps.flatMap((s) => (s.copy ? [s.copy] : []));
    // Touching a row with no column to compute (a pure copy) still updates it: the row lock orders the copy
    // after any writer of the row, and RETURNING gives its latest values, as an AFTER trigger would see them.
    const assignments = sets.length > 0
      ? sets.map((s) => `${qi(s.column)} = ${s.value}`)
      : [`${qi(this.keys[0].name)} = ${qi(this.keys[0].name)}`];
    const returned = [...new Set([...this.keys.map((k) => k.name), ...copies.flatMap((c) => [c.sourceKey, ...c.columns])])];
    ctes.push(
      `touched AS (UPDATE ${t} SET ${assignments.join(', ')} WHERE ${this.range(cp.lastKey, hi)} RETURNING ${returned.map(qi).join(', ')})`,
      ...copies.map((c, i) => `copy${i} AS (INSERT INTO ${qn(this.schema, c.table)} (${[c.key, ...c.columns].map(qi).join(', ')})
        SELECT ${[c.sourceKey, ...c.columns].map(qi).join(', ')} FROM touched ON CONFLICT (${qi(c.key)}) DO NOTHING)`),
      `checkpoint AS (UPDATE ${STATE_SCHEMA}.backfill_checkpoints SET last_key = ${lastKey},
        rows_done = rows_done + (SELECT count(*) FROM touched), batches = batches + 1, done = ${done}, updated_at = ${ql(nowParam())}::timestamptz
        WHERE schema_name = ${ql(this.schema)} AND migration = ${ql(this.migration)} AND table_name = ${ql(this.table)} RETURNING *)`,
    );
    return `WITH ${ctes.join(',\n')} SELECT * FROM checkpoint`;
  }
}

export interface BatchReport {
  readonly checkpoint: BackfillCheckpoint;
  /** Rows this batch touched. */
  readonly rows: number;
  /** Rows it was sized for. */
  readonly size: number;
  /** The duration batches are sized to (ms): `batchTargetMs`, or twice the measured fixed cost of a batch if more. */
  readonly targetMs: number;
  /** Its duration (ms of real time): the longest it held a row lock. */
  readonly ms: number;
}

export interface BackfillBudget {
  /** Stop after this many batches (the Lambda returns and the state machine loops). At least one batch runs. */
  readonly maxBatches?: number;
  /** Stop once this much time has passed (ms, by clock()). */
  readonly timeBudgetMs?: number;
  /** Called after each batch with its checkpoint. */
  readonly onBatch?: (checkpoint: BackfillCheckpoint, batch: BatchReport) => void;
  /** Called before each batch; throws to stop the backfill there (a cancel request). */
  readonly shouldStop?: () => Promise<void>;
}

/** Runs batches over the tables in order until all are done or the budget is spent; returns the checkpoints. */
export async function runBackfill(ddl: DdlRunner, schema: string, migration: string, steps: readonly BackfillStep[],
  options: BackfillOptions & BackfillBudget = {}): Promise<BackfillCheckpoint[]> {
  const startedAt = clock().now();
  const max = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const targetMs = options.batchTargetMs ?? DEFAULT_BATCH_TARGET_MS;
  const delayMs = options.batchDelayMs ?? DEFAULT_BATCH_DELAY_MS;
  let batches = 0;
  let size = targetMs > 0 ? Math.min(max, INITIAL_BATCH_SIZE) : max;
  let effectiveTargetMs: number | undefined;
  // At least one batch per call, so any budget makes progress.
  const spent = () => batches > 0 && ((options.maxBatches !== undefined && batches >= options.maxBatches)
    || (options.timeBudgetMs !== undefined && clock().now() - startedAt >= options.timeBudgetMs));
  const result: BackfillCheckpoint[] = [];
  for (const table of [...new Set(steps.map((s) => s.table))]) {
    if (spent()) break;
    const tb = await TableBackfill.prepare(ddl, schema, migration, table, steps);
    if (effectiveTargetMs === undefined && !tb.checkpoint.done) {
      effectiveTargetMs = targetMs > 0 ? Math.max(targetMs, MIN_TARGET_OVERHEAD_FACTOR * await tb.measureOverhead()) : 0;
    }
    while (!tb.checkpoint.done && !spent()) {
      if (batches > 0 && delayMs > 0) await clock().sleep(delayMs);
      await options.shouldStop?.();
      const cp = await tb.batch(size);
      batches++;
      const last = tb.lastBatch!;
      // A short last batch (the end of the range) says nothing about the speed: keep the size.
      if (!cp.done) size = nextBatchSize(size, last.ms, effectiveTargetMs!, max);
      options.onBatch?.(cp, { checkpoint: cp, ...last, targetMs: effectiveTargetMs! });
    }
    result.push(tb.checkpoint);
  }
  return result;
}
