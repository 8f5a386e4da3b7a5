/**
 * How the database gate checks the database: connect with the RDS secret, `SELECT 1`, all within a deadline.
 * Production uses pg; the rehearsal swaps in the simulated database (setDatabaseProbe).
 */
import { Client } from 'pg';
import { performance } from 'node:perf_hooks';
import type { TlsMode } from '../database/migration-contract';
import { CachedRdsSecret, isAuthenticationFailure, pgClientConfig, pgTarget, RdsSecret } from '../shared/rds-secret';

export interface DatabaseProbeRequest {
  /** The secret, read once for all of an invocation's tries (forgotten after a refused login). */
  readonly secret: CachedRdsSecret;
  readonly timeoutMs: number;
  readonly tls: TlsMode;
}

/** What one try came to: where it connected, how long it took, and the error when it failed. */
export interface DatabaseProbeResult {
  readonly ok: boolean;
  /** host:port/database, once the secret was read. */
  readonly target?: string;
  /** Milliseconds from the start of the connection to the answer of SELECT 1 (or to the failure). */
  readonly latencyMs: number;
  readonly error?: string;
}

export interface DatabaseProbe {
  check(request: DatabaseProbeRequest): Promise<DatabaseProbeResult>;
}

/** pg: connect and SELECT 1 under one deadline (connect timeout, statement timeout, and a timer around both). */
export const pgProbe: DatabaseProbe = {
  async check(request) {
    let secret: RdsSecret;
    try {
      secret = await request.secret.read();
    } catch (err) {
      return { ok: false, latencyMs: 0, error: (err as Error).message };
    }
    const config = pgClientConfig(secret, { tls: request.tls, applicationName: 'cdk-zero-downtime-gate', connectionTimeoutMillis: request.timeoutMs });
    const target = pgTarget(config);
    const client = new Client({ ...config, statement_timeout: request.timeoutMs, query_timeout: request.timeoutMs });
    client.on('error', () => undefined);
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${request.timeoutMs} ms`)), request.timeoutMs);
    });
    try {
      const result = await Promise.race([
        (async () => { await client.connect(); return client.query<{ one: number }>('SELECT 1 AS one'); })(),
        deadline,
      ]);
      if (result.rows[0]?.one !== 1) return { ok: false, target, latencyMs: elapsed(), error: `SELECT 1 returned ${JSON.stringify(result.rows)}` };
      return { ok: true, target, latencyMs: elapsed() };
    } catch (err) {
      // The one way a read secret goes stale: rotation changed the password. The next try reads it again.
      if (isAuthenticationFailure(err)) request.secret.forget();
      return { ok: false, target, latencyMs: elapsed(), error: (err as Error).message };
    } finally {
      clearTimeout(timer);
      client.end().catch(() => undefined);
    }
  },
};

let current: DatabaseProbe = pgProbe;

export function databaseProbe(): DatabaseProbe {
  return current;
}

/** Replace the probe (rehearsal). Returns a function that restores the previous one. */
export function setDatabaseProbe(next: DatabaseProbe): () => void {
  const previous = current;
  current = next;
  return () => { current = previous; };
}
