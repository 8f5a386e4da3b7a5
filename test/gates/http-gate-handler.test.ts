/**
 * The HTTP gate's handler against a real HTTP server on 127.0.0.1: which requests it sends (the test route's
 * header), and when it passes, fails or times out.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { handler } from '../../lambda/gates/http-gate-handler';
import { HttpGateConfig } from '../../lambda/gates/gate-contract';
import { TrafficHookEvent } from '../../lambda/shared/contracts';
import { fixedClock, setConfig } from '../lambda/support/env';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let routes: Record<string, Route>;
let seen: Array<{ path: string; method: string; color: string | undefined }>;
let clockHandle: ReturnType<typeof fixedClock>;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', method: req.method ?? '', color: req.headers['x-zdt-color'] as string | undefined });
    const route = routes[req.url ?? ''];
    if (route) route(req, res);
    else { res.statusCode = 404; res.end('not found'); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  routes = {};
  seen = [];
  clockHandle = fixedClock();
});
afterEach(() => clockHandle.restore());

const ok: Route = (_req, res) => { res.statusCode = 200; res.end('{"ok":true}'); };
const status = (code: number): Route => (_req, res) => { res.statusCode = code; res.end(); };

const EVENT: TrafficHookEvent = {
  hook: 'preTraffic', service: 'web', execution: 'arn:aws:states:us-east-1:111111111111:execution:m:e',
  targetColor: 'green', stableColor: 'blue', testRoute: { header: 'x-zdt-color', value: 'green' },
};

function configure(overrides: Partial<HttpGateConfig> = {}): void {
  const config: HttpGateConfig = {
    name: 'HTTP check',
    baseUrl,
    endpoints: [{ path: '/health', method: 'GET' }, { path: '/api/users/me', method: 'GET' }, { path: '/api/projects', method: 'GET' }],
    maxStatusExclusive: 400,
    maxLatencyMs: 5_000,
    requestTimeoutMs: 5_000,
    attempts: 3,
    retryDelayMs: 2_000,
    ...overrides,
  };
  setConfig(config);
}

describe('HTTP gate', () => {
  test('passes when every endpoint answers below 400 in time, calling each with the test-route header of the new color', async () => {
    routes = { '/health': ok, '/api/users/me': status(302), '/api/projects': ok };
    configure();

    const result = await handler(EVENT);

    expect(result.status).toBe('Succeeded');
    expect(result.reason).toMatch(/^HTTP check passed: 3 endpoints on green answered below 400 within 5000 ms/);
    expect(seen).toEqual([
      { path: '/health', method: 'GET', color: 'green' },
      { path: '/api/users/me', method: 'GET', color: 'green' },
      { path: '/api/projects', method: 'GET', color: 'green' },
    ]);
    expect(clockHandle.sleeps).toEqual([]);
  });

  test('fails when an endpoint answers 400 or more on every attempt, naming the gate, endpoint, color, status and limit', async () => {
    routes = { '/health': ok, '/api/users/me': ok, '/api/projects': status(503) };
    configure();

    const result = await handler(EVENT);

    expect(result.status).toBe('Failed');
    expect(result.reason).toBe('HTTP check failed: 1 of 3 endpoints failed: GET /api/projects on green: status 503 (limit: below 400) in '
      + `${result.endpoints![2].last.latencyMs} ms (3 attempts)`);
    expect(seen.filter((s) => s.path === '/api/projects')).toHaveLength(3);
    // Two waits between three attempts, on the handler's clock.
    expect(clockHandle.sleeps).toEqual([2_000, 2_000]);
  });

  test('retries an endpoint and passes on its first good attempt', async () => {
    let calls = 0;
    routes = { '/health': (req, res) => (++calls === 1 ? status(502)(req, res) : ok(req, res)) };
    configure({ endpoints: [{ path: '/health', method: 'GET' }] });

    const result = await handler(EVENT);

    expect(result.status).toBe('Succeeded');
    expect(result.endpoints![0]).toMatchObject({ endpoint: 'GET /health', ok: true, attempts: 2, last: { status: 200 } });
  });

  test('fails when an endpoint answers more slowly than the latency limit', async () => {
    routes = { '/health': (req, res) => { setTimeout(() => ok(req, res), 120); } };
    configure({ endpoints: [{ path: '/health', method: 'GET' }], maxLatencyMs: 20, attempts: 2 });

    const result = await handler(EVENT);

    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(/^HTTP check failed: 1 of 1 endpoint failed: GET \/health on green: status 200 in [\d.]+ ms \(limit: 20 ms\) \(2 attempts\)$/);
  });

  test('fails with "no answer" when an endpoint does not answer within the request timeout', async () => {
    const hanging: ServerResponse[] = [];
    routes = { '/health': (_req, res) => { hanging.push(res); } };
    configure({ endpoints: [{ path: '/health', method: 'HEAD' }], requestTimeoutMs: 100, attempts: 1 });

    const result = await handler(EVENT);
    // On a loaded machine the probe can give up before this server's handler has run for the request it received.
    for (let waited = 0; seen.length === 0 && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    hanging.forEach((r) => r.destroy());

    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(/^HTTP check failed: 1 of 1 endpoint failed: HEAD \/health on green: no answer \(no answer within 100 ms\) after [\d.]+ ms \(1 attempt\)$/);
    expect(seen).toEqual([{ path: '/health', method: 'HEAD', color: 'green' }]);
  });

  test('fails with the network error when nothing listens', async () => {
    configure({ baseUrl: 'http://127.0.0.1:1', endpoints: [{ path: '/health', method: 'GET' }], attempts: 1 });

    const result = await handler(EVENT);

    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(/GET \/health on green: no answer \(ECONNREFUSED\)/);
  });

  test('fails without calling anything when the event carries no test route (it would probe production)', async () => {
    configure();
    const { testRoute: _none, ...withoutRoute } = EVENT;

    const result = await handler(withoutRoute);

    expect(result).toEqual({ status: 'Failed', reason: expect.stringMatching(/^HTTP check failed: the event carries no test route/) });
    expect(seen).toEqual([]);
  });
});
