import { AnalysisConfig, JudgeConfig, sequentialBudget } from '../../lambda/shared/contracts';
import { planRead } from '../../lambda/judge/judge';
import { analyseSequential, formatRatio, MinuteCounts, StepData } from '../../lambda/judge/sequential-analysis';
import { addDispersion, comparisonInflation, extraVariance, NO_DISPERSION, SIGN_BETS, threshold } from '../../lambda/judge/sequential';
import { decisionMinutes, limitTestRequests, observeTraffic, sizeSteps } from '../../lambda/judge/sequential-sizing';
import { decide, Observation } from '../../lambda/judge/verdict';
import { ANALYSIS } from './support/analysis-config';
import { NOW_MS } from './support/env';

const SEQUENTIAL: AnalysisConfig = {
  ...ANALYSIS,
  windowSeconds: 60,
  minRequests: 50,
  maxErrorRatePercent: 1,
  errorRateBaselineFactor: 2,
  latencyBaselineFactor: 1.5,
  method: 'SEQUENTIAL',
  sequential: sequentialBudget(1, 5, 1000),
};
const CONFIG: JudgeConfig = { alarmsByColor: { blue: [], green: [] }, sharedAlarms: [], analysis: SEQUENTIAL, metricDelaySeconds: 120 };
const MINUTE = 60_000;
const STEP_START = NOW_MS - MINUTE;
/** A 5-minute bake: 12 minutes of data with the 10-minute extension and the 2-minute metric delay. */
const MINUTES = decisionMinutes(SEQUENTIAL, 5, 120);

function judgeFirst(percent: number, traffic: Observation['traffic'], segments: string[] = []) {
  const seen: Observation = { nowMs: NOW_MS, alarms: [], failingAlarms: [], stableAlarms: [], notYet: 'Waiting for this step\'s data.', ...(traffic ? { traffic } : {}) };
  return decide(CONFIG, { targetColor: 'green', stableColor: 'blue', percent, segments, bake: { passes: 0, required: 5, startedAt: new Date(STEP_START).toISOString(), evidence: {} } }, seen);
}

/** P(X <= k) for X ~ Poisson(m), term by term (m small here). */
function poissonCdfDirect(k: number, m: number): number {
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term *= m / i;
    sum += term;
  }
  return sum;
}

describe('step sizing: the smallest step that can clear within its bake', () => {
  test('the limit test\'s request count reaches the acceptance boundary with 99% probability (checked against the exact Poisson count)', () => {
    const n = limitTestRequests(0.001, 0.01, 2, Math.log(0.1));
    const a = Math.log(2);
    const c = Math.log(0.98 / 0.99);
    // The ratio after n requests with k errors is k·a + (n − k)·c: at most ln 0.1 while k <= kMax.
    const kMax = Math.floor((Math.log(0.1) - n * c) / (a - c));
    expect(n).toBeGreaterThan(200);
    expect(poissonCdfDirect(kMax, n * 0.001)).toBeGreaterThanOrEqual(0.99);
  });

  test('a 1% step of a 10 req/s service at 0.1% 5xx cannot clear within its bake: steps need about 5%', () => {
    const s = sizeSteps(SEQUENTIAL, { requestsPerMinute: 600, stableErrorRate: 0.001 }, MINUTES);
    expect(MINUTES).toBe(12);
    expect(s.minPercent).toBeGreaterThan(3);
    expect(s.minPercent).toBeLessThan(7);
    expect(s.explanation).toMatch(/^At the observed 600 requests a minute \(stable color 0\.1% 5xx\), a step needs at least [\d.]+% of the traffic to rule out the smallest regression within 12 minutes of data/);
  });

  test('more traffic needs smaller steps: a 1% step of a 1,000 req/s service clears', () => {
    const low = sizeSteps(SEQUENTIAL, { requestsPerMinute: 600, stableErrorRate: 0.005 }, MINUTES).minPercent!;
    const high = sizeSteps(SEQUENTIAL, { requestsPerMinute: 60_000, stableErrorRate: 0.005 }, MINUTES).minPercent!;
    expect(high).toBeLessThan(low);
    expect(high).toBeLessThanOrEqual(1);
  });

  test('at 6 requests a minute not even 100% clears within the bake', () => {
    const s = sizeSteps(SEQUENTIAL, { requestsPerMinute: 6, stableErrorRate: 0.001 }, MINUTES);
    expect(s.minPercent).toBeNull();
    expect(s.explanation).toMatch(/not even 100% of the traffic/);
  });

  test('with the release signal a bake interval is its judge interval: a 5-minute bake judged every 30 s has the same minutes of data', () => {
    const signal = { namespace: 'ZeroDowntime/Release', service: 'web', periodSeconds: 10, delaySeconds: 20, judgeIntervalSeconds: 30 };
    expect(decisionMinutes({ ...SEQUENTIAL, signal }, 10, 120)).toBe(MINUTES);
  });

  test('the traffic is both colors\' requests per minute, and the stable color\'s 5xx rate errs high ((errors + 1) / (requests + 1))', () => {
    const list: MinuteCounts[] = [0, 1].map((i) => ({ startMs: STEP_START + i * MINUTE, counts: { blue: { requests: 599, errors: 0 }, green: { requests: 1, errors: 1 } } }));
    expect(observeTraffic(list, STEP_START, STEP_START + 4 * MINUTE, 'blue')).toMatchObject({ requestsPerMinute: 300, stableErrorRate: 1 / 1199 });
    expect(observeTraffic([], STEP_START, STEP_START + MINUTE, 'blue')).toBeNull();
  });
});

