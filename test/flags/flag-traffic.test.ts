/**
 * The variant traffic model of the flag rehearsal: the deterministic model (expected counts) and the seeded
 * stochastic one (Poisson requests, binomial errors, order-statistic latency percentiles), as the traffic rollout's.
 */
import type { MetricQuery } from '../../rehearsal/fakes';
import { rehearseFlagRollout } from '../../rehearsal/flag-rehearsal';
import { FlagTraffic } from '../../rehearsal/flag-traffic';
import { flagServedTo, shortFlagRolloutApp } from '../rehearsal/flag-fixtures';

const MINUTE = 60_000;

/** An environment whose deployed document serves `on` of flag f to half of the users. */
async function half(seed?: number) {
  const { clock, appconfig, config } = await flagServedTo(50);
  const traffic = new FlagTraffic({ appconfig, config, requestsPerSecond: 10, seed, variants: { on: { baselineErrorRatePercent: 2 } } });
  const start = clock.now() + MINUTE;
  const q = (metricName: string, variant: string, minutes: number, from = start, statistic = 'Sum'): number | null => traffic.value({
    namespace: 'ZdtFlagVariants', metricName, statistic, periodStart: from, periodSeconds: minutes * 60,
    dimensions: { Service: 'shop', Flag: 'f', Variant: variant },
  } as MetricQuery);
  return { q, start };
}

describe('FlagTraffic', () => {
  test('deterministic: expected counts, the treatment\'s error rate exactly', async () => {
    const { q } = await half();
    const requests = q('Requests', 'on', 10)!;
    expect(requests).toBeGreaterThan(2400);
    expect(requests).toBeLessThan(3600);
    expect(q('Errors', 'on', 10)).toBeCloseTo(requests * 0.02, 6);
  });

  test('stochastic: whole counts that vary by minute, the same for the same seed, a period the sum of its minutes', async () => {
    const a = await half(7);
    const perMinute = Array.from({ length: 20 }, (_, i) => a.q('Requests', 'on', 1, a.start + i * MINUTE)!);
    expect(perMinute.every(Number.isInteger)).toBe(true);
    expect(new Set(perMinute).size).toBeGreaterThan(5);
    expect(a.q('Requests', 'on', 20)).toBe(perMinute.reduce((x, y) => x + y, 0));
    const errors = Array.from({ length: 20 }, (_, i) => a.q('Errors', 'on', 1, a.start + i * MINUTE)!);
    expect(a.q('Errors', 'on', 20)).toBe(errors.reduce((x, y) => x + y, 0));
    // Same seed, same traffic (read in another order); another seed, other traffic.
    const again = await half(7);
    expect(again.q('Requests', 'on', 1, a.start + 19 * MINUTE)).toBe(perMinute[19]);
    const other = await half(8);
    expect(Array.from({ length: 20 }, (_, i) => other.q('Requests', 'on', 1, a.start + i * MINUTE))).not.toEqual(perMinute);
    // Over many minutes the draws keep the model's rates: 2% errors, p99 sampled around its value.
    const total = a.q('Requests', 'on', 600)!;
    expect(Math.abs(a.q('Errors', 'on', 600)! / total - 0.02)).toBeLessThan(0.003);
    const p99 = Array.from({ length: 30 }, (_, i) => a.q('Latency', 'on', 1, a.start + i * MINUTE, 'p99')!);
    expect(new Set(p99).size).toBe(30);
    const mean = p99.reduce((x, y) => x + y, 0) / p99.length;
    expect(mean).toBeGreaterThan(150);
    expect(mean).toBeLessThan(220);
  });

  test('a few seeds of a short rollout: a healthy treatment completes and a failing one rolls back in every run', async () => {
    const app = shortFlagRolloutApp();
    const outcomes: string[] = [];
    for (const seed of [1, 2]) {
      outcomes.push((await rehearseFlagRollout(app, { scenario: 'flag-rollout-healthy', seed })).outcome);
      outcomes.push((await rehearseFlagRollout(app, { scenario: 'flag-rollout-regression', seed })).outcome);
    }
    expect(outcomes).toEqual(['COMPLETED', 'ROLLED_BACK', 'COMPLETED', 'ROLLED_BACK']);
  });
});
