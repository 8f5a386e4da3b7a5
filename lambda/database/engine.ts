/**
 * The expand/contract migration engine. One instance works on one connection and one physical schema.
 *
 *   start     expand: new columns/tables, up/down triggers, the new version schema of views; concurrent indexes
 *   backfill  keyset batches through the triggers, checkpointed (call repeatedly, or once with no budget)
 *   validate  row counts, checksums of converted columns, constraint validity, no invalid index
 *   complete  contract: drop the old version schema, triggers and old columns/tables (one transaction)
 *   rollback  before complete: undo the expand; every write of both versions is kept in the old columns
 *
 * Every action holds the schema's migration lock (advisory) for its duration, and every DDL statement runs
 * with lock_timeout and jittered retries (ddl.ts).
 */
import type { ClientBase } from 'pg';
import { log } from '../shared/log';
import { BackfillBudget, BackfillOptions, initCheckpoint, runBackfill } from './backfill';
import { invalidIndexes, listColumns, listTables, primaryKey } from './catalog';
import { DdlRunner, DdlSafetyOptions, pgCode, QUERY_CANCELED } from './ddl';
import { describeOp, droppedConstraintColumns, parseMigration } from './definition';
import { MigrationError, MigrationErrorName } from './errors';
import { BackfillStep, CatalogSnapshot, Check, CheckContext, implementationOf, OpContext, TableInfo } from './operations';
import { probeVolatileDefault } from './operations/columns';
import { rewritesColumn } from './operations/alter-column';
import { buildPlan, logicalReplicationRisk, logicalReplicationSlots, MigrationPlan } from './plan';
import { dependentsOf, preflight } from './preflight';
import { qn } from './sql';
import {
  ACTIVE_STATUSES, BackfillCheckpoint, cancelRequested, clearCancelRequest, currentVersionSchema, deleteCheckpoints, ensureStateSchema,
  getActiveMigration, getCheckpoints, getLatestMigration, getMigration, migrationLockHolder, MigrationRecord, MigrationStatus, nowParam,
  requestCancel, sameDefinition, setGateToken, setStatus, STATE_SCHEMA, withMigrationLock,
} from './state';
import { Migration } from './types';
import { triggerFunctionPattern } from './triggers';
import { createVersionSchema, dropVersionSchema, physicalModel, versionSchemaName } from './versioned-schema';
import { DEFAULT_SCHEMA } from './migration-contract';
export { DEFAULT_SCHEMA };


export interface EngineOptions extends DdlSafetyOptions, BackfillOptions {
  /** The physical schema the migration changes. @default 'public' */
  readonly schema?: string;
  /** Allow high-risk (data-dropping) steps. @default false */
  readonly acknowledgeHighRisk?: boolean;
  /**
   * Change the schema (start, complete) although the database has logical replication slots, because every
   * subscriber gets the same migration. @default false
   */
  readonly acknowledgeLogicalReplication?: boolean;
}

/** How long cancel waits for the running action to stop by itself (between batches) before cancelling its query. */
export const DEFAULT_CANCEL_GRACE_MS = 5_000;
/** The backfill reads the cancel request at most this often (a query per batch would cost a few percent of its speed). */
const CANCEL_CHECK_INTERVAL_MS = 200;
const CANCEL_POLL_MS = 50;

export interface CancelReport {
  /** Whether an engine action was running on the schema (held the migration lock). */
  readonly running: boolean;
  /** The schema's active migration, if any. */
  readonly migration: string | null;
  /** The session that ran it. */
  readonly pid: number | null;
  /** Whether its query had to be cancelled (pg_cancel_backend) because it did not stop between batches in time. */
  readonly cancelledQuery: boolean;
}

export interface BackfillProgress {
  readonly migration: string;
  readonly done: boolean;
  readonly rowsDone: number;
  /** Estimated rows to touch, over all tables. */
  readonly rowsTotal: number;
  readonly tables: readonly BackfillCheckpoint[];
}

export interface ValidationReport {
  readonly migration: string;
  readonly ok: boolean;
  readonly checks: readonly Check[];
}

export interface MigrationStatusReport {
  readonly migration: string;
  readonly schema: string;
  readonly status: MigrationStatus;
  readonly versionSchema: string;
  readonly previousVersionSchema: string | null;
  readonly waitingForGate: boolean;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly completedAt: string | null;
  readonly backfill: BackfillProgress;
}

export class MigrationEngine {
  readonly schema: string;
  private readonly ddl: DdlRunner;

