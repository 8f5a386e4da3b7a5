/**
 * One behaviour per color for the traffic and the gates' probes (rehearsal/traffic-model.ts behaviourAt): a
 * regression is active inside its window and at or above its minWeightPercent, whoever asks.
 */
import { behaviourAt, logNormalSigma } from '../../rehearsal/traffic-model';

describe('behaviourAt', () => {
  const profile = {
    baselineErrorRatePercent: 0.5,
    latency: { p50Ms: 40, p99Ms: 160 },
    regressions: [
      { fromSeconds: 60, errorRatePercent: 20 },
      { minWeightPercent: 10, latencyFactor: 3 },
    ],
  };

  test('before its window and below its weight, no regression is active', () => {
    expect(behaviourAt(profile, 30, 5)).toEqual({ baselineErrorRate: 0.005, errorRate: 0.005, latency: { p50Ms: 40, p99Ms: 160 }, regressed: false });
  });

  test('inside its window a release that is bad from its first request is bad at weight 0 (what a pre-traffic probe sees)', () => {
    expect(behaviourAt(profile, 60, 0)).toMatchObject({ errorRate: 0.2, latency: { p50Ms: 40 }, regressed: true });
  });

  test('active regressions combine: the higher error rate, the latency factors multiplied', () => {
    expect(behaviourAt(profile, 90, 10)).toMatchObject({ errorRate: 0.2, latency: { p50Ms: 120, p99Ms: 480 }, regressed: true });
  });

  test('the log-normal latency puts p99 at z(0.99) sigmas above the median', () => {
    expect(Math.exp(Math.log(40) + logNormalSigma({ p50Ms: 40, p99Ms: 160 }) * 2.3263478740408408)).toBeCloseTo(160, 9);
  });
});
