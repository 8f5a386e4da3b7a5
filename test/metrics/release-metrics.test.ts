import { EventEmitter } from 'node:events';
import { ReleaseMetrics, RELEASE_SIGNAL_ENV } from '../../lambda/metrics/release-metrics';
import { emfViolations } from './emf-rules';

function recorder(env: Record<string, string>) {
  const lines: string[] = [];
  const now = Date.UTC(2026, 11, 5, 10, 0, 0);
  const metrics = ReleaseMetrics.fromEnvironment(env, { sink: (l) => lines.push(l), clock: () => now, flushIntervalMs: 0, flushOnExit: false });
  return { metrics, lines };
}

describe('ReleaseMetrics', () => {
  test('records requests, 5xx (0 included) and latency with the Service and Color dimensions, high resolution', () => {
    const { metrics, lines } = recorder({ [RELEASE_SIGNAL_ENV.SERVICE]: 'shop', [RELEASE_SIGNAL_ENV.COLOR]: 'green' });
    metrics.record(200, 12);
    metrics.record(503, 40);
    metrics.record(404, 8);
    expect(metrics.flush()).toBe(1);
    expect(emfViolations(lines[0])).toEqual([]);
    const doc = JSON.parse(lines[0]);
    expect(doc).toMatchObject({ Service: 'shop', Color: 'green', Requests: 3, Errors5xx: 1, Latency: [12, 40, 8] });
    expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'ZeroDowntime/Release', Dimensions: [['Color', 'Service']] });
    expect(doc._aws.CloudWatchMetrics[0].Metrics.every((m: any) => m.StorageResolution === 1)).toBe(true);
  });

  test('a second without errors still writes Errors5xx 0, so the alarm\'s rate is defined', () => {
    const { metrics, lines } = recorder({ [RELEASE_SIGNAL_ENV.SERVICE]: 'shop', [RELEASE_SIGNAL_ENV.COLOR]: 'blue', [RELEASE_SIGNAL_ENV.NAMESPACE]: 'Shop/Release' });
    metrics.record(200, 5);
    metrics.flush();
    expect(JSON.parse(lines[0])).toMatchObject({ Requests: 1, Errors5xx: 0, _aws: { CloudWatchMetrics: [{ Namespace: 'Shop/Release' }] } });
  });

  test('observe() records a response when it finishes', () => {
    const { metrics, lines } = recorder({ [RELEASE_SIGNAL_ENV.SERVICE]: 'shop', [RELEASE_SIGNAL_ENV.COLOR]: 'blue' });
    const response = Object.assign(new EventEmitter(), { statusCode: 500 });
    metrics.observe(response, performance.now() - 25);
    expect(metrics.flush()).toBe(0); // not finished yet
    response.emit('finish');
    metrics.flush();
    const doc = JSON.parse(lines[0]);
    expect(doc).toMatchObject({ Requests: 1, Errors5xx: 1 });
    expect(doc.Latency[0]).toBeGreaterThanOrEqual(25);
  });

  test('outside a color stack (no environment) it records nothing; a color other than blue or green is refused', () => {
    const { metrics, lines } = recorder({});
    expect(metrics.enabled).toBe(false);
    metrics.record(500, 1);
    expect(metrics.flush()).toBe(0);
    expect(lines).toEqual([]);
    expect(() => recorder({ [RELEASE_SIGNAL_ENV.SERVICE]: 'shop', [RELEASE_SIGNAL_ENV.COLOR]: 'purple' })).toThrow(/color: got "purple"; allowed: "blue" or "green"/);
  });
});