  constructor(private readonly client: ClientBase, private readonly options: EngineOptions = {}) {
    this.schema = options.schema ?? DEFAULT_SCHEMA;
    this.ddl = new DdlRunner(client, options);
  }

  /** Lock timeouts met (and retried) by this engine's DDL so far. */
  get lockRetries(): number {
    return this.ddl.stats.retries;
  }

  /**
   * Validates the definition against the catalog, tries its SQL (EXPLAIN) and its `up` expressions over the existing
   * rows (read-only), finds objects that would stop its drops, and returns the plan; changes nothing. For a
   * migration that is already started, the plan says so (start resumes it); while another migration is active,
   * `activeMigration` names it (start would be refused).
   */
  async plan(input: unknown): Promise<MigrationPlan> {
    const migration = parseMigration(input);
    const hasState = await this.stateExists();
    const record = hasState ? await getMigration(this.client, this.schema, migration.name) : null;
    const active = hasState ? await getActiveMigration(this.client, this.schema) : null;
    const slots = await logicalReplicationSlots(this.client);
    if (record && ACTIVE_STATUSES.includes(record.status) && sameDefinition(record.migration, migration)) {
      // The catalog already holds the expansion: describe the steps, check nothing.
      const plan = buildPlan(migration, await this.checkContext(migration, { dependents: false }), record.versionSchema, record.previousVersionSchema, slots);
      return { ...plan, activeMigration: { name: record.name, status: record.status }, warnings: [...plan.warnings,
        `Migration ${record.name} is already started on schema ${this.schema} (status ${record.status}); start resumes it (finishes the expand and the backfill, then validates)`] };
    }
    const ctx = await this.checkContext(migration);
    this.check(migration, ctx);
    await preflight(this.client, migration, ctx);
    const previous = hasState ? await currentVersionSchema(this.client, this.schema) : null;
    const plan = buildPlan(migration, ctx, versionSchemaName(this.schema, migration.name), previous, slots);
    if (!active) return plan;
    const refused = active.name === migration.name
      ? `Migration ${active.name} is already ${active.status} on schema ${this.schema} with a different definition: start refuses the changed one until it is rolled back`
      : `migration ${active.name} is ${active.status} on schema ${this.schema}: start of ${migration.name} is refused until ${active.name} is completed or rolled back`;
    return { ...plan, activeMigration: { name: active.name, status: active.status }, warnings: [...plan.warnings, refused] };
  }

