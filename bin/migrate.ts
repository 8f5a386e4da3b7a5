/**
 * `migrate plan|start|backfill|status|complete|rollback|cancel --database-url <url> <migration file>` — the expand/contract
 * engine from a terminal or a pipeline. The lead wires it into the main CLI as `zdt migrate ...`; it also runs
 * on its own: `npx tsx bin/migrate.ts plan --database-url postgres://... examples/migrations/001-rename-users-name.json`.
 *
 * start = expand + backfill (with a progress bar on stderr) + validate; both schema versions then run side
 * by side until `complete` (contract) or `rollback`.
 */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { Client } from 'pg';
import { parseMigration } from '../lambda/database/definition';
import { DEFAULT_BATCH_DELAY_MS, DEFAULT_BATCH_SIZE, DEFAULT_BATCH_TARGET_MS } from '../lambda/database/backfill';
import { DEFAULT_LOCK_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS, DEFAULT_STATEMENT_TIMEOUT_MS, retryWindowMs } from '../lambda/database/ddl';
import { BackfillProgress, DEFAULT_CANCEL_GRACE_MS, DEFAULT_SCHEMA, MigrationEngine, ValidationReport } from '../lambda/database/engine';
import { MigrationErrorName } from '../lambda/database/errors';
import { formatPlan } from '../lambda/database/plan';
import { Migration } from '../lambda/database/types';
import { requireModule } from './commands/load-module';

/** Exit codes: documented in `migrate --help`, stable for scripts. */
export const ExitCode = {
  OK: 0,
  /** Unexpected failure (connection, SQL error). */
  FAILED: 1,
  /** Bad command line or invalid migration definition. */
  USAGE: 2,
  /** High-risk migration without --acknowledge-high-risk, or DDL on a database with logical replication without --acknowledge-logical-replication. */
  ACKNOWLEDGEMENT_REQUIRED: 3,
  /** Validation found differences; the migration stays expanded (roll back or fix and re-run). */
  VALIDATION_FAILED: 4,
  /** Another migration is active, or another run holds the migration lock. */
  IN_PROGRESS: 5,
  /** DDL could not get its lock within lock_timeout after every retry; safe to run again later. */
  LOCK_TIMEOUT: 6,
  /** The command does not fit the migration's state (e.g. complete before start). */
  WRONG_STATE: 7,
  /** The run was stopped by `migrate cancel`; what it committed stays (resume with start/backfill, or roll back). */
  CANCELLED: 8,
} as const;

const ERROR_EXIT: Record<string, number> = {
  [MigrationErrorName.INVALID]: ExitCode.USAGE,
  [MigrationErrorName.ACKNOWLEDGEMENT_REQUIRED]: ExitCode.ACKNOWLEDGEMENT_REQUIRED,
  [MigrationErrorName.VALIDATION_FAILED]: ExitCode.VALIDATION_FAILED,
  [MigrationErrorName.IN_PROGRESS]: ExitCode.IN_PROGRESS,
  [MigrationErrorName.LOCK_TIMEOUT]: ExitCode.LOCK_TIMEOUT,
  [MigrationErrorName.WRONG_STATE]: ExitCode.WRONG_STATE,
  [MigrationErrorName.CANCELLED]: ExitCode.CANCELLED,
};

const COMMANDS = ['plan', 'start', 'backfill', 'status', 'complete', 'rollback', 'cancel'];
/** Commands that need no migration file (they act on the schema's active migration or run). */
const FILE_OPTIONAL = ['status', 'cancel'];

const seconds = (ms: number) => Math.round(ms / 1000);
const DEFAULT_RETRY_WINDOW = retryWindowMs();

