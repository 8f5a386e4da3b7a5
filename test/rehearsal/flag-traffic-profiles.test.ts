/**
 * The flag traffic's variants behave as the traffic rollout's colors (BehaviourProfile, behaviourAt): regressions
 * with a window from the rollout's start and a minimum share, latency factors, and the blast radius (requests failed
 * above the variant's baseline). Pure: the AppConfig fake and the model, no state machine.
 */
import type { MetricQuery } from '../../rehearsal/fakes';
import { DEFAULT_VARIANT_ERROR_RATE_PERCENT, FlagTraffic, FlagTrafficOptions } from '../../rehearsal/flag-traffic';
import { flagServedTo } from './flag-fixtures';

const MINUTE = 60_000;

/** The treatment `on` served to `percent` of the users, the rollout starting at the first whole minute after. */
async function served(percent: number, options: Partial<FlagTrafficOptions>) {
  const { clock, appconfig, config } = await flagServedTo(percent);
  const origin = Math.ceil((clock.now() + 1) / MINUTE) * MINUTE;
  const traffic = new FlagTraffic({ appconfig, config, requestsPerSecond: 10, originMs: origin, ...options });
  const q = (metricName: string, minute: number, minutes = 1, statistic = 'Sum', variant = 'on'): number | null => traffic.value({
    namespace: 'ZdtFlagVariants', metricName, statistic, periodStart: origin + minute * MINUTE, periodSeconds: minutes * 60,
    dimensions: { Service: 'shop', Flag: 'f', Variant: variant },
  } as MetricQuery);
  return { traffic, q, origin };
}

describe('FlagTraffic variant profiles', () => {
  test('a treatment regression active from minute 10 of the rollout: the baseline before, the regression\'s rate after, and only the excess counted as failed', async () => {
    const { traffic, q, origin } = await served(50, { variants: { on: { regressions: [{ fromSeconds: 600, errorRatePercent: 5 }] } } });
    const before = q('Requests', 5)!;
    expect(q('Errors', 5)).toBeCloseTo(before * DEFAULT_VARIANT_ERROR_RATE_PERCENT / 100, 9);
    const after = q('Requests', 15)!;
    expect(q('Errors', 15)).toBeCloseTo(after * 0.05, 9);
    expect(traffic.regressionStartedAt(origin, origin + 30 * MINUTE, ['on'])).toBe(origin + 10 * MINUTE);
    // Blast radius of the first 20 minutes: the 10 regressed minutes' requests at 5% - 0.2%, none of the control's.
    const regressed = q('Requests', 10, 10)!;
    expect(traffic.failedRequests(origin, origin + 20 * MINUTE, ['on'])).toBeCloseTo(regressed * (0.05 - 0.002), 6);
    expect(traffic.failedRequests(origin, origin + 20 * MINUTE, ['off'])).toBe(0);
    expect(traffic.totalRequests(origin, origin + 20 * MINUTE)).toBeCloseTo(20 * 60 * 10, 6);
  });

  test('a regression with minWeightPercent stays off while the treatment serves fewer users', async () => {
    const { traffic, q, origin } = await served(20, { variants: { on: { baselineErrorRatePercent: 0.5, regressions: [{ minWeightPercent: 50, errorRatePercent: 10 }] } } });
    expect(q('Errors', 3)! / q('Requests', 3)!).toBeCloseTo(0.005, 9);
    expect(traffic.regressionStartedAt(origin, origin + 60 * MINUTE, ['on'])).toBeUndefined();
    expect(traffic.failedRequests(origin, origin + 60 * MINUTE, ['on'])).toBe(0);
  });

  test('a latency regression from minute 5: a period across it reads the mixture of its minutes, between the two', async () => {
    const { q } = await served(50, { variants: { on: { latency: { p50Ms: 40, p99Ms: 200 }, regressions: [{ fromSeconds: 300, latencyFactor: 3 }] } } });
    expect(q('Latency', 0, 5, 'p99')).toBeCloseTo(200, 6);
    expect(q('Latency', 5, 5, 'p99')).toBeCloseTo(600, 6);
    const mixed = q('Latency', 0, 10, 'p99')!;
    expect(mixed).toBeGreaterThan(200);
    expect(mixed).toBeLessThan(600);
    expect(q('Latency', 0, 10, 'p50')!).toBeGreaterThan(40);
  });

  test('stochastic: the regression\'s errors are drawn among the errors, and a seed gives the same counts again', async () => {
    const variants = { on: { regressions: [{ errorRatePercent: 4 }] } };
    const a = await served(50, { seed: 3, variants });
    const b = await served(50, { seed: 3, variants });
    const end = a.origin + 120 * MINUTE;
    const failed = a.traffic.failedRequests(a.origin, end, ['on']);
    const errors = a.q('Errors', 0, 120)!;
    expect(Number.isInteger(failed)).toBe(true);
    expect(failed).toBeLessThan(errors);
    // 3.8% of ~36,000 requests above the 0.2% baseline: the excess is 95% of the errors, give or take the noise.
    expect(failed / errors).toBeGreaterThan(0.9);
    expect(b.traffic.failedRequests(b.origin, end, ['on'])).toBe(failed);
    expect(b.q('Errors', 0, 120)).toBe(errors);
  });
});