  /**
   * Expand. Idempotent: re-running it for a migration that is already started only finishes what is missing (the
   * definition is compared key order aside). Atomic: the migration's record and its DDL commit in one transaction,
   * so a start that fails (a lock timeout, an error in the migration's SQL) leaves nothing behind; a failure of the
   * concurrent index builds after that transaction rolls the start back (see undoFailedStart).
   */
  async start(input: unknown): Promise<{ plan: MigrationPlan; status: MigrationStatus }> {
    const migration = parseMigration(input);
    const versionSchema = versionSchemaName(this.schema, migration.name);
    return withMigrationLock(this.client, this.schema, async () => {
      await ensureStateSchema(this.client);
      await clearCancelRequest(this.client, this.schema);
      const record = await getMigration(this.client, this.schema, migration.name);
      if (record?.status === 'completed') {
        throw new MigrationError(MigrationErrorName.WRONG_STATE, `Migration ${migration.name} on schema ${this.schema} is already completed (at ${record.completedAt}); give a new migration a new name`);
      }
      if (record && record.status !== 'rolled_back' && !sameDefinition(record.migration, migration)) {
        throw new MigrationError(MigrationErrorName.WRONG_STATE, `Migration ${migration.name} is already ${record.status} with a different definition; roll it back before starting the changed one`);
      }
      const active = await getActiveMigration(this.client, this.schema);
      if (active && active.name !== migration.name) {
        throw new MigrationError(MigrationErrorName.IN_PROGRESS, `Expected no active migration on schema ${this.schema}, but ${active.name} is ${active.status} (since ${active.startedAt}); complete or roll it back first`);
      }
      if (record && record.status !== 'starting' && record.status !== 'rolled_back') {
        // Already expanded: finish any concurrent index build a crash interrupted.
        await this.expandConcurrentlyOrUndo(record);
        return { plan: buildPlan(migration, emptyContext(this.schema), versionSchema, record.previousVersionSchema), status: record.status };
      }
      const ctx = await this.checkContext(migration);
      this.check(migration, ctx);
      await preflight(this.client, migration, ctx);
      const previous = await currentVersionSchema(this.client, this.schema);
      const plan = buildPlan(migration, ctx, versionSchema, previous, await logicalReplicationSlots(this.client));
      this.requireAcknowledgement(plan, 'start');
      for (const warning of plan.warnings) log('warn', 'migration start: database warning', { migration: migration.name, schema: this.schema, warning });
      log('info', 'migration start', { migration: migration.name, schema: this.schema, risk: plan.risk });
      this.ddl.stopCheck = this.cancelCheck(migration.name, 'start');
      try {
        await this.ddl.transaction(`start of migration ${migration.name}`, async (c) => {
          await this.writeRecord(c, migration, versionSchema, previous);
          const rewritten = rewrittenColumns(migration);
          const opCtx = (index: number): OpContext => this.opContext(migration.name, index, versionSchema, ctx.volatileDefaults, rewritten);
          for (const [index, op] of migration.operations.entries()) await implementationOf(op).expand(op, opCtx(index), ctx.catalog);
          const model = await physicalModel(c, this.schema);
          for (const op of migration.operations) implementationOf(op).view?.(op, model);
          for (const [index, op] of migration.operations.entries()) await implementationOf(op).triggers?.(op, opCtx(index), ctx.catalog, model);
          await createVersionSchema(c, this.schema, versionSchema, model);
          // The walk ends at the largest key that exists now, with the triggers in place: every row written from here
          // on (by either version) went through them, and the backfill must not recompute what they wrote (a NULL the
          // new version wrote into a column whose down is lossy would come back as up(down(NULL))).
          const record = { name: migration.name, migration, versionSchema } as MigrationRecord;
          for (const table of tablesOf(await this.backfillSteps(record))) await initCheckpoint(c, this.schema, migration.name, table, false);
        });
      } catch (err) {
        if (pgCode(err) !== '23505') throw await this.asCancelled(err, migration.name, 'start');
        const other = await getActiveMigration(this.client, this.schema);
        throw new MigrationError(MigrationErrorName.IN_PROGRESS, `Expected no active migration on schema ${this.schema}, but ${other?.name ?? 'another'} is ${other?.status ?? 'active'}`);
      } finally {
        this.ddl.stopCheck = undefined;
      }
      await this.expandConcurrentlyOrUndo((await getMigration(this.client, this.schema, migration.name))!);
      return { plan, status: 'started' };
    });
  }

  /**
   * Stops the engine action running on this schema in another session: records a cancel request, which the
   * backfill checks between batches and the DDL retries between attempts; if the action still holds the migration
   * lock after `graceMs` (a long index build, a DDL statement waiting for its lock), cancels its current query
   * (pg_cancel_backend). The stopped action fails with ZdtMigrationCancelled; what it committed stays (a backfill
   * resumes from its checkpoint; rollback undoes a start).
   */
  async cancel(graceMs = DEFAULT_CANCEL_GRACE_MS): Promise<CancelReport> {
    await ensureStateSchema(this.client);
    const holder = await migrationLockHolder(this.client, this.schema);
    const active = await getActiveMigration(this.client, this.schema);
    if (!holder) return { running: false, migration: active?.name ?? null, pid: null, cancelledQuery: false };
    await requestCancel(this.client, this.schema);
    let cancelledQuery = false;
    if (!await this.lockReleased(holder.pid, graceMs)) {
      await this.client.query('SELECT pg_cancel_backend($1)', [holder.pid]);
      cancelledQuery = true;
      // A cancelled query ends at once; the session then unwinds (rollback, lock release): give it the default grace
      // at least, also when the caller wanted the query cancelled without waiting (graceMs 0).
      const unwindMs = Math.max(graceMs, DEFAULT_CANCEL_GRACE_MS);
      if (!await this.lockReleased(holder.pid, unwindMs)) {
        throw new MigrationError(MigrationErrorName.IN_PROGRESS,
          `Asked the migration session (pid ${holder.pid}, application "${holder.application}") to stop and cancelled its query, but it still holds the migration lock of schema "${this.schema}" after ${graceMs + unwindMs} ms. `
          + `If that process is gone, end its session: SELECT pg_terminate_backend(${holder.pid});`);
      }
    }
    return { running: true, migration: active?.name ?? null, pid: holder.pid, cancelledQuery };
  }

