import { rehearse } from '../../rehearsal/rehearse';
import { nearestRank, RehearsalRunRecord, rehearseRuns, summarizeRuns } from '../../rehearsal/rehearse-runs';
import type { StackTemplate } from '../../rehearsal/deployer';
import { synthEverJust } from './scenarios-support';

const record = (seed: number, outcome: RehearsalRunRecord['outcome'], extra: Partial<RehearsalRunRecord> = {}): RehearsalRunRecord => ({
  seed, outcome, failedRequests: 0, totalRequests: 1000, durationMs: 60_000, realDurationMs: 500, ...extra,
});

describe('summarizeRuns', () => {
  test('counts a rolled-back run of a scenario expected to release as a false rollback, never as a missed regression', () => {
    const runs = summarizeRuns('healthy-release', 'RELEASED', [record(1, 'RELEASED'), record(2, 'ROLLED_BACK'), record(3, 'RELEASED')]);
    expect(runs).toMatchObject({ runs: 3, firstSeed: 1, outcomes: { RELEASED: 2, ROLLED_BACK: 1 }, asExpected: 2, falseRollbacks: 1, missedRegressions: 0 });
  });

  test('counts a released run of a scenario expected to roll back as a missed regression', () => {
    const runs = summarizeRuns('bad', 'ROLLED_BACK', [record(4, 'RELEASED'), record(5, 'ROLLED_BACK', { timeToDetectMs: 90_000 })]);
    expect(runs).toMatchObject({ asExpected: 1, falseRollbacks: 0, missedRegressions: 1, firstSeed: 4 });
    expect(runs.timeToDetectMs).toEqual({ count: 1, p50: 90_000, p95: 90_000, min: 90_000, max: 90_000, mean: 90_000 });
  });

  test('p50 and p95 are nearest-rank percentiles over the runs that have the value', () => {
    const records = Array.from({ length: 20 }, (_, i) => record(i + 1, 'ROLLED_BACK', { failedRequests: (i + 1) * 10, ...(i < 10 ? { timeToDetectMs: (i + 1) * 1000 } : {}) }));
    const runs = summarizeRuns('bad', 'ROLLED_BACK', records);
    expect(runs.failedRequests).toMatchObject({ count: 20, p50: 100, p95: 190, min: 10, max: 200 });
    expect(runs.timeToDetectMs).toMatchObject({ count: 10, p50: 5000, p95: 10_000 });
    expect(nearestRank([1, 2, 3], 0)).toBe(1);
    expect(nearestRank([1, 2, 3], 100)).toBe(3);
  });
});

describe('rehearseRuns on the example app', () => {
  let stacks: StackTemplate[];
  beforeAll(() => {
    stacks = synthEverJust();
  });

  test('refuses a number of runs that is not a whole number of at least 1, and a seed that is not a whole number', async () => {
    await expect(rehearseRuns(stacks, { runs: 0 })).rejects.toThrow(/rehearseRuns: runs must be a whole number from 1 to 100000, got 0/);
    await expect(rehearseRuns(stacks, { runs: 2, seed: 0.5 })).rejects.toThrow(/rehearseRuns: seed must be a whole number, got 0.5/);
    await expect(rehearse(stacks, { seed: 1.5 })).rejects.toThrow(/rehearse: options.seed must be a whole number \(or absent for the deterministic traffic model\), got 1.5/);
  });

  test('runs a bad release once per seed: every run rolls back, the blast radius varies with the noise, each run is reproducible', async () => {
    const seen: number[] = [];
    const runs = await rehearseRuns(stacks, { scenario: 'error-rate-regression', runs: 3, seed: 5, onRun: (r) => seen.push(r.seed) });
    expect(seen).toEqual([5, 6, 7]);
    expect(runs).toMatchObject({ scenario: 'error-rate-regression', expected: 'ROLLED_BACK', runs: 3, firstSeed: 5, outcomes: { ROLLED_BACK: 3 }, missedRegressions: 0 });
    expect(runs.results.every((r) => r.trigger === 'judge-fail')).toBe(true);
    expect(runs.timeToDetectMs.count).toBe(3);
    expect(new Set(runs.results.map((r) => r.failedRequests)).size).toBeGreaterThan(1);
    // Run 2 of the series is rehearse() with seed 6, to the request.
    const again = await rehearse(stacks, { scenario: 'error-rate-regression', seed: 6 });
    expect(again.summary.failedRequests).toBe(runs.results[1].failedRequests);
    expect(again.summary.detectedAtMs).toBe(runs.results[1].detectedAtMs);
    // Without a seed, the deterministic model: the same as ever.
    const deterministic = await rehearse(stacks, { scenario: 'error-rate-regression' });
    const again2 = await rehearse(stacks, { scenario: 'error-rate-regression' });
    expect(deterministic.summary.failedRequests).toBe(again2.summary.failedRequests);
  });
});
