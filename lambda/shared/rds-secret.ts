/**
 * The RDS secret (the Secrets Manager JSON RDS and `rds.DatabaseSecret` write: host, port, username, password,
 * dbname) and the pg connection options built from it: one reader for every Lambda that connects to PostgreSQL (the
 * migration Lambda, the database gate).
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { ClientConfig } from 'pg';
import type { TlsMode } from '../database/migration-contract';
import { secretsManager } from './clients';
import { ErrorName } from './contracts';
import { awsCall, ZdtError } from './errors';

/** PostgreSQL's port when the secret names none. */
const DEFAULT_PORT = 5432;
/** The database when the secret names none (PostgreSQL's default database). */
const DEFAULT_DATABASE = 'postgres';
const REQUIRED = ['host', 'username', 'password'] as const;

export interface RdsSecret {
  readonly host: string;
  readonly port?: number | string;
  readonly username: string;
  readonly password: string;
  readonly dbname?: string;
}

/**
 * Reads and checks the secret. Secrets Manager faults go through awsCall (retryable ones become ErrorName.RETRYABLE);
 * a secret that is not the RDS JSON is ErrorName.INVALID_REQUEST naming the secret and what is missing.
 */
export async function readRdsSecret(arn: string): Promise<RdsSecret> {
  const out = await awsCall(`secretsmanager:GetSecretValue ${arn}`, () => secretsManager().send(new GetSecretValueCommand({ SecretId: arn })));
  let parsed: Partial<RdsSecret>;
  try {
    parsed = JSON.parse(out.SecretString ?? '');
  } catch {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `Secret ${arn}: expected a JSON SecretString { host, port, username, password, dbname }, found ${out.SecretString === undefined ? 'no SecretString' : 'text that is not JSON'}`);
  }
  const missing = REQUIRED.filter((k) => !parsed[k]);
  if (missing.length) throw new ZdtError(ErrorName.INVALID_REQUEST, `Secret ${arn}: expected fields host, username, password (and port, dbname), missing ${missing.join(', ')}`);
  return parsed as RdsSecret;
}

/** What a connection needs besides the secret. */
export interface PgConnectionOptions {
  readonly tls: TlsMode;
  /** PostgreSQL's application_name (pg_stat_activity shows which Lambda holds a connection). */
  readonly applicationName: string;
  readonly connectionTimeoutMillis: number;
}

/** pg's client options for the secret's database. */
export function pgClientConfig(secret: RdsSecret, options: PgConnectionOptions): ClientConfig {
  return {
    host: secret.host,
    port: Number(secret.port ?? DEFAULT_PORT),
    user: secret.username,
    password: secret.password,
    database: secret.dbname ?? DEFAULT_DATABASE,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    ssl: options.tls === 'disable' ? false : { rejectUnauthorized: options.tls === 'verify-full' },
  };
}

/** host:port/database, for messages. */
export function pgTarget(config: ClientConfig): string {
  return `${config.host}:${config.port}/${config.database}`;
}

/**
 * SQLSTATEs of a refused login: 28P01 invalid_password, 28000 invalid_authorization_specification (PostgreSQL
 * documentation, Appendix A "PostgreSQL Error Codes", class 28).
 */
const AUTHENTICATION_FAILURES = new Set(['28P01', '28000']);

/** True when PostgreSQL refused the login (the password or user the secret held is not, or no longer, valid). */
export function isAuthenticationFailure(err: unknown): boolean {
  return AUTHENTICATION_FAILURES.has((err as { code?: unknown })?.code as string);
}

/**
 * The secret read once for many connection attempts of one invocation (the database gate's tries). Staleness rule:
 * the value is kept until `forget()`, which a caller must call when PostgreSQL refuses the login, since rotation
 * (Secrets Manager rotates an RDS password by changing it in the database, then in the secret) is the one way a
 * read secret goes stale within an invocation; the next `read()` then asks Secrets Manager again. A failed read is
 * not kept. A new invocation starts with a new CachedRdsSecret: nothing outlives it in the container.
 */
export class CachedRdsSecret {
  private value?: Promise<RdsSecret>;

  constructor(public readonly arn: string) {}

  public read(): Promise<RdsSecret> {
    if (!this.value) {
      const reading = readRdsSecret(this.arn);
      this.value = reading;
      reading.catch(() => {
        if (this.value === reading) this.value = undefined;
      });
    }
    return this.value;
  }

  public forget(): void {
    this.value = undefined;
  }
}