  /**
   * Runs backfill batches until done or the budget is spent (no budget: until done). Safe to call again after
   * a crash: it resumes after the last committed batch. Marks the migration backfilled when every table is done.
   */
  async backfill(name: string, budget: BackfillBudget = {}): Promise<BackfillProgress> {
    return withMigrationLock(this.client, this.schema, async () => {
      const record = await this.requireRecord(name, ['started', 'backfilled', 'validated'], 'backfill');
      const steps = await this.backfillSteps(record);
      const tables = tablesOf(steps);
      if (record.status === 'started') {
        await clearCancelRequest(this.client, this.schema);
        try {
          this.ddl.stopCheck = this.cancelCheck(name, 'backfill');
          await runBackfill(this.ddl, this.schema, name, steps, { ...this.options, ...budget, shouldStop: this.ddl.stopCheck });
        } catch (err) {
          throw await this.asCancelled(err, name, 'backfill');
        } finally {
          this.ddl.stopCheck = undefined;
        }
      }
      const progress = await this.progress(record, tables);
      if (progress.done && record.status === 'started') await setStatus(this.client, this.schema, name, 'backfilled');
      return progress;
    });
  }

  /** Runs the validation checks; on success marks the migration validated. Never changes data. */
  async validate(name: string): Promise<ValidationReport> {
    return withMigrationLock(this.client, this.schema, async () => {
      const record = await this.requireRecord(name, ['backfilled', 'validated'], 'validate');
      const checks: Check[] = [];
      for (const [index, op] of record.migration.operations.entries()) {
        checks.push(...(await implementationOf(op).validate?.(op, this.opContext(name, index, record.versionSchema)) ?? []));
      }
      const invalid = await invalidIndexes(this.client, this.schema);
      checks.push({ name: 'no invalid indexes', ok: invalid.length === 0, detail: invalid.length === 0 ? `schema ${this.schema} has no invalid index` : `invalid indexes in ${this.schema}: ${invalid.join(', ')}` });
      const ok = checks.every((c) => c.ok);
      if (ok) await setStatus(this.client, this.schema, name, 'validated');
      log(ok ? 'info' : 'error', 'migration validation', { migration: name, ok, failed: checks.filter((c) => !c.ok) });
      return { migration: name, ok, checks };
    });
  }

  /** Contract, in one transaction: drops the old version schema, the triggers, and what the migration replaces. */
  async complete(name: string): Promise<void> {
    await withMigrationLock(this.client, this.schema, async () => {
      const record = await this.requireRecord(name, ['validated'], 'complete');
      this.requireAcknowledgement(buildPlan(record.migration, emptyContext(this.schema), record.versionSchema, record.previousVersionSchema,
        await logicalReplicationSlots(this.client)), 'complete');
      await this.ddl.transaction(`complete of migration ${name}`, async (c) => {
        if (record.previousVersionSchema) await dropVersionSchema(c, record.previousVersionSchema);
        for (const [index, op] of record.migration.operations.entries()) {
          await implementationOf(op).contract?.(op, this.opContext(name, index, record.versionSchema));
        }
        await this.dropAllTriggerFunctions(c, name);
        await setStatus(c, this.schema, name, 'completed');
        await setGateToken(c, this.schema, name, null);
        await deleteCheckpoints(c, this.schema, name);
      });
      log('info', 'migration completed', { migration: name, schema: this.schema });
    });
  }

  /**
   * Undo the expand (any state before complete, including a half-finished start). Writes made meanwhile by
   * either version are kept: the old columns received them directly or through the down triggers.
   */
  async rollback(name: string): Promise<void> {
    await withMigrationLock(this.client, this.schema, async () => {
      await ensureStateSchema(this.client);
      const record = await getMigration(this.client, this.schema, name);
      if (!record) throw new MigrationError(MigrationErrorName.WRONG_STATE, `Cannot roll back migration ${name} on schema ${this.schema}: no such migration was started`);
      if (record.status === 'rolled_back') return;
      if (record.status === 'completed') {
        throw new MigrationError(MigrationErrorName.WRONG_STATE, `Cannot roll back migration ${name}: it was completed at ${record.completedAt} (the old columns are gone); write a new migration instead`);
      }
      // Never refused for logical replication: undoing the expand gives back the schema the subscribers have.
      const slots = await logicalReplicationSlots(this.client);
      if (slots.length > 0) log('warn', 'migration rollback on a database with logical replication slots', { migration: name, schema: this.schema, slots });
      await this.ddl.transaction(`drop version schema ${record.versionSchema}`, (c) => dropVersionSchema(c, record.versionSchema));
      const ops = [...record.migration.operations.entries()].reverse();
      for (const [index, op] of ops) await implementationOf(op).rollback?.(op, this.opContext(name, index, record.versionSchema));
      await this.ddl.transaction(`record rollback of ${name}`, async (c) => {
        await this.dropAllTriggerFunctions(c, name);
        await deleteCheckpoints(c, this.schema, name);
        await setGateToken(c, this.schema, name, null);
        await setStatus(c, this.schema, name, 'rolled_back');
      });
      log('info', 'migration rolled back', { migration: name, schema: this.schema, from: record.status });
    });
  }

