/**
 * DDL safety. Every schema change runs with a short `lock_timeout`, so a DDL statement stuck behind a long
 * transaction gives up instead of queueing the application's reads and writes behind its lock request; it is
 * then retried with jittered exponential backoff. Statements also run with a `statement_timeout`, except
 * CREATE INDEX CONCURRENTLY and constraint validation, which scan the table without blocking writers.
 */
import type { ClientBase, QueryResult } from 'pg';
import { clock } from '../shared/clock';
import { log } from '../shared/log';
import { MigrationError, MigrationErrorName } from './errors';
import { ql } from './sql';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS } from './migration-contract';
export { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS };

/** SQLSTATE lock_not_available: lock_timeout expired. */
export const LOCK_NOT_AVAILABLE = '55P03';
/** SQLSTATE deadlock_detected. */
export const DEADLOCK_DETECTED = '40P01';
/** SQLSTATE query_canceled: pg_cancel_backend (migrate cancel) or statement_timeout. */
export const QUERY_CANCELED = '57014';
/** SQLSTATE serialization_failure. */
const SERIALIZATION_FAILURE = '40001';
const RETRYABLE_CODES = new Set([LOCK_NOT_AVAILABLE, DEADLOCK_DETECTED, SERIALIZATION_FAILURE]);

export interface DdlSafetyOptions {
  /** How long one DDL statement may wait for its lock before it gives up (and is retried). @default 500 */
  readonly lockTimeoutMs?: number;
  /** Limit of one DDL statement's run time (not applied to concurrent index builds and validations). @default 60000 */
  readonly statementTimeoutMs?: number;
  /** Attempts per DDL transaction before failing with ZdtMigrationLockTimeout. @default 10 */
  readonly maxAttempts?: number;
  /** First backoff between attempts; doubles each time, with equal jitter (backoffMs). @default 200 */
  readonly retryBaseDelayMs?: number;
  /** Largest backoff between attempts. @default 5000 */
  readonly retryMaxDelayMs?: number;
}

export const DEFAULT_RETRY_BASE_DELAY_MS = 200;
export const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;

export type Resolved<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };

/**
 * The options with their defaults. A lock_timeout or statement_timeout of 0 means "no timeout" to PostgreSQL, which
 * would bring back the lock queue the timeouts exist to prevent (writers stalled behind a DDL statement that waits
 * behind a long transaction): refused, like any value that is not a whole number of at least 1.
 */
export function resolveSafety(o: DdlSafetyOptions = {}): Resolved<DdlSafetyOptions> {
  const problems = (['lockTimeoutMs', 'statementTimeoutMs', 'maxAttempts', 'retryBaseDelayMs', 'retryMaxDelayMs'] as const).flatMap((k) => {
    const v = o[k];
    if (v === undefined || (Number.isInteger(v) && v >= 1)) return [];
    const zero = v === 0 && (k === 'lockTimeoutMs' || k === 'statementTimeoutMs') ? ' (0 means no timeout in PostgreSQL)' : '';
    return [`${k} must be a whole number${k === 'maxAttempts' ? '' : ' of milliseconds'} of at least 1${zero}, got ${v}`];
  });
  if (problems.length > 0) throw new MigrationError(MigrationErrorName.INVALID, `Invalid DDL safety options: ${problems.join('; ')}`);
  return {
    lockTimeoutMs: o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    statementTimeoutMs: o.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    maxAttempts: o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryBaseDelayMs: o.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: o.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS,
  };
}

export function pgCode(err: unknown): string | undefined {
  return (err as { code?: string } | undefined)?.code;
}

/**
 * "Equal jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter"): uniform in
 * [cap / 2, cap] with cap = min(max, base * 2^attempt). Unlike full jitter it has a floor, so the time the retries
 * cover (retryWindowMs) is bounded from below as well as above, and the documented window holds.
 */