export const USAGE = `Usage: migrate <command> --database-url <url> [options] <migration file>

Commands:
  plan      validate the migration against the database, try its SQL and its up expressions on the existing
            rows (read-only), and print its plan (changes nothing); exit 5 while another migration is active
  start     expand, backfill (progress on stderr) and validate; old and new versions then run side by side.
            Running it again resumes where it stopped (after a crash, a cancel or a lock timeout)
  backfill  resume the backfill of a started migration and validate it (no contract)
  status    show the migration's state and backfill progress (the file is optional: default, the active one)
  complete  contract: drop what the migration replaces (after validation)
  rollback  undo the expand (before complete); writes of both versions are kept
  cancel    stop the start or backfill running on the schema (in another process); then resume it (start,
            backfill) or roll it back (the file is optional)

Options:
  --database-url <url>        postgres://user:password@host:port/database (or env DATABASE_URL)
  --schema <name>             physical schema (default: ${DEFAULT_SCHEMA})
  --batch-size <rows>         largest backfill batch (default: ${DEFAULT_BATCH_SIZE})
  --batch-target-ms <ms>      size batches to take about this long (default: ${DEFAULT_BATCH_TARGET_MS}; 0: every batch --batch-size rows)
  --batch-delay-ms <ms>       pause between backfill batches (default: ${DEFAULT_BATCH_DELAY_MS})
  --lock-timeout-ms <ms>      lock_timeout of each DDL statement, at least 1 (default: ${DEFAULT_LOCK_TIMEOUT_MS})
  --statement-timeout-ms <ms> statement_timeout of DDL, at least 1 (default: ${DEFAULT_STATEMENT_TIMEOUT_MS}; not for concurrent index builds)
  --max-attempts <n>          attempts per DDL on lock timeouts (default: ${DEFAULT_MAX_ATTEMPTS}: with the default timeouts a DDL
                              step keeps retrying for ${seconds(DEFAULT_RETRY_WINDOW.minMs)}-${seconds(DEFAULT_RETRY_WINDOW.maxMs)} s before exit 6)
  --grace-ms <ms>             cancel: how long the run may take to stop between batches before its query is
                              cancelled (default: ${DEFAULT_CANCEL_GRACE_MS})
  --acknowledge-high-risk     allow steps that drop data
  --acknowledge-logical-replication
                              change the schema although the database has logical replication slots
                              (only when every subscriber gets the same migration)
  --json                      print machine-readable JSON on stdout
  -h, --help                  this help

The migration file is JSON, or a .ts/.js module whose default export is the migration.

Exit codes: 0 ok, 1 unexpected failure, 2 usage or invalid migration, 3 acknowledgement required,
4 validation failed, 5 another migration in progress, 6 lock timeout (retry later), 7 wrong state, 8 cancelled.`;

interface Parsed {
  command: string;
  file?: string;
  url?: string;
  schema?: string;
  numbers: Record<string, number>;
  acknowledge: boolean;
  acknowledgeLogicalReplication: boolean;
  json: boolean;
  help: boolean;
}

/** Numeric options: the engine option each sets, and its smallest value (a timeout of 0 means none in PostgreSQL). */
const NUMBER_OPTIONS: Record<string, { key: string; min: number }> = {
  '--batch-size': { key: 'batchSize', min: 1 }, '--batch-target-ms': { key: 'batchTargetMs', min: 0 }, '--batch-delay-ms': { key: 'batchDelayMs', min: 0 },
  '--lock-timeout-ms': { key: 'lockTimeoutMs', min: 1 }, '--statement-timeout-ms': { key: 'statementTimeoutMs', min: 1 },
  '--max-attempts': { key: 'maxAttempts', min: 1 }, '--grace-ms': { key: 'graceMs', min: 0 },
};

class UsageError extends Error {}

function parseArgs(argv: string[]): Parsed {
  const p: Parsed = { command: '', numbers: {}, acknowledge: false, acknowledgeLogicalReplication: false, json: false, help: false };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '-h' || flag === '--help') p.help = true;
    else if (flag === '--database-url') p.url = value();
    else if (flag === '--schema') p.schema = value();
    else if (flag === '--acknowledge-high-risk') p.acknowledge = true;
    else if (flag === '--acknowledge-logical-replication') p.acknowledgeLogicalReplication = true;
    else if (flag === '--json') p.json = true;
    else if (NUMBER_OPTIONS[flag]) {
      const raw = value();
      const n = Number(raw);
      const { key, min } = NUMBER_OPTIONS[flag];
      if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) {
        const why = min === 1 && flag.endsWith('timeout-ms') ? ' (0 would mean no timeout in PostgreSQL: DDL waiting for a lock would queue every writer behind it)' : '';
        throw new UsageError(`${flag} must be a whole number of at least ${min}${why}, got ${JSON.stringify(raw)}`);
      }
      p.numbers[key] = n;
    } else if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
    else positional.push(a);
  }
  p.command = positional[0] ?? '';
  p.file = positional[1];
  if (positional.length > 2) throw new UsageError(`unexpected argument ${JSON.stringify(positional[2])}`);
  return p;
}

