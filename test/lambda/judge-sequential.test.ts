import { GetMetricDataInput } from '@aws-sdk/client-cloudwatch';
import { AnalysisConfig, BakeProgress, Color, JudgeConfig, JudgeResult, StepEvidence } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/judge/judge-handler';
import { stepSpan } from '../../lambda/judge/judge';
import { MinuteCounts, StepData } from '../../lambda/judge/sequential-analysis';
import { decide, Observation } from '../../lambda/judge/verdict';
import { MetricQuery } from '../../rehearsal/fakes';
import { ANALYSIS } from './support/analysis-config';
import { FakeAws, installAwsFakes } from './support/aws';
import { NOW_MS, setConfig } from './support/env';

const SEQUENTIAL: AnalysisConfig = {
  ...ANALYSIS,
  windowSeconds: 60,
  method: 'SEQUENTIAL',
  sequential: { falseRollbackRate: 0.01, alphaPerTest: 0.0005, steps: 5, testsPerStep: 4, latencyMinRequests: 1000 },
};
const CONFIG: JudgeConfig = { alarmsByColor: { blue: [], green: [] }, sharedAlarms: [], analysis: SEQUENTIAL, metricDelaySeconds: 120, baselineHoldSeconds: 900 };
const MINUTE = 60_000;
/** The step's data: whole minutes from STEP_START. */
const STEP_START = NOW_MS - 10 * MINUTE;

function minutes(count: number, green: { requests: number; errors: number }, blue: { requests: number; errors: number }, from = STEP_START): MinuteCounts[] {
  return Array.from({ length: count }, (_, i) => ({ startMs: from + i * MINUTE, counts: { green, blue } }));
}

const LATENCY_OK = { p985Ms: 150, p99Ms: 180, p995Ms: 210 };

function observe(list: MinuteCounts[], latency: Record<Color, typeof LATENCY_OK> = { blue: LATENCY_OK, green: LATENCY_OK }, extra: Partial<Observation> = {}): Observation {
  const endMs = list.length > 0 ? list[list.length - 1].startMs + MINUTE : STEP_START + MINUTE;
  const step: StepData = { startMs: STEP_START, endMs, minutes: list, latency };
  return { nowMs: endMs + 120_000, alarms: [], failingAlarms: [], stableAlarms: [], notYet: null, step, ...extra };
}

function bake(passes: number, required: number, evidence?: StepEvidence): BakeProgress {
  return { passes, required, startedAt: new Date(STEP_START).toISOString(), ...(evidence ? { evidence } : {}) };
}

const judgeOnce = (b: BakeProgress, seen: Observation, config: JudgeConfig = CONFIG): JudgeResult =>
  decide(config, { targetColor: 'green', stableColor: 'blue', bake: b }, seen);

