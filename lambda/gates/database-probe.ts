/**
 * How the database gate checks the database: read the RDS secret from Secrets Manager, connect, `SELECT 1`, all
 * within a deadline. Production uses pg; the rehearsal swaps in the simulated database (setDatabaseProbe).
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';
import { performance } from 'node:perf_hooks';
import { secretsManager } from '../shared/clients';
import type { TlsMode } from '../database/migration-contract';

const DEFAULT_PORT = 5432;

export interface DatabaseProbeRequest {
  readonly secretArn: string;
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

interface RdsSecret {
  readonly host?: string;
  readonly port?: number | string;
  readonly username?: string;
  readonly password?: string;
  readonly dbname?: string;
}

async function readSecret(arn: string): Promise<RdsSecret> {
  const out = await secretsManager().send(new GetSecretValueCommand({ SecretId: arn }));
  try {
    return JSON.parse(out.SecretString ?? '') as RdsSecret;
  } catch {
    throw new Error(`secret ${arn} holds no JSON SecretString { host, port, username, password, dbname }`);
  }
}

/** pg: connect and SELECT 1 under one deadline (connect timeout, statement timeout, and a timer around both). */
export const pgProbe: DatabaseProbe = {
  async check(request) {
    let secret: RdsSecret;
    try {
      secret = await readSecret(request.secretArn);
    } catch (err) {
      return { ok: false, latencyMs: 0, error: `reading the secret failed (${(err as Error).name}): ${(err as Error).message}` };
    }
    const missing = ['host', 'username', 'password'].filter((k) => !(secret as Record<string, unknown>)[k]);
    if (missing.length > 0) return { ok: false, latencyMs: 0, error: `secret ${request.secretArn} lacks ${missing.join(', ')}` };
    const port = Number(secret.port ?? DEFAULT_PORT);
    const database = secret.dbname ?? 'postgres';
    const target = `${secret.host}:${port}/${database}`;
    const client = new Client({
      host: secret.host, port, user: secret.username, password: secret.password, database,
      application_name: 'cdk-zero-downtime-gate',
      connectionTimeoutMillis: request.timeoutMs,
      statement_timeout: request.timeoutMs,
      query_timeout: request.timeoutMs,
      ssl: request.tls === 'disable' ? false : { rejectUnauthorized: request.tls === 'verify-full' },
    });
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
