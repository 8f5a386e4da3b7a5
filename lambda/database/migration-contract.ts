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
  | { readonly action: 'releaseGate'; readonly reason?: string };

export interface BackfillBatchResult {
  readonly migration: string;
  readonly done: boolean;
  readonly rowsDone: number;
  readonly rowsTotal: number;
  /** Checkpoint per table, as committed in the database (the source of truth for a resume). */
  readonly checkpoint: readonly { readonly table: string; readonly lastKey: string[] | null; readonly rowsDone: number; readonly done: boolean }[];
}
