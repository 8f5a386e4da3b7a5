/**
 * Contract between the SchemaMigration construct (lib/database) and the migration Lambda: its ZDT_CONFIG and
 * the requests its state machine sends. Types and constants only.
 */
import { Migration } from './types';

/** detail-type of the migration events (EventBridge, source EVENT_SOURCE). */
export const MigrationEvent = {
  STARTED: 'Migration Started',
  BACKFILLED: 'Migration Backfilled',
  WAITING_FOR_ROLLOUT: 'Migration Waiting For Rollout',
  COMPLETED: 'Migration Completed',
  ROLLED_BACK: 'Migration Rolled Back',
  FAILED: 'Migration Failed',
} as const;
export type MigrationEventType = (typeof MigrationEvent)[keyof typeof MigrationEvent];

/** How the Lambda connects: TLS verified against the bundled CA set, TLS without verification, or plain. */
export type TlsMode = 'verify-full' | 'require' | 'disable';

/** ZDT_CONFIG of the migration Lambda. */
export interface MigrationHandlerConfig {
  /** Secrets Manager secret with the RDS secret JSON { host, port, username, password, dbname }. */
  readonly secretArn: string;
  /** Physical schema. */
  readonly schema: string;
  /** The migration, when the construct was given one (a request may carry its own instead). */
  readonly migration?: Migration;
  /** Largest backfill batch (rows). */
  readonly batchSize: number;
  /** Target duration of one backfill batch (ms; 0: every batch has batchSize rows). Absent: the engine's default. */
  readonly batchTargetMs?: number;
  readonly batchDelayMs: number;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly maxLockAttempts: number;
  readonly acknowledgeHighRisk: boolean;
  /** Change the schema although the database has logical replication slots (EngineOptions.acknowledgeLogicalReplication). */
  readonly acknowledgeLogicalReplication: boolean;
  /** How long one backfillBatch invocation keeps running batches before it returns (ms). */
  readonly backfillTimeBudgetMs: number;
  readonly tls: TlsMode;
}

export type MigrationRequest =
  /** Validates and returns the plan; changes nothing. */
  | { readonly action: 'plan'; readonly migration?: Migration }
  | { readonly action: 'start'; readonly migration?: Migration }
  /** Runs batches for up to backfillTimeBudgetMs; the state machine loops until `done`. */
  | { readonly action: 'backfillBatch'; readonly migration?: Migration }
  | { readonly action: 'validate'; readonly migration?: Migration }
  | { readonly action: 'complete'; readonly migration?: Migration }
  | { readonly action: 'rollback'; readonly migration?: Migration }
  | { readonly action: 'status'; readonly migration?: Migration }
  /** lambda:invoke.waitForTaskToken: stores the token; releaseGate resumes the execution. */
  | { readonly action: 'waitGate'; readonly migration?: Migration; readonly taskToken: string }
  /** Sends task success to the gate the schema's active migration waits at (EventBridge target on 'Rollout Completed'). */
  | { readonly action: 'releaseGate'; readonly reason?: string }
  /**
   * Sends task failure (MigrationErrorName.ROLLBACK_REQUESTED) to the gate the schema's active migration waits at: its
   * execution rolls the migration back. A ReleasePlan sends it once its traffic rollout has rolled back.
   */
  | { readonly action: 'rejectGate'; readonly reason?: string }
  /**
   * Stops the engine action running on the schema in another invocation (a Start or a Backfill of an execution that
   * was stopped, or one to be stopped): the engine's cancel (the CLI's `migrate cancel`). What it committed stays: a
   * new execution (or `migrate start` / `backfill`) resumes it, rollback undoes it. Answers a CancelResult.
   */
  | { readonly action: 'cancel'; readonly graceMs?: number };

/** Longest grace a cancel request may give (ms): cancel waits up to twice this, well inside the handler's timeout. */
export const MAX_CANCEL_GRACE_MS = 60_000;

/** What the cancel action answers. */
export interface CancelResult {
  /** Whether an engine action was running on the schema (held its migration lock). */
  readonly running: boolean;
  /** The schema's active migration, if any. */
  readonly migration: string | null;
  /** The database session that ran the action. */
  readonly pid: number | null;
  /** Whether its query had to be cancelled (pg_cancel_backend) because it did not stop between batches within graceMs. */
  readonly cancelledQuery: boolean;
}

export interface BackfillBatchResult {
  readonly migration: string;
  readonly done: boolean;
  readonly rowsDone: number;
  readonly rowsTotal: number;
  /** Checkpoint per table, as committed in the database (the source of truth for a resume). */
  readonly checkpoint: readonly { readonly table: string; readonly lastKey: string[] | null; readonly rowsDone: number; readonly done: boolean }[];
}

// Engine defaults: read by the engine, the CLI and the SchemaMigration construct (which documents them as @default).

/** Largest batch: the seed's 10,000 rows. Batches grow to it only while they stay within the target duration. */
export const DEFAULT_BATCH_SIZE = 10_000;
/**
 * Target duration of one batch transaction: the longest a writer of a row in the batch waits for its lock. Batches
 * commit without waiting for their WAL flush (backfill.ts BATCH_SETTINGS), so their size does not delay other
 * commits directly; what remains is each batch's fixed cost against how long it holds its rows. Measured
 * (BENCHMARKS.md `npm run bench:db`: 1M rows, 4 writers, 2 shared cores, five runs of 5 rounds): 5 ms and 20 ms
 * batches give the same concurrent-write p99 within the noise between runs (2.5x to 6x idle for either), 5 ms at
 * about 73-77% of one big UPDATE's speed and 20 ms at about 80%; 5 ms holds each row lock a quarter as long, which
 * is what an application write that hits a row of the batch waits. 2 ms batches fall to about 64% for no better
 * p99; 50 ms batches show in the writers' p99.
 * Over a slow link the target rises to backfill.ts MIN_TARGET_OVERHEAD_FACTOR times the measured cost of an empty batch.
 */
export const DEFAULT_BATCH_TARGET_MS = 5;
/** No pause by default: short transactions already leave room for other writers; raise it to throttle. */
export const DEFAULT_BATCH_DELAY_MS = 0;
/**
 * pgroll uses 500 ms: long enough for a metadata-only ALTER on a busy table, short enough that queued
 * application queries barely notice the wait.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 500;
/** A metadata-only DDL takes milliseconds; a minute means something scans or rewrites, which the engine never intends. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
/**
 * With the default lock_timeout and backoff, one DDL transaction keeps retrying for 18 to 31 s before it gives up
 * (ddl.ts retryWindowMs; pinned by a test), enough to outlast a typical long report query.
 */
export const DEFAULT_MAX_ATTEMPTS = 10;
export const DEFAULT_SCHEMA = 'public';