/** Loads a migration file: JSON, or a module (.ts, .js) whose default export is the migration. */
export function loadMigrationFile(file: string): Migration {
  const path = resolve(file);
  let raw: unknown;
  const ext = extname(path);
  try {
    if (ext === '.json') raw = JSON.parse(readFileSync(path, 'utf8'));
    else if (['.ts', '.js', '.cjs', '.mts', '.mjs'].includes(ext)) {
      const mod = requireModule(path) as { default?: unknown; migration?: unknown };
      raw = mod.default ?? mod.migration ?? mod;
    } else throw new UsageError(`the migration file must be .json, .ts or .js, got ${file}`);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read migration file ${file}: ${(err as Error).message}`);
  }
  return parseMigration(raw);
}

/** Batches take milliseconds: redrawing the bar for each would flood the terminal. */
const REDRAW_INTERVAL_MS = 100;

/** A progress bar on stderr: redrawn in place on a TTY (at most every REDRAW_INTERVAL_MS), one line per 10% otherwise. */
export class ProgressBar {
  private lastDecile = -1;
  private lastDraw = -Infinity;
  private readonly width = 30;
  constructor(private readonly stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr, private readonly startedAt = Date.now()) {}

  update(done: number, total: number): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const rate = done / Math.max(0.001, (Date.now() - this.startedAt) / 1000);
    const text = `backfill ${(fraction * 100).toFixed(1).padStart(5)}% ${done}/${total} rows ${Math.round(rate)} rows/s`;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (fraction < 1 && now - this.lastDraw < REDRAW_INTERVAL_MS) return;
      this.lastDraw = now;
      const filled = Math.round(fraction * this.width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${text}`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        this.stream.write(`${text}\n`);
      }
    }
  }

  finish(): void {
    if (this.stream.isTTY) this.stream.write('\n');
  }
}