describe('the sequential judge (decide)', () => {
  test('without traffic read before the step, the step\'s own minutes enter the overdispersion estimate once, not twice', () => {
    const result = judgeOnce(bake(0, 5), observe(minutes(4, { requests: 600, errors: 3 }, { requests: 59_400, errors: 300 })));
    expect(result.bake.evidence?.dispersion?.minutes).toBe(4);
  });

  test('one 5xx in 60 requests at a 0.5% baseline is no evidence: the step bakes on and says so with the numbers', () => {
    const result = judgeOnce(bake(0, 5), observe(minutes(1, { requests: 60, errors: 1 }, { requests: 5940, errors: 30 })));
    expect(result.verdict).toBe('WAIT');
    expect(result.bake.passes).toBe(1);
    expect(result.reasons[0]).toMatch(/^5xx this step: green 1\.67% \(1 of 60\) against blue 0\.51% \(30 of 5940\); likelihood ratio for "green fails 2x as often or more" [\d.]+, decides at 2,000\.$/);
    expect(result.reasons.at(-1)).toBe('Healthy so far: bake 1 of 5; judging again after the next interval.');
  });

  test('a strong regression fails at once, with the likelihood ratio against the threshold and what happens next', () => {
    const result = judgeOnce(bake(0, 5), observe(minutes(1, { requests: 600, errors: 120 }, { requests: 59400, errors: 59 })));
    expect(result.verdict).toBe('FAIL');
    expect(result.reasons[0]).toMatch(/^green's 5xx rate is higher than blue's: 5xx this step: green 20% \(120 of 600\) against blue 0\.1% \(59 of 59400\); likelihood ratio .* 1e\d+, decides at 2,000\.$/);
    expect(result.reasons.at(-1)).toBe('Rolling back to blue.');
  });

  test('evidence accumulates minute by minute across judgements, each minute counted once', () => {
    const fresh = { requests: 600, errors: 3 };
    const stable = { requests: 59400, errors: 59 };
    const first = judgeOnce(bake(0, 5), observe(minutes(1, fresh, stable)));
    expect(first.bake.evidence!.throughMs).toBe(STEP_START + MINUTE);
    const llr1 = first.bake.evidence!.errorLlrs!;
    // The same minute read again adds nothing; a new minute adds its own evidence.
    const again = judgeOnce(first.bake, observe(minutes(1, fresh, stable)));
    expect(again.bake.evidence!.errorLlrs).toEqual(llr1);
    expect(again.reasons[0]).toMatch(/No whole minute of new data/);
    expect(again.bake.passes).toBe(1);
    const second = judgeOnce(first.bake, observe(minutes(2, fresh, stable)));
    expect(second.bake.evidence!.errorLlrs!.map((l, i) => l - llr1[i])).toEqual(llr1.map((l) => expect.closeTo(l, 9)));
    expect(second.bake.passes).toBe(2);
    // Three times the stable rate for a while: the ratio grows until it decides.
    let b = bake(0, 20);
    let verdict = 'WAIT';
    let n = 0;
    while (verdict === 'WAIT' && n < 20) {
      n++;
      const r = judgeOnce(b, observe(minutes(n, { requests: 600, errors: 2 }, { requests: 59400, errors: 59 })));
      verdict = r.verdict;
      b = r.bake;
    }
    expect(verdict).toBe('FAIL');
    expect(n).toBeGreaterThan(1);
  });

  /** Judges minute by minute, from the step's start, until a verdict other than WAIT (or `limit` judgements). */
  function judgeOnward(perMinute: (n: number) => MinuteCounts[], required: number, limit = 40): { result: JudgeResult; judgements: number } {
    let b = bake(0, required);
    for (let n = 1; ; n++) {
      const result = judgeOnce(b, observe(perMinute(n)));
      if (result.verdict !== 'WAIT' || n >= limit) return { result, judgements: n };
      b = result.bake;
    }
  }

  test('the bake done with the evidence ruling out the smallest regression is a PASS, and says what it ruled out', () => {
    const { result: healthy, judgements } = judgeOnward((n) => minutes(n, { requests: 60, errors: 0 }, { requests: 5940, errors: 6 }), 5);
    expect(healthy.verdict).toBe('PASS');
    expect(judgements).toBe(5);
    expect(healthy.reasons.join(' ')).toMatch(/5xx: the evidence rules out green at 2% or more \(2x the 1% limit; likelihood ratio 0\.0[0-9]+, at most 0\.1 clears\)/);
    expect(healthy.reasons.at(-1)).toBe('Bake done (5 of 5) and the evidence rules out the smallest regression: the step completes.');
    // At high traffic the comparison with the stable color clears it too.
    const { result: busy } = judgeOnward((n) => minutes(n, { requests: 6000, errors: 30 }, { requests: 54000, errors: 270 }), 5);
    expect(busy.verdict).toBe('PASS');
    expect(busy.reasons.join(' ')).toMatch(/5xx: the evidence rules out green failing 2x as often as blue or more \(likelihood ratio [0-9.e-]+, at most 0\.1 clears\)/);
  });

  test('a bake that ends with neither boundary reached is extended, judgement by judgement, then INCONCLUSIVE', () => {
    // 1 in 60 (1.67%) against 0.5%: not enough to fail, too much to rule out a 2x regression.
    const doubtful = (n: number) => minutes(n, { requests: 60, errors: 1 }, { requests: 5940, errors: 30 });
    const atBakeEnd = judgeOnce(bake(4, 5, { throughMs: STEP_START + 4 * MINUTE }), observe(doubtful(5)));
    expect(atBakeEnd.verdict).toBe('WAIT');
    expect(atBakeEnd.bake.passes).toBe(5);
    expect(atBakeEnd.reasons.at(-1)).toMatch(/^Bake done \(5 of 5\), but the evidence does not yet rule out the smallest regression \(5xx\): extending the bake, 1 of 10 more judgements\.$/);
    const { result, judgements } = judgeOnward(doubtful, 5);
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(judgements).toBe(15);
    expect(result.reasons.at(-1)).toMatch(/^The bake and its extension \(15 judgements\) ended with neither a regression found nor ruled out: the evidence does not yet rule out the smallest regression \(5xx\)\. The rollout's onInconclusive policy decides what happens next\.$/);
  });

  test('an extended bake passes as soon as the evidence rules out the smallest regression', () => {
    // 30 requests a minute at 0.1%: 5 minutes (150 requests, no 5xx) do not rule out 2% against the 1% limit; 8 do.
    const quiet = (n: number) => minutes(n, { requests: 30, errors: 0 }, { requests: 5970, errors: 6 });
    const { result, judgements } = judgeOnward(quiet, 5);
    expect(result.verdict).toBe('PASS');
    expect(judgements).toBeGreaterThan(5);
    expect(judgements).toBeLessThan(15);
  });

  test('too few requests for minRequests: extended like any bake, then INCONCLUSIVE, saying the policy decides', () => {
    const { result } = judgeOnward((n) => minutes(n, { requests: 3, errors: 0 }, { requests: 597, errors: 1 }), 5);
    expect(result.verdict).toBe('INCONCLUSIVE');
    expect(result.reasons.at(-1)).toMatch(/green served 45 request\(s\) in this step, and at least 50 are needed to clear it\. The rollout's onInconclusive policy decides/);
  });

  test('a silent minute counts toward the bake only once it is a minute older than the newest readable one (its data may be late), and is read again', () => {
    const list = [...minutes(1, { requests: 600, errors: 1 }, { requests: 59400, errors: 60 })];
    const seen = observe(list);
    const silentFor = (extra: number): Observation => ({ ...seen, nowMs: seen.nowMs + extra * MINUTE, step: { ...seen.step!, endMs: seen.step!.endMs + extra * MINUTE } });
    const newest = judgeOnce(bake(1, 5, { throughMs: STEP_START + MINUTE }), silentFor(1));
    expect(newest.verdict).toBe('WAIT');
    expect(newest.bake.passes).toBe(1);
    expect(newest.reasons[0]).toMatch(/No whole minute of new data/);
    const older = judgeOnce(bake(1, 5, { throughMs: STEP_START + MINUTE }), silentFor(2));
    expect(older.bake.passes).toBe(2);
    expect(older.bake.evidence!.throughMs).toBe(STEP_START + MINUTE);
  });

  test('a slower new color fails on p99 once it has served enough requests, not before', () => {
    const slow = { blue: LATENCY_OK, green: { p985Ms: 240, p99Ms: 288, p995Ms: 336 } };
    const few = judgeOnce(bake(0, 5), observe(minutes(1, { requests: 600, errors: 0 }, { requests: 59400, errors: 59 }), slow));
    expect(few.verdict).toBe('WAIT');
    expect(few.reasons.join(' ')).toMatch(/p99 latency: green has served 600 of the 1000 requests the p99 comparison needs/);
    const enough = judgeOnce(bake(0, 5), observe(minutes(2, { requests: 600, errors: 0 }, { requests: 59400, errors: 59 }), slow));
    expect(enough.verdict).toBe('FAIL');
    expect(enough.reasons[0]).toMatch(/^green is slower than blue: p99 latency this step: green 288 ms against blue 180 ms; likelihood ratio/);
  });

  test('the p99 comparison needs latencyMinRequests from the stable color too (the last step leaves it a few requests)', () => {
    // The 100% step: the minute of the shift left blue 150 requests, whose "p99" is little more than their maximum.
    const fastFew = { blue: { p985Ms: 120, p99Ms: 130, p995Ms: 140 }, green: LATENCY_OK };
    const result = judgeOnce(bake(0, 5), observe([...minutes(1, { requests: 1200, errors: 1 }, { requests: 150, errors: 0 }),
      ...minutes(2, { requests: 1350, errors: 1 }, { requests: 0, errors: 0 }, STEP_START + MINUTE)], fastFew));
    expect(result.verdict).toBe('WAIT');
    expect(result.reasons.join(' ')).toMatch(/p99 latency: blue has served 150 of the 1000 requests the p99 comparison needs/);
  });

  describe('the stable color\'s health', () => {
    const degradedBlue = { requests: 59400, errors: 2970 };
    test('a stable color above the 5xx limit holds the step: no pass, the hold starts, the reason names it', () => {
      const result = judgeOnce(bake(2, 5), observe(minutes(1, { requests: 600, errors: 1 }, degradedBlue)));
      expect(result).toMatchObject({ verdict: 'HOLD', bake: { passes: 2 }, baseline: { color: 'blue', degraded: true, holdStarted: true } });
      expect(result.reasons[0]).toMatch(/^blue \(the stable color\) is degraded: its 5xx rate is 5% this step, against the 1% limit \(CUSUM likelihood ratio .*, decides at 2,000\)\.$/);
    });

    test('the new color above the limit too does not roll back onto the degraded stable color: it holds and says why', () => {
      // One minute (the minutes after it carry no evidence while blue is degraded), green at 3%, blue at 5%.
      const result = judgeOnce(bake(2, 5), observe(minutes(1, { requests: 6000, errors: 180 }, { requests: 54000, errors: 2700 })));
      expect(result.verdict).toBe('HOLD');
      expect(result.reasons.join(' ')).toMatch(/green breaks the 5xx limit: .* So does the stable color: holding instead of rolling back to it\./);
    });

    test('a stable color that recovered is no longer degraded a few minutes later, however long its outage was', () => {
      const outage = minutes(15, { requests: 600, errors: 1 }, degradedBlue);
      const recovered = minutes(2, { requests: 600, errors: 1 }, { requests: 59400, errors: 59 }, STEP_START + 15 * MINUTE);
      const during = judgeOnce(bake(2, 5), observe(outage));
      expect(during).toMatchObject({ verdict: 'HOLD', baseline: { degraded: true } });
      const after = judgeOnce(bake(2, 5), observe([...outage, ...recovered]));
      expect(after.baseline).toMatchObject({ degraded: false });
      expect(after.verdict).not.toBe('HOLD');
    });

    test('a regression that starts as a baseline hold ends is still caught: the minutes of the hold carry no evidence', () => {
      // 15 minutes of a broken blue (5%) while green is fine: against that baseline green looks far better. Then blue
      // recovers (0.5%) and green regresses 9x (4.5%). Judged every minute, as the state machine does.
      const outage = minutes(15, { requests: 600, errors: 3 }, degradedBlue);
      const regressed = minutes(10, { requests: 600, errors: 27 }, { requests: 59400, errors: 297 }, STEP_START + 15 * MINUTE);
      const all = [...outage, ...regressed];
      let b = bake(0, 30);
      const verdicts: string[] = [];
      for (let n = 1; n <= all.length; n++) {
        const r = judgeOnce(b, observe(all.slice(0, n)));
        verdicts.push(r.verdict);
        if (r.verdict === 'FAIL') break;
        b = r.bake;
      }
      expect(verdicts.slice(0, 15).every((v) => v === 'HOLD')).toBe(true);
      // Caught within 5 minutes of the regression's data (a minute for the stable color to clear, then the evidence).
      expect(verdicts.at(-1)).toBe('FAIL');
      expect(verdicts.length).toBeLessThanOrEqual(15 + 5);
      // Nothing of the hold counted toward the bake either.
      expect(b.passes).toBeLessThanOrEqual(verdicts.length - 15);
    });

    test('minutes read while the stable color is degraded add nothing to the comparison and do not count', () => {
      const held = judgeOnce(bake(2, 5), observe(minutes(1, { requests: 600, errors: 1 }, degradedBlue)));
      expect(held.verdict).toBe('HOLD');
      // The next minute, still degraded: the comparison's evidence does not move.
      const next = judgeOnce(held.bake, observe(minutes(2, { requests: 600, errors: 1 }, degradedBlue)));
      expect(next.verdict).toBe('HOLD');
      expect(next.bake.evidence!.errorLlrs).toEqual(held.bake.evidence!.errorLlrs);
      expect(next.bake.passes).toBe(2);
    });

    test('after a hold the step is read from the hold\'s end: its latency percentiles start again', () => {
      const startedAt = new Date(STEP_START + 10_000).toISOString();
      const restartMs = STEP_START + 6 * MINUTE;
      expect(stepSpan(NOW_MS, { passes: 1, required: 5, startedAt }, 60, 120)).toEqual({ startMs: STEP_START, endMs: NOW_MS - 120_000 });
      expect(stepSpan(NOW_MS, { passes: 1, required: 5, startedAt, evidence: { restartMs } }, 60, 120)).toEqual({ startMs: restartMs, endMs: NOW_MS - 120_000 });
    });

    test('both colors above the p99 limit: the stable color is degraded too, so the step holds rather than rolling back to it', () => {
      const slow = { p985Ms: 2400, p99Ms: 3600, p995Ms: 4200 };
      const result = judgeOnce(bake(2, 5), observe(minutes(2, { requests: 6000, errors: 6 }, { requests: 54000, errors: 54 }), { blue: slow, green: slow }));
      expect(result.verdict).toBe('HOLD');
      expect(result.reasons[0]).toMatch(/^blue \(the stable color\) is degraded: its p99 3600 ms this step against the 500 ms limit/);
      expect(result.reasons.join(' ')).toMatch(/green breaks the p99 latency limit: .* So does the stable color: holding instead of rolling back to it\./);
    });

    test('a hold carried into the next step (promoted through) starts afresh there: its own event, its own timeout', () => {
      const carried = { heldSince: new Date(STEP_START - 20 * MINUTE).toISOString(), throughMs: STEP_START, errorLlrs: [0, 0, 0, 0, 0], baselineCusum: 7 };
      const result = judgeOnce(bake(0, 5, carried), observe(minutes(2, { requests: 600, errors: 1 }, degradedBlue)));
      expect(result).toMatchObject({ verdict: 'HOLD', baseline: { holdStarted: true } });
      expect(Date.parse(result.bake.evidence!.heldSince!)).toBeGreaterThan(STEP_START);
    });

    test('a new color worse than even the degraded stable color still fails', () => {
      const result = judgeOnce(bake(2, 5), observe(minutes(1, { requests: 600, errors: 150 }, degradedBlue)));
      expect(result.verdict).toBe('FAIL');
    });

    test('a new color above the limit while the stable color is healthy fails on the limit', () => {
      const result = judgeOnce(bake(2, 5), observe(minutes(3, { requests: 6000, errors: 180 }, { requests: 54000, errors: 54 })));
      expect(result.verdict).toBe('FAIL');
      expect(result.reasons).toContainEqual(expect.stringMatching(/^green breaks the 5xx limit: green's 5xx 3% of 18000 against the 1% limit/));
    });
  });
});

describe('the sequential judge (handler): what it reads', () => {
  let fakes: FakeAws;
  beforeEach(() => {
    fakes = installAwsFakes();
    fakes.aws.cloudwatch.addMetricSource({
      value: (q: MetricQuery) => {
        if (q.namespace !== 'AWS/ApplicationELB') return null;
        const green = q.dimensions.TargetGroup === ANALYSIS.targetGroups.green;
        if (q.metricName === 'RequestCount') return green ? 600 : 59400;
        if (q.metricName === 'HTTPCode_Target_5XX_Count') return green ? 1 : 59;
        if (q.metricName === 'TargetResponseTime') return ({ 'p98.5': 0.15, 'p99': 0.18, 'p99.5': 0.21 } as Record<string, number>)[q.statistic] ?? null;
        return null;
      },
    });
  });
  afterEach(() => fakes.restore());

  test('per-minute counts and the percentiles over the whole step, from the minute of the shift to the last whole minute CloudWatch has', async () => {
    setConfig(CONFIG);
    const startedAt = new Date(NOW_MS - 330_000).toISOString();
    const result = await handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes: 0, required: 5, startedAt } }) as JudgeResult;
    const input = fakes.aws.calls.find((c) => c.command === 'GetMetricData')!.input as GetMetricDataInput;
    // The shift was 5.5 min ago: data from its minute (6 min ago) to the last minute that ended 2 min ago.
    expect({ start: input.StartTime, end: input.EndTime }).toEqual({ start: new Date(NOW_MS - 360_000), end: new Date(NOW_MS - 120_000) });
    const green = input.MetricDataQueries!.filter((q) => q.Id!.startsWith('green'));
    expect(green.map((q) => [q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual([
      ['RequestCount', 'Sum', 60],
      ['HTTPCode_Target_5XX_Count', 'Sum', 60],
      ['TargetResponseTime', 'p98.5', 240],
      ['TargetResponseTime', 'p99', 240],
      ['TargetResponseTime', 'p99.5', 240],
      ['TargetResponseTime', 'p45', 240],
      ['TargetResponseTime', 'p50', 240],
      ['TargetResponseTime', 'p55', 240],
    ]);
    expect(result).toMatchObject({ verdict: 'WAIT', bake: { passes: 1, startedAt, evidence: { throughMs: NOW_MS - 120_000 } } });
    expect(result.metrics!.green).toEqual({ requests: 2400, errors: 4, errorRatePercent: 4 * 100 / 2400, latencyP99Ms: 180 });
  });

  test('until it knows the traffic, it also reads the five minutes before the shift, sizes the steps, and carries what it saw', async () => {
    setConfig(CONFIG);
    const startedAt = new Date(NOW_MS - 60_000).toISOString();
    const result = await handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', percent: 1, bake: { passes: 0, required: 5, startedAt } }) as JudgeResult;
    const reads = fakes.aws.calls.filter((c) => c.command === 'GetMetricData').map((c) => c.input as GetMetricDataInput);
    // A minute after the shift nothing of the step is readable (2 min metric delay): the five whole minutes before it are.
    expect(reads.map((r) => ({ start: r.StartTime, end: r.EndTime }))).toEqual([{ start: new Date(NOW_MS - 7 * MINUTE), end: new Date(NOW_MS - 2 * MINUTE) }]);
    // 60,000 requests a minute at 0.1% 5xx: a 1% step is large enough, and the observation travels on in the evidence.
    expect(result.bake.evidence).toMatchObject({ trafficPerMinute: 60_000, stableErrorRate: expect.closeTo(296 / 297_001, 9) });
    expect(result.verdict).toBe('WAIT');
    const again = await handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', percent: 1, bake: result.bake }) as JudgeResult;
    expect(again.bake.evidence).toMatchObject({ trafficPerMinute: 60_000 });
    expect(fakes.aws.calls.filter((c) => c.command === 'GetMetricData')).toHaveLength(reads.length);
  });

  test('its running evidence comes back in the next request and is validated', async () => {
    setConfig(CONFIG);
    const error = await handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes: 0, required: 5, evidence: { errorLlrs: 'many' } } }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/"errorLlrs" must be an array of at most 16 finite numbers; got "many"/);
  });

  test('the step\'s percent and the carried traffic and dispersion are validated too', async () => {
    setConfig(CONFIG);
    const judgeWith = (extra: object, evidence: object = {}) => handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', ...extra, bake: { passes: 0, required: 5, evidence } }).catch((e: Error) => e);
    expect(((await judgeWith({ percent: 150 })) as Error).message).toMatch(/"percent" must be a number from 0 to 100; got 150/);
    expect(((await judgeWith({}, { stableErrorRate: 2 })) as Error).message).toMatch(/"stableErrorRate" must be a number from 0 to 1; got 2/);
    const sums = { minutes: 2, requests: 1200, errors: 6, errorsSquared: 20, cross: 3600, requestsSquared: 720_000 };
    expect(((await judgeWith({}, { dispersion: { ...sums, cross: -1 } })) as Error).message).toMatch(/"cross" must be a number >= 0; got -1/);
    expect(((await judgeWith({}, { signLlrs: [1, 'x'] })) as Error).message).toMatch(/"signLlrs" must be an array of at most 16 finite numbers/);
  });

  test('the sign test\'s evidence comes back to the analysis; an earlier judge\'s dispersion sums restart', async () => {
    setConfig(CONFIG);
    const evidence = { signLlrs: [50, 60, 70, 80], dispersion: { excess: 1, mu2: 2, noise: 3 } };
    const result = await handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes: 0, required: 5, evidence } }) as JudgeResult;
    // Carried, then this judgement's minutes added: a minute moves a bet's sum by at most ln(1 ± 0.95), so a sum
    // started afresh would be far below the 50-80 carried in.
    result.bake.evidence!.signLlrs!.forEach((l, i) => expect(Math.abs(l - evidence.signLlrs[i])).toBeLessThan(20));
    expect(result.bake.evidence!.signLlrs).toHaveLength(4);
    expect(result.bake.evidence!.dispersion).not.toHaveProperty('excess');
  });
});