  /** Status of a migration by name, or of the schema's active (else latest) migration; null when there is none. */
  async status(name?: string): Promise<MigrationStatusReport | null> {
    await ensureStateSchema(this.client);
    const record = name ? await getMigration(this.client, this.schema, name)
      : (await getActiveMigration(this.client, this.schema)) ?? await getLatestMigration(this.client, this.schema);
    if (!record) return null;
    const tables = record.status === 'completed' || record.status === 'rolled_back' ? [] : await this.backfillTables(record);
    return {
      migration: record.name, schema: record.schema, status: record.status, versionSchema: record.versionSchema,
      previousVersionSchema: record.previousVersionSchema, waitingForGate: record.gateToken !== null,
      startedAt: record.startedAt, updatedAt: record.updatedAt, completedAt: record.completedAt,
      backfill: await this.progress(record, tables),
    };
  }

  /** Stores the task token of the gate that waits for the application rollout (waitForTaskToken). */
  async setGate(name: string, token: string): Promise<void> {
    await this.requireRecord(name, ['validated'], 'wait at the gate');
    await setGateToken(this.client, this.schema, name, token);
  }

  /** The schema's migration waiting at the gate, with its task token, if any. */
  async waitingGate(): Promise<{ migration: string; token: string } | null> {
    await ensureStateSchema(this.client);
    const r = await this.client.query(
      `SELECT name, gate_token FROM ${STATE_SCHEMA}.migrations WHERE schema_name = $1 AND gate_token IS NOT NULL AND status = ANY($2)`,
      [this.schema, ACTIVE_STATUSES]);
    return r.rowCount === 0 ? null : { migration: r.rows[0].name, token: r.rows[0].gate_token };
  }

  /** Forgets the gate token once the gate is released. */
  async clearGate(name: string): Promise<void> {
    await setGateToken(this.client, this.schema, name, null);
  }

  // -------------------------------------------------------------------------------------------

  private opContext(migration: string, index: number, versionSchema: string, volatileDefaults: ReadonlySet<string> = new Set(), rewritten?: ReadonlySet<string>): OpContext {
    return { client: this.client, ddl: this.ddl, schema: this.schema, migration, index, versionSchema, volatileDefaults, rewritten };
  }

  /** The migration's record, in the start transaction (replacing a rolled-back run's, or a half-started one's). */
  private async writeRecord(c: ClientBase, migration: Migration, versionSchema: string, previous: string | null): Promise<void> {
    await c.query(`DELETE FROM ${STATE_SCHEMA}.migrations WHERE schema_name = $1 AND name = $2 AND status IN ('rolled_back', 'starting')`, [this.schema, migration.name]);
    await c.query(
      `INSERT INTO ${STATE_SCHEMA}.migrations (schema_name, name, status, definition, version_schema, previous_version_schema, started_at, updated_at)
       VALUES ($1, $2, 'started', $3, $4, $5, $6, $6)`,
      [this.schema, migration.name, JSON.stringify(migration), versionSchema, previous, nowParam()]);
  }

  /**
   * The concurrent index builds after the start transaction. A failure that a retry can fix (lock timeout,
   * cancellation) leaves the migration started, for start to resume; any other (a unique index over duplicate
   * values) undoes the whole start, so that a failed start never blocks the schema.
   */
  private async expandConcurrentlyOrUndo(record: MigrationRecord): Promise<void> {
    try {
      await this.expandConcurrently(record);
    } catch (err) {
      const cancelled = await this.asCancelled(err, record.name, 'start');
      if (cancelled !== err || (err instanceof MigrationError && err.name === MigrationErrorName.LOCK_TIMEOUT)) throw cancelled;
      if (record.status !== 'started') throw err;
      try {
        await this.rollback(record.name);
      } catch (undoErr) {
        throw new MigrationError(MigrationErrorName.INVALID, `${(err as Error).message}\nThe start of ${record.name} failed after its DDL and so did its automatic rollback (${(undoErr as Error).message}); `
          + `run rollback for ${record.name} (migrate rollback <file>) before anything else.`);
      }
      throw new MigrationError(MigrationErrorName.INVALID, `${(err as Error).message}\nThe start of ${record.name} was rolled back: nothing of it is left on schema ${this.schema}. Fix the data or the definition and start again.`);
    }
  }

