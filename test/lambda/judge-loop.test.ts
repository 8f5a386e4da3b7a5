import { runRollout } from '../../bench/judge-loop';

/** The benchmark's core (bench/judge.bench.ts) on a few seeded runs: the real decide() over sampled traffic. */
describe('judge benchmark loop (a few seeded runs)', () => {
  const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
  const healthy = { requestsPerSecond: 100, stable: { errorRate: 0.005 }, release: { errorRate: 0.005 } };

  test('healthy releases at 100 req/s and 0.5% 5xx: the fixed thresholds roll many back, the sequential judge none', () => {
    const outcomes = (method: 'SEQUENTIAL' | 'THRESHOLDS') => seeds.map((seed) => runRollout({ ...healthy, method, seed }).outcome);
    expect(outcomes('SEQUENTIAL').every((o) => o === 'RELEASED')).toBe(true);
    expect(outcomes('THRESHOLDS').filter((o) => o === 'ROLLED_BACK').length).toBeGreaterThan(5);
  });

  test('a 20% 5xx regression at 1,000 req/s is rolled back in the canary, from its first readable minute', () => {
    for (const seed of seeds.slice(0, 5)) {
      const r = runRollout({ method: 'SEQUENTIAL', requestsPerSecond: 1000, stable: { errorRate: 0.001 }, release: { errorRate: 0.2 }, seed });
      expect(r).toMatchObject({ outcome: 'ROLLED_BACK', step: 1 });
      expect(r.detectMinutes).toBeLessThanOrEqual(4);
    }
  });

  test('the same seed gives the same run', () => {
    const a = runRollout({ ...healthy, method: 'THRESHOLDS', seed: 7 });
    const b = runRollout({ ...healthy, method: 'THRESHOLDS', seed: 7 });
    expect(a).toEqual(b);
  });
});
