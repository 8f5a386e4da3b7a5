/**
 * The performance-baseline gate's handler against a real HTTP server on 127.0.0.1 that answers each color (the test
 * route's header) with its own delay: it passes when the new color is as fast, fails when it is slower than the limit,
 * and fails when a color does not answer in time or the baseline itself is failing.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { percentile } from '../../lambda/gates/performance-gate-handler';
import { handler } from '../../lambda/gates/performance-gate-handler';
import { PerformanceGateConfig } from '../../lambda/gates/gate-contract';
import { TrafficHookEvent } from '../../lambda/shared/contracts';
import { fixedClock, setConfig } from '../lambda/support/env';

/** How each color answers: delay (ms) and status, or no answer at all. */
let behaviour: Record<string, { delayMs: number; status: number } | 'hang'>;
let calls: string[];
const hanging: ServerResponse[] = [];
let server: Server;
let baseUrl: string;
let clockHandle: ReturnType<typeof fixedClock>;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const color = String(req.headers['x-zdt-color']);
    calls.push(color);
    const b = behaviour[color];
    if (b === 'hang') { hanging.push(res); return; }
    setTimeout(() => { res.statusCode = b.status; res.end('ok'); }, b.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  hanging.forEach((r) => r.destroy());
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => { calls = []; clockHandle = fixedClock(); });
afterEach(() => clockHandle.restore());

const EVENT: TrafficHookEvent = {
  hook: 'preTraffic', service: 'web', execution: 'arn:aws:states:us-east-1:111111111111:execution:m:e',
  targetColor: 'green', stableColor: 'blue', testRoute: { header: 'x-zdt-color', value: 'green' },
};

function configure(overrides: Partial<PerformanceGateConfig> = {}): void {
  const config: PerformanceGateConfig = {
    name: 'Performance baseline', baseUrl, endpoints: [{ path: '/api/projects', method: 'GET' }],
    samples: 4, percentile: 90, maxLatencyFactor: 1.5, minDifferenceMs: 50, requestTimeoutMs: 2_000, maxStatusExclusive: 400, ...overrides,
  };
  setConfig(config);
}

describe('performance-baseline gate', () => {
  test('nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90)).toBe(90);
    expect(percentile([7], 99)).toBe(7);
  });

  test('passes when the new color is about as fast as the stable one, probing both alternately through the test route', async () => {
    behaviour = { green: { delayMs: 0, status: 200 }, blue: { delayMs: 0, status: 200 } };
    // A generous minimum difference: both colors answer at once, whatever the load on the test machine.
    configure({ minDifferenceMs: 200 });

    const result = await handler(EVENT);

    expect(result.status).toBe('Succeeded');
    expect(result.reason).toMatch(/^Performance baseline passed: GET \/api\/projects: green p90 [\d.]+ ms vs blue p90 [\d.]+ ms$/);
    // A warm-up request each, then four samples each, alternating.
    expect(calls).toEqual(['green', 'blue', 'green', 'blue', 'green', 'blue', 'green', 'blue', 'green', 'blue']);
  });

  test('fails when the new color is slower than the baseline by more than the factor and the minimum difference', async () => {
    behaviour = { green: { delayMs: 150, status: 200 }, blue: { delayMs: 0, status: 200 } };
    configure();

    const result = await handler(EVENT);

    expect(result.status).toBe('Failed');
    expect(result.reason).toMatch(/^Performance baseline failed: GET \/api\/projects: green p90 [\d.]+ ms vs blue p90 [\d.]+ ms \(limit: 1\.5x the baseline and more than 50 ms over it; 4 samples each\)$/);
    expect(result.endpoints![0].target! - result.endpoints![0].stable!).toBeGreaterThan(50);
  });

  test('passes a slower new color when the difference is below the minimum (noise on a fast baseline)', async () => {
    behaviour = { green: { delayMs: 20, status: 200 }, blue: { delayMs: 0, status: 200 } };
    configure({ minDifferenceMs: 500 });

    expect((await handler(EVENT)).status).toBe('Succeeded');
  });

  test('fails when the new color does not answer within the request timeout', async () => {
    behaviour = { green: 'hang', blue: { delayMs: 0, status: 200 } };
    configure({ requestTimeoutMs: 100, samples: 2 });

    const result = await handler(EVENT);

    expect(result).toMatchObject({ status: 'Failed', reason: 'Performance baseline failed: GET /api/projects: green failed 2 of 2 samples, last no answer (no answer within 100 ms) (limit: 10%)' });
    expect(calls.filter((c) => c === 'green')).toHaveLength(3);
  });

  test('fails when the baseline itself answers errors: a degraded stable color is not a baseline', async () => {
    behaviour = { green: { delayMs: 0, status: 200 }, blue: { delayMs: 0, status: 503 } };
    configure();

    const result = await handler(EVENT);

    expect(result.reason).toBe('Performance baseline failed: GET /api/projects: the baseline (blue) failed 4 of 4 samples, last status 503 (limit: below 400) (limit: 10%); an unhealthy baseline cannot be compared with');
  });

  test('leaves a rare failed sample out of the comparison (an ordinary error rate is the HTTP gate\'s concern)', async () => {
    let n = 0;
    behaviour = { green: { delayMs: 0, status: 200 }, blue: { delayMs: 0, status: 200 } };
    const original = behaviour.green;
    behaviour = new Proxy(behaviour, { get: (t, k) => (k === 'green' && ++n === 3 ? { delayMs: 0, status: 500 } : (k === 'green' ? original : t[k as string])) });
    configure({ samples: 10, minDifferenceMs: 200 });

    const result = await handler(EVENT);

    expect(result.status).toBe('Succeeded');
  });
});