  private async expandConcurrently(record: MigrationRecord): Promise<void> {
    if (record.status !== 'started') return;
    const model = await physicalModel(this.client, this.schema);
    for (const op of record.migration.operations) implementationOf(op).view?.(op, model);
    for (const [index, op] of record.migration.operations.entries()) {
      await implementationOf(op).expandConcurrently?.(op, this.opContext(record.name, index, record.versionSchema), model);
    }
  }

  /**
   * A check the backfill makes between batches and the DDL retries between attempts (at most every
   * CANCEL_CHECK_INTERVAL_MS): throws ZdtMigrationCancelled when cancel has been requested.
   */
  private cancelCheck(name: string, action: 'start' | 'backfill'): () => Promise<void> {
    let last = -Infinity;
    return async () => {
      const now = performance.now();
      if (now - last < CANCEL_CHECK_INTERVAL_MS) return;
      last = now;
      if (!await cancelRequested(this.client, this.schema)) return;
      await clearCancelRequest(this.client, this.schema);
      throw new MigrationError(MigrationErrorName.CANCELLED, `The ${action} of migration ${name} on schema ${this.schema} was cancelled (migrate cancel); `
        + (action === 'start' ? 'nothing of it was committed: run start again, or nothing' : 'its committed batches stay: resume with backfill (migrate backfill <file>) or undo with rollback'));
    };
  }

  /**
   * A query cancelled by `cancel` as ZdtMigrationCancelled; other errors unchanged. Matched on SQLSTATE 57014
   * (query_canceled), never on the server's message text (which depends on lc_messages): 57014 is also what
   * statement_timeout raises, so a cancellation is a 57014 while this schema's cancel request, which `cancel` records
   * before it calls pg_cancel_backend, is pending (it is consumed here).
   */
  private async asCancelled(err: unknown, name: string, action: string): Promise<unknown> {
    if (pgCode(err) !== QUERY_CANCELED) return err;
    try {
      if (!await cancelRequested(this.client, this.schema)) return err;
      await clearCancelRequest(this.client, this.schema);
    } catch {
      return err;
    }
    return new MigrationError(MigrationErrorName.CANCELLED, `The ${action} of migration ${name} on schema ${this.schema} was cancelled: ${(err as Error).message}. `
      + `What it committed stays: ${action === 'start' ? 'run start again to finish it, or rollback to undo it' : 'resume with backfill (migrate backfill <file>) or undo with rollback'}`);
  }

  /** Waits until the session `pid` no longer holds the schema's migration lock; false after `ms`. */
  private async lockReleased(pid: number, ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    for (;;) {
      const holder = await migrationLockHolder(this.client, this.schema);
      if (!holder || holder.pid !== pid) return true;
      if (performance.now() >= until) return false;
      await new Promise((r) => setTimeout(r, CANCEL_POLL_MS));
    }
  }