export function backoffMs(attempt: number, base: number, max: number): number {
  const cap = Math.min(max, base * 2 ** attempt);
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

/**
 * How long the retries of one DDL transaction keep trying before ZdtMigrationLockTimeout, when every attempt waits
 * its full lock_timeout: maxAttempts lock waits plus the backoffs between them (each between half and all of its cap).
 */
export function retryWindowMs(o: DdlSafetyOptions = {}): { minMs: number; maxMs: number } {
  const r = resolveSafety(o);
  let caps = 0;
  for (let n = 0; n < r.maxAttempts - 1; n++) caps += Math.min(r.retryMaxDelayMs, r.retryBaseDelayMs * 2 ** n);
  const waits = r.maxAttempts * r.lockTimeoutMs;
  return { minMs: waits + Math.round(caps / 2), maxMs: waits + caps };
}

export interface TransactionOptions {
  /** No statement_timeout (scans that do not block writers: VALIDATE CONSTRAINT). */
  readonly noStatementTimeout?: boolean;
  /** More transaction-local settings (SET LOCAL name = 'value'); names are trusted, values are quoted. */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface DdlStats {
  /** Lock timeouts (and deadlocks) met and retried so far. */
  retries: number;
}

/** Runs DDL on one connection with the safety settings. */
export class DdlRunner {
  readonly options: Resolved<DdlSafetyOptions>;
  readonly stats: DdlStats = { retries: 0 };
  /** Called before each retry (after a lock timeout); throws to stop retrying (a cancel request). */
  stopCheck?: () => Promise<void>;

  constructor(readonly client: ClientBase, options: DdlSafetyOptions = {}) {
    this.options = resolveSafety(options);
  }

  /**
   * Runs `body` in one transaction with SET LOCAL lock_timeout / statement_timeout; retries the whole
   * transaction on lock timeouts and deadlocks. `label` names what is being done, for messages.
   */
  async transaction<T>(label: string, body: (client: ClientBase) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    // One round trip: BEGIN and the SET LOCALs go as one simple query.
    const begin = this.begin(opts);
    return this.retrying(label, async () => {
      try {
        await this.client.query(begin);
        const result = await body(this.client);
        await this.client.query('COMMIT');
        return result;
      } catch (err) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /**
   * Runs one statement (no parameters: literals must be quoted into it) as a whole transaction in one round
   * trip: BEGIN, the SET LOCALs, the statement and COMMIT go as one simple query, so the transaction's locks are
   * released as soon as the server has run it, without waiting for the client. Retried like `transaction`.
   */
  async oneShot(label: string, statement: string, opts: TransactionOptions = {}): Promise<QueryResult> {
    const begin = this.begin(opts);
    return this.retrying(label, async () => {
      try {
        const results = await this.client.query(`${begin}; ${statement}; COMMIT`) as unknown as QueryResult[];
        // One result per statement: BEGIN, each SET LOCAL, the statement, COMMIT.
        return results[results.length - 2];
      } catch (err) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  private begin(opts: TransactionOptions): string {
    const settings: Record<string, string> = {
      lock_timeout: String(Math.round(this.options.lockTimeoutMs)),
      statement_timeout: String(opts.noStatementTimeout ? 0 : Math.round(this.options.statementTimeoutMs)),
      ...opts.settings,
    };
    return ['BEGIN', ...Object.entries(settings).map(([k, v]) => `SET LOCAL ${k} = ${ql(v)}`)].join('; ');
  }

  /**
   * Runs one statement that cannot run in a transaction block (CREATE/DROP INDEX CONCURRENTLY), with
   * lock_timeout and no statement_timeout. `beforeRetry` cleans up after a failed attempt (an invalid index).
   */
  async outsideTransaction(label: string, sql: string, beforeRetry?: () => Promise<void>): Promise<void> {
    await this.retrying(label, async () => {
      await this.client.query(`SET lock_timeout = ${Math.round(this.options.lockTimeoutMs)}`);
      await this.client.query('SET statement_timeout = 0');
      try {
        await this.client.query(sql);
      } finally {
        await this.client.query('RESET lock_timeout');
        await this.client.query('RESET statement_timeout');
      }
    }, beforeRetry);
  }

  private async retrying<T>(label: string, attempt: () => Promise<T>, beforeRetry?: () => Promise<void>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const code = pgCode(err);
        if (!code || !RETRYABLE_CODES.has(code)) throw err;
        if (beforeRetry) await beforeRetry();
        if (n + 1 >= this.options.maxAttempts) {
          throw new MigrationError(MigrationErrorName.LOCK_TIMEOUT,
            `${label}: expected to acquire its locks within lock_timeout ${this.options.lockTimeoutMs} ms, but ${this.options.maxAttempts} attempts failed (last: ${(err as Error).message}). `
            + 'A long-running transaction probably holds a conflicting lock (see pg_locks / pg_stat_activity); nothing was changed by the failed attempts. Retry later.');
        }
        await this.stopCheck?.();
        this.stats.retries++;
        const delay = backoffMs(n, this.options.retryBaseDelayMs, this.options.retryMaxDelayMs);
        log('warn', 'DDL lock not available, retrying', { label, attempt: n + 1, code, delayMs: delay });
        await clock().sleep(delay);
      }
    }
  }
}