describe('step sizing in the judge', () => {
  test('a step below the smallest weight that can clear passes at its first judgement, merged into the next, saying why', () => {
    const result = judgeFirst(1, { requestsPerMinute: 600, stableErrorRate: 0.001 });
    expect(result.verdict).toBe('PASS');
    expect(result.reasons.join(' ')).toMatch(/a step needs at least [\d.]+% of the traffic .* This step's 1% is below it: the step is merged into the next one/);
    // The observation is carried for the next steps (Start Bake carries the evidence).
    expect(result.bake.evidence).toMatchObject({ trafficPerMinute: 600, stableErrorRate: 0.001 });
  });

  test('a step at or above it bakes as before', () => {
    expect(judgeFirst(25, { requestsPerMinute: 600, stableErrorRate: 0.001 }).verdict).toBe('WAIT');
    expect(judgeFirst(1, undefined).verdict).toBe('WAIT');
  });

  test('a step with header segments (segmentFirst) is never merged: its traffic is more than its weight', () => {
    expect(judgeFirst(0, { requestsPerMinute: 600, stableErrorRate: 0.001 }, ['internal']).verdict).toBe('WAIT');
  });

  test('when not even 100% can clear, the first judgement is INCONCLUSIVE: the onInconclusive policy applies at once', () => {
    const result = judgeFirst(1, { requestsPerMinute: 6, stableErrorRate: 0.001 });
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.reasons.join(' ')).toMatch(/not even 100% .* Judging now rather than at the end of the bake: the rollout's onInconclusive policy decides/);
  });

  test('the judge reads the minutes before the shift until it knows the traffic, then never again', () => {
    const bake = { passes: 0, required: 5, startedAt: new Date(STEP_START + 20_000).toISOString(), evidence: {} };
    const plan = planRead(CONFIG, bake, NOW_MS + 20_000);
    // The readable minutes end 2 min (the metric delay) before now, and before the shift's minute.
    expect(plan.traffic).toEqual({ startMs: NOW_MS - 7 * MINUTE, endMs: NOW_MS - 2 * MINUTE });
    expect(planRead(CONFIG, { ...bake, evidence: { trafficPerMinute: 600, stableErrorRate: 0.001 } }, NOW_MS + 20_000).traffic).toBeUndefined();
  });
});

describe('the p50 comparison and the budget', () => {
  const step = (n: number, factor: number): StepData => {
    const lat = (f: number) => ({ p985Ms: 150 * f, p99Ms: 180 * f, p995Ms: 215 * f, p45Ms: 37.1 * f, p50Ms: 40 * f, p55Ms: 43.1 * f });
    return {
      startMs: STEP_START, endMs: STEP_START + MINUTE,
      minutes: [{ startMs: STEP_START, counts: { green: { requests: n, errors: 0 }, blue: { requests: 50 * n, errors: 0 } } }],
      latency: { green: lat(factor), blue: lat(1) },
    };
  };

  test('a ×1.6 slowdown fails on the p50 comparison with 200 requests, where the p99 comparison has not started (1,000 needed)', () => {
    const f = analyseSequential(SEQUENTIAL, step(200, 1.6), {}, 'green', 'blue', false);
    expect(f.relativeRegressions.join(' ')).toMatch(/green is slower than blue: p50 latency this step: green 64 ms against blue 40 ms/);
    // The comparison's share is split between p50 and p99 (each at half of alphaPerTest): invariant 8's union bound.
    expect(f.relativeRegressions.join(' ')).toMatch(new RegExp(`decides at ${formatRatio(threshold(SEQUENTIAL.sequential!.alphaPerTest / 2)).replace(/[.,]/g, '\\$&')}`));
    expect(f.summary.join(' ')).toMatch(/p99 latency: green has served 200 of the 1000 requests/);
  });

  test('equal medians rule out a 1.5x slowdown at the median; until they do, the step cannot clear', () => {
    expect(analyseSequential(SEQUENTIAL, step(200, 1), {}, 'green', 'blue', false).clearance.join(' ')).toMatch(/p50 latency: the evidence rules out green 1\.5x slower/);
    expect(analyseSequential(SEQUENTIAL, step(60, 1.25), {}, 'green', 'blue', false).notRuledOut).toContain('p50 latency');
  });

  test('at 100% (the stable color served only the shift\'s minute) an open p50 comparison does not hold the step', () => {
    const last: StepData = {
      ...step(60, 1.25),
      endMs: STEP_START + 2 * MINUTE,
      minutes: [
        { startMs: STEP_START, counts: { green: { requests: 300, errors: 0 }, blue: { requests: 60, errors: 0 } } },
        { startMs: STEP_START + MINUTE, counts: { green: { requests: 600, errors: 0 }, blue: { requests: 0, errors: 0 } } },
      ],
    };
    expect(analyseSequential(SEQUENTIAL, last, {}, 'green', 'blue', false).notRuledOut).not.toContain('p50 latency');
  });

  test('half the false-rollback budget goes to the two 5xx tests, the rest to the ten per-step latency tests', () => {
    const b = sequentialBudget(1, 5, 1000);
    expect(b.errorAlphaPerTest).toBeCloseTo(0.0025, 12);
    expect(b.alphaPerTest).toBeCloseTo(0.0005, 12);
    expect(2 * b.errorAlphaPerTest! + 5 * 2 * b.alphaPerTest).toBeCloseTo(0.01, 12);
  });
});

describe('overdispersion: 5xx that vary from minute to minute more than chance', () => {
  /** Sums of minutes of 600,000 requests each, the 5xx counts given. */
  const sums = (counts: number[], requests = 600_000) => counts.reduce((s, e) => addDispersion(s, e, requests), NO_DISPERSION);

  test('steady counts estimate no extra variance; counts varying by about 50% estimate about 0.25', () => {
    expect(extraVariance(sums([2950, 3040, 3010, 2980, 3055]))).toBe(0);
    expect(extraVariance(sums([1500, 4500, 1500, 4500, 1500, 4500, 1500, 4500]))).toBeCloseTo(0.25 * 8 / 7, 1);
    expect(extraVariance(sums([3000]))).toBe(0); // one minute says nothing about variation
  });

  test('the estimate measures the variation around the minutes\' own rate, not around a rate seen before', () => {
    // Steady at 0.8% (4,800 a minute): whatever rate the five minutes before the shift happened to show, no variation.
    expect(extraVariance(sums([4790, 4850, 4760, 4820, 4805, 4770]))).toBe(0);
    // Minutes of different sizes: the expected count of each is its own requests x the pooled rate.
    const mixed = [addDispersion(NO_DISPERSION, 30, 6_000), addDispersion(NO_DISPERSION, 2_970, 594_000)]
      .reduce((a, b) => ({
        minutes: a.minutes + b.minutes, requests: a.requests + b.requests, errors: a.errors + b.errors,
        errorsSquared: a.errorsSquared + b.errorsSquared, cross: a.cross + b.cross, requestsSquared: a.requestsSquared + b.requestsSquared,
      }));
    expect(extraVariance(mixed)).toBe(0);
  });

  test('a minute\'s comparison is tempered by its variance inflation, and carries no weight once the rate ratio has no finite variance', () => {
    expect(comparisonInflation(3000, 0.01, 0)).toBe(1);
    // Small tau²: about 1 + (t − 1)·w(1 − w)·2·tau².
    expect(comparisonInflation(3001, 0.01, 0.01)).toBeCloseTo(1 + 3000 * 0.0099 * 2 * 0.01, 0);
    expect(comparisonInflation(3000, 0.01, 0.5)).toBe(Infinity);
  });

  test('a bursty minute of the new color does not roll back when the stable color\'s own 5xx are that bursty', () => {
    const step: StepData = {
      startMs: STEP_START, endMs: STEP_START + MINUTE,
      minutes: [{ startMs: STEP_START, counts: { green: { requests: 6000, errors: 90 }, blue: { requests: 594_000, errors: 1500 } } }],
      latency: { green: { p985Ms: null, p99Ms: null, p995Ms: null }, blue: { p985Ms: null, p99Ms: null, p995Ms: null } },
    };
    const evidence = { trafficPerMinute: 600_000, stableErrorRate: 0.005 };
    expect(analyseSequential(SEQUENTIAL, step, evidence, 'green', 'blue', false).relativeRegressions).toHaveLength(1);
    const bursty = sums([300, 9000, 1500, 6000, 600, 4500], 594_000);
    const f = analyseSequential(SEQUENTIAL, step, { ...evidence, dispersion: bursty }, 'green', 'blue', false);
    expect(f.relativeRegressions).toEqual([]);
    expect(f.summary.join(' ')).toMatch(/5xx vary from minute to minute more than chance would \(blue's rate: coefficient of variation about [\d.]+\)/);
  });
});

describe('bursty 5xx: the sign test guards the comparison, and the sizing does not give up on a few bursty minutes', () => {
  const noLatency = { green: { p985Ms: null, p99Ms: null, p995Ms: null }, blue: { p985Ms: null, p99Ms: null, p995Ms: null } };
  const minute = (green: [number, number], blue: [number, number], at = STEP_START): MinuteCounts => ({
    startMs: at, counts: { green: { requests: green[0], errors: green[1] }, blue: { requests: blue[0], errors: blue[1] } },
  });
  const oneMinute = (green: [number, number], blue: [number, number]): StepData => ({
    startMs: STEP_START, endMs: STEP_START + MINUTE, minutes: [minute(green, blue)], latency: noLatency,
  });
  /** Carried evidence whose comparison has already crossed its threshold (ln 400 ≈ 6). */
  const crossed = { errorLlrs: [12, 12, 12, 12, 12], trafficPerMinute: 60_000, stableErrorRate: 0.005 };

  /** The stable color's minutes before: a rate varying by about 100% from minute to minute, or steady. */
  const bursty = [300, 9000, 1500, 6000, 600, 4500].reduce((d, e) => addDispersion(d, e, 594_000), NO_DISPERSION);
  const steady = [2950, 3040, 3010, 2980, 3055].reduce((d, e) => addDispersion(d, e, 594_000), NO_DISPERSION);

  test('while the stable color\'s 5xx are overdispersed the comparison rolls back only once the sign test agrees, and says which', () => {
    const step = oneMinute([600, 3], [59_400, 297]);
    const waiting = analyseSequential(SEQUENTIAL, step, { ...crossed, dispersion: bursty, signLlrs: [0, 0, 0, 0] }, 'green', 'blue', false);
    expect(waiting.relativeRegressions).toEqual([]);
    expect(waiting.summary.join(' ')).toMatch(/the 5xx are bursty, so a rollback also needs the per-minute sign test \(valid whatever the bursts/);
    expect(waiting.evidence.signLlrs).toHaveLength(SIGN_BETS.length);
    const agreed = analyseSequential(SEQUENTIAL, step, { ...crossed, dispersion: bursty, signLlrs: [9, 9, 9, 9] }, 'green', 'blue', false);
    expect(agreed.relativeRegressions.join(' ')).toMatch(/green's 5xx rate is higher than blue's: .*the 5xx are bursty, and the per-minute sign test/);
    // Poisson-like 5xx (no overdispersion seen): the comparison alone decides, as fast as before.
    expect(analyseSequential(SEQUENTIAL, step, { ...crossed, dispersion: steady, signLlrs: [0, 0, 0, 0] }, 'green', 'blue', false).relativeRegressions).toHaveLength(1);
  });

  test('a degraded stable color that no longer serves (the last step after its shift) does not hold the step', () => {
    const h = Math.log(1 / SEQUENTIAL.sequential!.alphaPerTest);
    const step: StepData = {
      startMs: STEP_START, endMs: STEP_START + 2 * MINUTE,
      minutes: [minute([300, 1], [300, 30]), minute([600, 2], [0, 0], STEP_START + MINUTE)],
      latency: noLatency,
    };
    // It was degraded going in (a burst in the shift's minute): the minute it still served is held, the next counts.
    const f = analyseSequential(SEQUENTIAL, step, { baselineCusum: h, trafficPerMinute: 600, stableErrorRate: 0.005 }, 'green', 'blue', true);
    expect(f.baselineDegraded).toBeNull();
    expect(f.newMinutes).toBe(1);
    expect(f.evidence.newRequests).toBe(600);
  });

  test('a stable rate above the limit seen in a few bursty minutes is not given up on at once; the same rate seen over many is', () => {
    // 600 requests a minute; the five minutes before the shift showed 1.2% 5xx (36 of 3,000), above the 1% limit.
    const few = [2, 15, 3, 12, 4].reduce((s, e) => addDispersion(s, e, 600), NO_DISPERSION);
    const seen = { requestsPerMinute: 600, stableErrorRate: 0.012, dispersion: few };
    expect(sizeSteps(SEQUENTIAL, seen, MINUTES).minPercent).not.toBeNull();
    // 1.2% over 3,000 minutes of steady counts: the rate is known; no step can rule out 2% against the 1% limit.
    const many = Array.from({ length: 3000 }, (_, i) => 7 + (i % 2)).reduce((s, e) => addDispersion(s, e, 600), NO_DISPERSION);
    expect(sizeSteps(SEQUENTIAL, { ...seen, dispersion: many }, MINUTES).minPercent).toBeNull();
  });

  test('with the release signal the sizing counts the signal\'s delay and period, on ALB minutes the ALB\'s', () => {
    const signal = { namespace: 'ZeroDowntime/Release', service: 'shop', periodSeconds: 10, delaySeconds: 20, judgeIntervalSeconds: 30 };
    const withSignal: AnalysisConfig = { ...SEQUENTIAL, signal };
    // 10 judgements of 30 s + 10 min extension = 15 min; less 20 s delay and a 10 s period: 14.5 min.
    expect(decisionMinutes(withSignal, 10, 120, true)).toBeCloseTo(14.5, 9);
    // Less the ALB's 2 min delay and a whole minute: 12 min.
    expect(decisionMinutes(withSignal, 10, 120, false)).toBeCloseTo(12, 9);
  });
});

describe('a new color at the limit: the limit test does not clear a step the comparison says is a regression', () => {
  const noLatency = { green: { p985Ms: null, p99Ms: null, p995Ms: null }, blue: { p985Ms: null, p99Ms: null, p995Ms: null } };
  const step: StepData = {
    startMs: STEP_START, endMs: STEP_START + MINUTE,
    minutes: [{ startMs: STEP_START, counts: { green: { requests: 600, errors: 3 }, blue: { requests: 59_400, errors: 297 } } }],
    latency: noLatency,
  };
  /** The limit test far below its acceptance boundary (it rules out 2% against the 1% limit). */
  const limitCleared = { limitLlrs: [-8, -30, -60, -90, -120], trafficPerMinute: 60_000, stableErrorRate: 0.005 };

  test('while the comparison favours a regression 20 to 1 or more the step bakes on, saying why', () => {
    // After this minute (green's rate equal to blue's) the mixture stands at about 32 to 1, below the 400 that fails.
    const f = analyseSequential(SEQUENTIAL, step, { ...limitCleared, errorLlrs: [6, 6, 6, 6, 6] }, 'green', 'blue', false);
    expect(f.notRuledOut).toContain('5xx');
    expect(f.clearance).toEqual([]);
    expect(f.summary.join(' ')).toMatch(/The limit test rules out 2% .* but the comparison with blue favours green failing 2x as often or more by 3[\d.]+ to 1 \(20 or more keeps the step from clearing on the limit\)/);
    expect(f.relativeRegressions).toEqual([]);
  });

  test('below 20 to 1 the limit test clears it as before', () => {
    const f = analyseSequential(SEQUENTIAL, step, { ...limitCleared, errorLlrs: [2, 2, 2, 2, 2] }, 'green', 'blue', false);
    expect(f.notRuledOut).not.toContain('5xx');
    expect(f.clearance.join(' ')).toMatch(/5xx: the evidence rules out green at 2% or more/);
  });
});