function printValidation(report: ValidationReport, out: (s: string) => void): void {
  out(`validation: ${report.ok ? 'OK' : 'FAILED'}`);
  for (const c of report.checks) out(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
}

async function backfillWithProgress(engine: MigrationEngine, name: string, bar: ProgressBar | undefined): Promise<BackfillProgress> {
  let done = 0;
  let total = 0;
  const progress = await engine.backfill(name, {
    onBatch: (cp) => {
      done = cp.rowsDone;
      total = Math.max(cp.rowsTotal, cp.rowsDone);
      bar?.update(done, total);
    },
  });
  if (bar && (done > 0 || progress.rowsTotal > 0)) {
    bar.update(progress.rowsDone, Math.max(progress.rowsTotal, progress.rowsDone));
    bar.finish();
  }
  return progress;
}

/** Backfills (resuming from the checkpoints) and validates; the tail of start and the whole of backfill. */
async function backfillAndValidate(engine: MigrationEngine, migration: Migration, plan: unknown, args: Parsed,
  out: (s: string) => void, err: (s: string) => void, bar: ProgressBar | undefined): Promise<number> {
  const progress = await backfillWithProgress(engine, migration.name, bar);
  const report = await engine.validate(migration.name);
  if (args.json) out(JSON.stringify({ ...(plan ? { plan } : {}), backfill: progress, validation: report }, null, 2));
  else printValidation(report, out);
  if (!report.ok) {
    err(`migrate: validation failed; migration ${migration.name} stays expanded. Fix the data and run backfill (or start) again, or roll back.`);
    return ExitCode.VALIDATION_FAILED;
  }
  if (!args.json) out(`\nBoth versions now run side by side. Deploy the new version, then: migrate complete ... ${args.file}`);
  return ExitCode.OK;
}

export async function migrateCommand(argv: string[], io: { out?: (s: string) => void; err?: (s: string) => void } = {}): Promise<number> {
  const out = io.out ?? ((s: string) => process.stdout.write(`${s}\n`));
  const err = io.err ?? ((s: string) => process.stderr.write(`${s}\n`));
  let args: Parsed;
  try {
    args = parseArgs(argv);
  } catch (e) {
    err(`migrate: ${(e as Error).message}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  if (args.help || !args.command) {
    (args.help ? out : err)(USAGE);
    return args.help ? ExitCode.OK : ExitCode.USAGE;
  }
  if (!COMMANDS.includes(args.command)) {
    err(`migrate: unknown command ${JSON.stringify(args.command)}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
  const url = args.url ?? process.env.DATABASE_URL;
  if (!url) {
    err('migrate: --database-url (or env DATABASE_URL) is required');
    return ExitCode.USAGE;
  }
  let migration: Migration | undefined;
  try {
    if (args.file) migration = loadMigrationFile(args.file);
    else if (!FILE_OPTIONAL.includes(args.command)) throw new UsageError(`${args.command} needs a migration file`);
  } catch (e) {
    err(`migrate: ${(e as Error).message}`);
    return ExitCode.USAGE;
  }

  // Progress goes to stderr: the real stream (TTY-aware), or the caller's err function as plain lines.
  const progressStream = io.err ? { isTTY: false, write: (s: string) => { err(s.replace(/\n$/, '')); return true; } } : process.stderr;
  const newBar = () => (args.json ? undefined : new ProgressBar(progressStream));
  const client = new Client({ connectionString: url, application_name: 'zdt-migrate' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    err(`migrate: cannot connect to the database: ${(e as Error).message}`);
    return ExitCode.FAILED;
  }
  const { graceMs, ...engineNumbers } = args.numbers;
  try {
    const engine = new MigrationEngine(client, { schema: args.schema, acknowledgeHighRisk: args.acknowledge,
      acknowledgeLogicalReplication: args.acknowledgeLogicalReplication, ...engineNumbers });
    switch (args.command) {
      case 'plan': {
        const plan = await engine.plan(migration);
        out(args.json ? JSON.stringify(plan, null, 2) : formatPlan(plan));
        if (plan.activeMigration && plan.activeMigration.name !== migration!.name) {
          err(`migrate: migration ${plan.activeMigration.name} is ${plan.activeMigration.status} on schema ${engine.schema}; start of ${migration!.name} would be refused until it is completed or rolled back`);
          return ExitCode.IN_PROGRESS;
        }
        return ExitCode.OK;
      }
      case 'start': {
        const plan = await engine.plan(migration);
        if (!args.json) out(formatPlan(plan));
        const resumed = plan.activeMigration?.name === migration!.name;
        await engine.start(migration);
        if (!args.json) out(`\n${resumed ? 'resumed' : 'started'}: the new version uses search_path=${plan.versionSchema}`);
        return await backfillAndValidate(engine, migration!, plan, args, out, err, newBar());
      }
      case 'backfill': {
        const status = await engine.status(migration!.name);
        if (!status || !['started', 'backfilled', 'validated'].includes(status.status)) {
          err(`migrate: cannot backfill migration ${migration!.name} on schema ${engine.schema}: expected status started, backfilled or validated, found ${status?.status ?? 'no such migration'}${status ? '' : ' (run start)'}`);
          return ExitCode.WRONG_STATE;
        }
        return await backfillAndValidate(engine, migration!, undefined, args, out, err, newBar());
      }
      case 'cancel': {
        const report = await engine.cancel(graceMs);
        if (args.json) out(JSON.stringify(report));
        else if (!report.running) out(`nothing is running on schema ${engine.schema}${report.migration ? ` (migration ${report.migration} is active and idle)` : ''}`);
        else {
          out(`stopped the run of ${report.migration ?? 'the migration'} on schema ${engine.schema} (session pid ${report.pid}${report.cancelledQuery ? ', its query cancelled' : ''})`);
          if (report.migration) out(`resume it with: migrate start ... (or backfill); undo it with: migrate rollback ...`);
        }
        return ExitCode.OK;
      }
      case 'status': {
        const status = await engine.status(migration?.name);
        if (args.json) out(JSON.stringify(status, null, 2));
        else if (!status) out(`no migration${migration ? ` named ${migration.name}` : ''} on schema ${engine.schema}`);
        else {
          out(`migration ${status.migration} on schema ${status.schema}: ${status.status}`);
          out(`  new version schema: ${status.versionSchema}; old version: ${status.previousVersionSchema ?? status.schema}`);
          const b = status.backfill;
          if (b.tables.length > 0 || b.rowsTotal > 0) out(`  backfill: ${b.done ? 'done' : 'in progress'}, ${b.rowsDone}/${b.rowsTotal} rows`);
          if (status.waitingForGate) out('  waiting for the application rollout (gate)');
          out(`  started ${status.startedAt}, updated ${status.updatedAt}${status.completedAt ? `, completed ${status.completedAt}` : ''}`);
        }
        return status || !migration ? ExitCode.OK : ExitCode.WRONG_STATE;
      }
      case 'complete': {
        const status = await engine.status(migration!.name);
        if (status?.status === 'started') await backfillWithProgress(engine, migration!.name, newBar());
        if (status?.status === 'started' || status?.status === 'backfilled') {
          const report = await engine.validate(migration!.name);
          if (!args.json) printValidation(report, out);
          if (!report.ok) {
            err(`migrate: validation failed; not completing ${migration!.name}`);
            return ExitCode.VALIDATION_FAILED;
          }
        }
        await engine.complete(migration!.name);
        out(args.json ? JSON.stringify({ migration: migration!.name, status: 'completed' }) : `completed ${migration!.name}`);
        return ExitCode.OK;
      }
      case 'rollback': {
        await engine.rollback(migration!.name);
        out(args.json ? JSON.stringify({ migration: migration!.name, status: 'rolled_back' }) : `rolled back ${migration!.name}`);
        return ExitCode.OK;
      }
    }
    return ExitCode.USAGE;
  } catch (e) {
    const code = ERROR_EXIT[(e as Error).name] ?? ExitCode.FAILED;
    err(`migrate: ${(e as Error).name}: ${(e as Error).message}`);
    return code;
  } finally {
    await client.end().catch(() => undefined);
  }
}

if (require.main === module) {
  migrateCommand(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write(`migrate: ${(e as Error).stack ?? e}\n`);
    process.exitCode = ExitCode.FAILED;
  });
}