  private async stateExists(): Promise<boolean> {
    return (await this.client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${STATE_SCHEMA}.migrations`])).rows[0].ok;
  }

  private async backfillSteps(record: MigrationRecord): Promise<BackfillStep[]> {
    const steps: BackfillStep[] = [];
    for (const [index, op] of record.migration.operations.entries()) {
      const step = await implementationOf(op).backfillStep?.(op, this.opContext(record.name, index, record.versionSchema));
      if (step) steps.push(step);
    }
    return steps;
  }

  private async backfillTables(record: MigrationRecord): Promise<string[]> {
    return tablesOf(await this.backfillSteps(record));
  }

  private async progress(record: MigrationRecord, tables: readonly string[]): Promise<BackfillProgress> {
    const cps = (await getCheckpoints(this.client, this.schema, record.name)).filter((c) => tables.includes(c.table));
    const byTable = new Map(cps.map((c) => [c.table, c]));
    const rowsDone = cps.reduce((n, c) => n + c.rowsDone, 0);
    const rowsTotal = cps.reduce((n, c) => n + Math.max(c.rowsTotal, c.rowsDone), 0);
    const done = record.status !== 'started' || tables.every((t) => byTable.get(t)?.done);
    return { migration: record.name, done, rowsDone, rowsTotal, tables: tables.map((t) => byTable.get(t)).filter((c): c is BackfillCheckpoint => !!c) };
  }

  private async requireRecord(name: string, statuses: readonly MigrationStatus[], action: string): Promise<MigrationRecord> {
    await ensureStateSchema(this.client);
    const record = await getMigration(this.client, this.schema, name);
    if (!record) throw new MigrationError(MigrationErrorName.WRONG_STATE, `Cannot ${action} migration ${name} on schema ${this.schema}: it was never started`);
    if (!statuses.includes(record.status)) {
      throw new MigrationError(MigrationErrorName.WRONG_STATE, `Cannot ${action} migration ${name}: expected status ${statuses.join(' or ')}, found ${record.status}`);
    }
    return record;
  }

  private requireAcknowledgement(plan: MigrationPlan, action: string): void {
    if (plan.risk === 'high' && !this.options.acknowledgeHighRisk) {
      throw new MigrationError(MigrationErrorName.ACKNOWLEDGEMENT_REQUIRED,
        `Migration ${plan.migration} is high risk and ${action} needs an explicit acknowledgement (acknowledgeHighRisk / --acknowledge-high-risk):\n  - ${plan.highRisk.join('\n  - ')}`);
    }
    if (plan.logicalReplicationSlots.length > 0 && !this.options.acknowledgeLogicalReplication) {
      throw new MigrationError(MigrationErrorName.ACKNOWLEDGEMENT_REQUIRED,
        `Migration ${plan.migration}: ${action} refused: ${logicalReplicationRisk(plan.logicalReplicationSlots)}`);
    }
  }

  private async dropAllTriggerFunctions(c: ClientBase, migration: string): Promise<void> {
    const r = await c.query(
      `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname ~ $2`,
      [STATE_SCHEMA, triggerFunctionPattern(this.schema, migration)]);
    for (const row of r.rows) await c.query(`DROP FUNCTION IF EXISTS ${qn(STATE_SCHEMA, row.proname)}() CASCADE`);
  }

  private async checkContext(migration: Migration, options: { dependents?: boolean } = {}): Promise<CheckContext> {
    const catalog = new Map<string, TableInfo>();
    const refs = await this.client.query(
      `SELECT rc.relname AS referenced, c.relname AS referencing, co.conname FROM pg_constraint co
       JOIN pg_class c ON c.oid = co.conrelid JOIN pg_class rc ON rc.oid = co.confrelid JOIN pg_namespace n ON n.oid = rc.relnamespace
       WHERE co.contype = 'f' AND n.nspname = $1`, [this.schema]);
    const indexes = await this.client.query(
      `SELECT c.relname AS table, i.relname AS index, co.conname AS constraint, x.indisunique AS unique FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_constraint co ON co.conindid = x.indexrelid AND co.conrelid = x.indrelid AND co.contype IN ('p', 'u', 'x')
       WHERE n.nspname = $1`, [this.schema]);
    const constraints = await this.client.query(
      `SELECT c.relname AS table, co.conname AS name, co.contype AS type,
         (SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_attribute a WHERE a.attrelid = co.conrelid AND a.attnum = ANY(co.conkey)) AS columns,
         coalesce((SELECT array_agg(fc.relname || '.' || f.conname ORDER BY 1) FROM pg_constraint f JOIN pg_class fc ON fc.oid = f.conrelid
                   WHERE f.contype = 'f' AND co.contype IN ('p', 'u') AND f.conindid = co.conindid), '{}') AS referenced_by
       FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`, [this.schema]);
    for (const t of await listTables(this.client, this.schema)) {
      catalog.set(t, {
        columns: await listColumns(this.client, this.schema, t),
        primaryKey: await primaryKey(this.client, this.schema, t),
        referencedBy: refs.rows.filter((r) => r.referenced === t).map((r) => `${r.referencing}.${r.conname}`),
        indexes: indexes.rows.filter((r) => r.table === t).map((r) => ({ name: r.index, constraint: r.constraint, unique: r.unique })),
        constraints: constraints.rows.filter((r) => r.table === t).map((r) => ({ name: r.name, type: r.type, columns: r.columns ?? [], referencedBy: r.referenced_by })),
      });
    }
    const createdTables = new Map<string, string[]>();
    const newColumns = new Map<string, Set<string>>();
    const add = (t: string, c: string) => { if (!newColumns.has(t)) newColumns.set(t, new Set()); newColumns.get(t)!.add(c); };
    const volatileDefaults = new Set<string>();
    for (const op of migration.operations) {
      if (op.op === 'createTable') createdTables.set(op.table, op.columns.map((c) => c.name));
      if (op.op === 'moveColumns') createdTables.set(op.to, [op.key ?? catalog.get(op.table)?.primaryKey[0]?.name ?? '', ...op.columns]);
      if (op.op === 'addColumn') {
        add(op.table, op.column.name);
        if (op.column.default !== undefined && catalog.has(op.table)) {
          try {
            if (await probeVolatileDefault(this.client, op.column.type, op.column.default)) volatileDefaults.add(`${op.table}.${op.column.name}`);
          } catch (err) {
            throw new MigrationError(MigrationErrorName.INVALID, `${describeOp(migration.operations.indexOf(op), op)}: column.type / column.default are not valid together: ${(err as Error).message}`);
          }
        }
      }
      if (op.op === 'renameColumn') add(op.table, op.to);
    }
    const dependents = options.dependents === false ? new Map<string, string[]>() : await this.dependents(migration, catalog);
    return { schema: this.schema, catalog: catalog as CatalogSnapshot, createdTables, newColumns, volatileDefaults, dependents };
  }

  /** What depends on the tables and columns the migration drops (CheckContext.dependents). */
  private async dependents(migration: Migration, catalog: ReadonlyMap<string, TableInfo>): Promise<Map<string, string[]>> {
    const targets: { table: string; column: string | null; rewrite?: boolean }[] = [];
    const droppedTables = new Set<string>();
    for (const op of migration.operations) {
      if (op.op === 'dropTable') { targets.push({ table: op.table, column: null }); droppedTables.add(op.table); }
      if (op.op === 'dropColumn') targets.push({ table: op.table, column: op.column });
      if (op.op === 'changeColumnType' || (op.op === 'alterColumn' && rewritesColumn(op))) targets.push({ table: op.table, column: op.column, rewrite: true });
      if (op.op === 'createConstraint') targets.push(...op.columns.map((column) => ({ table: op.table, column, rewrite: true })));
      if (op.op === 'dropConstraint') targets.push(...droppedConstraintColumns(op).map((column) => ({ table: op.table, column, rewrite: true })));
      if (op.op === 'moveColumns') targets.push(...op.columns.map((column) => ({ table: op.table, column })));
    }
    const result = new Map<string, string[]>();
    if (targets.length === 0) return result;
    const versionSchemas = await this.stateExists()
      ? (await this.client.query(`SELECT version_schema FROM ${STATE_SCHEMA}.migrations WHERE schema_name = $1`, [this.schema])).rows.map((r) => r.version_schema as string)
      : [];
    for (const { table, column, rewrite } of targets) {
      if (!catalog.has(table) || (column !== null && !catalog.get(table)!.columns.some((c) => c.name === column))) continue;
      // Objects of tables this migration drops go first (dropTable contracts them along); a rewritten column's own
      // constraints get twins on the new column (operations/rewrite-objects.ts).
      const deps = (await dependentsOf(this.client, this.schema, table, column, versionSchemas))
        .filter((d) => !droppedTables.has(d.owner) || d.owner === table)
        .filter((d) => !(rewrite && d.owner === table && d.description.startsWith('constraint ')));
      if (deps.length > 0) result.set(column === null ? table : `${table}.${column}`, deps.map((d) => d.description));
    }
    return result;
  }

  private check(migration: Migration, ctx: CheckContext): void {
    const problems = migration.operations.flatMap((op, index) => implementationOf(op).check(op, ctx, index));
    if (problems.length > 0) {
      throw new MigrationError(MigrationErrorName.INVALID, `Migration "${migration.name}" does not match schema ${this.schema}:\n  - ${problems.join('\n  - ')}`);
    }
  }
}

/** `table.column` of the columns the migration's operations rewrite (a new column swapped in at complete). */
function rewrittenColumns(migration: Migration): Set<string> {
  return new Set(migration.operations.flatMap((op) => {
    if (op.op === 'changeColumnType' || (op.op === 'alterColumn' && rewritesColumn(op))) return [`${op.table}.${op.column}`];
    if (op.op === 'createConstraint') return op.columns.map((c) => `${op.table}.${c}`);
    if (op.op === 'dropConstraint') return droppedConstraintColumns(op).map((c) => `${op.table}.${c}`);
    return [];
  }));
}

/** The tables of the backfill steps, in operation order, each once. */
function tablesOf(steps: readonly BackfillStep[]): string[] {
  return [...new Set(steps.map((s) => s.table))];
}

function emptyContext(schema: string): CheckContext {
  return { schema, catalog: new Map(), createdTables: new Map(), newColumns: new Map(), volatileDefaults: new Set(), dependents: new Map() };
}

export type { Migration };
