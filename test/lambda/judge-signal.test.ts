import { GetMetricDataInput } from '@aws-sdk/client-cloudwatch';
import { AnalysisConfig, BakeProgress, Color, JudgeConfig, JudgeResult } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/judge/judge-handler';
import { albWaitSeconds } from '../../lambda/judge/judge';
import { planSignalRead } from '../../lambda/judge/signal-read';
import { MetricQuery } from '../../rehearsal/fakes';
import { ANALYSIS } from './support/analysis-config';
import { FakeAws, installAwsFakes } from './support/aws';
import { NOW_MS, setConfig } from './support/env';

/**
 * The sequential judge with a release signal (ProgressiveRollout.highResolutionSignal): it reads the application's
 * own Requests / Errors5xx per Service and Color at a 10-second period, against the FakeCloudWatch (which answers
 * GetMetricData per CloudWatch's API Reference: sub-minute periods, StartTime rounding, the 3-hour retention of
 * sub-minute data), and falls back to the ALB's minutes when the application emits nothing for a color.
 */

const SIGNAL = { namespace: 'ZeroDowntime/Release', service: 'web', periodSeconds: 10, delaySeconds: 20, judgeIntervalSeconds: 30 };
const SEQUENTIAL: AnalysisConfig = {
  ...ANALYSIS,
  windowSeconds: 60,
  method: 'SEQUENTIAL',
  sequential: { falseRollbackRate: 0.01, alphaPerTest: 0.0005, steps: 5, testsPerStep: 2, rolloutTests: 2, latencyMinRequests: 1000 },
  signal: SIGNAL,
};
const CONFIG: JudgeConfig = { alarmsByColor: { blue: [], green: [] }, sharedAlarms: [], analysis: SEQUENTIAL, metricDelaySeconds: 120, baselineHoldSeconds: 900 };
const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Per color, what the application writes per 10-second period (absent: nothing at all) and the ALB per minute. */
interface ColorTraffic { requests: number; errors: number }
let signal: Partial<Record<Color, ColorTraffic>>;
let alb: Partial<Record<Color, ColorTraffic>>;
let fakes: FakeAws;

function signalSource(query: MetricQuery): number | null {
  if (query.namespace !== SIGNAL.namespace || query.dimensions.Service !== SIGNAL.service) return null;
  const t = signal[query.dimensions.Color as Color];
  if (!t) return null;
  const periods = query.periodSeconds / SIGNAL.periodSeconds;
  if (query.metricName === 'Requests') return t.requests * periods;
  if (query.metricName === 'Errors5xx') return t.errors * periods;
  if (query.metricName === 'Latency') return query.statistic === 'p99' ? 180 : query.statistic === 'p98.5' ? 150 : 210;
  return null;
}

function albSource(query: MetricQuery): number | null {
  if (query.namespace !== 'AWS/ApplicationELB') return null;
  const color = (Object.keys(ANALYSIS.targetGroups) as Color[]).find((c) => ANALYSIS.targetGroups[c] === query.dimensions.TargetGroup);
  const t = color ? alb[color] : undefined;
  if (!t) return null;
  const minutes = query.periodSeconds / 60;
  if (query.metricName === 'RequestCount') return t.requests * minutes;
  if (query.metricName === 'HTTPCode_Target_5XX_Count') return t.errors * minutes;
  if (query.metricName === 'TargetResponseTime') return 0.18;
  return null;
}

function reads(): GetMetricDataInput[] {
  return fakes.aws.calls.filter((c) => c.service === 'cloudwatch' && c.command === 'GetMetricData').map((c) => c.input as GetMetricDataInput);
}
const namespacesRead = () => [...new Set(reads().flatMap((r) => (r.MetricDataQueries ?? []).map((q) => q.MetricStat?.Metric?.Namespace)))];

function bake(startedAt: number, passes = 0, required = 10): BakeProgress {
  return { passes, required, startedAt: new Date(startedAt).toISOString(), evidence: {} };
}
const judge = (b: BakeProgress) => handler({ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: b }) as Promise<JudgeResult>;

beforeEach(() => {
  fakes = installAwsFakes();
  signal = {};
  alb = {};
  fakes.aws.cloudwatch.addMetricSource({ value: signalSource });
  fakes.aws.cloudwatch.addMetricSource({ value: albSource });
  setConfig(CONFIG);
});
afterEach(() => fakes.restore());

describe('Judge with a release signal', () => {
  test('reads the signal in 10-second periods that ended the signal\'s delay ago, from the period of the shift, not the ALB\'s minutes', async () => {
    signal = { green: { requests: 10, errors: 0 }, blue: { requests: 1000, errors: 1 } };
    alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
    const result = await judge(bake(NOW_MS - 2 * MINUTE + 5 * SECOND));
    expect(result.metricSource).toBe('SIGNAL');
    const [counts] = reads();
    expect(counts.MetricDataQueries).toContainEqual(expect.objectContaining({
      Id: 'green_requests',
      MetricStat: { Metric: { Namespace: 'ZeroDowntime/Release', MetricName: 'Requests', Dimensions: [{ Name: 'Service', Value: 'web' }, { Name: 'Color', Value: 'green' }] }, Period: 10, Stat: 'Sum' },
    }));
    // The shift at 09:58:05: from its period (09:58:00) to the last one that ended 20 s ago (09:59:40): 10 periods.
    expect(counts.StartTime).toEqual(new Date(NOW_MS - 2 * MINUTE));
    expect(counts.EndTime).toEqual(new Date(NOW_MS - 20 * SECOND));
    expect(result.metrics!.green).toMatchObject({ requests: 100, errors: 0 });
    expect(result.metrics!.blue).toMatchObject({ requests: 10_000, errors: 10 });
    expect(namespacesRead()).toEqual(['ZeroDowntime/Release']);
    expect(result.verdict).toBe('WAIT');
    // A judgement counts the new data it read, in 30-second judge intervals: 100 s of it, 3.
    expect(result.bake.passes).toBe(3);
    // The next judgement in one judge interval.
    expect(result.bake.waitSeconds).toBe(30);
  });

  test('fails a regression seconds after the shift, on the signal alone', async () => {
    signal = { green: { requests: 10, errors: 2 }, blue: { requests: 1000, errors: 1 } };
    const result = await judge(bake(NOW_MS - 40 * SECOND));
    expect(result).toMatchObject({ verdict: 'FAIL', metricSource: 'SIGNAL' });
    expect(result.reasons.join(' ')).toMatch(/green's 5xx rate is higher than blue's: 5xx this step: green 20% \(4 of 20\)/);
  });

  test('waits while the signal has no whole period after the shift yet, naming the delay', async () => {
    signal = { green: { requests: 10, errors: 0 }, blue: { requests: 1000, errors: 1 } };
    const result = await judge(bake(NOW_MS - 15 * SECOND));
    expect(result.verdict).toBe('WAIT');
    expect(result.bake.passes).toBe(0);
    expect(result.reasons[0]).toMatch(/release signal has no whole period after it yet \(20 s signal delay/);
  });

  test('falls back to the ALB\'s minutes, saying so, when the new color serves requests on the ALB but writes no datapoint in the periods that cover them', async () => {
    signal = { blue: { requests: 1000, errors: 1 } };
    alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
    const result = await judge(bake(NOW_MS - 5 * MINUTE));
    expect(result.metricSource).toBe('ALB');
    expect(result.reasons[0]).toMatch(/release signal \(ZeroDowntime\/Release, Service web\) has no datapoint of green in this step while the ALB shows green serving requests: this judgement reads the ALB's one-minute metrics instead \(120 s metric delay\)/);
    expect(namespacesRead()).toEqual(['ZeroDowntime/Release', 'AWS/ApplicationELB']);
    // Its whole minutes (09:55 to 09:58) count, and a minute of ALB data stands for two 30-second judge intervals.
    expect(result.metrics!.green).toMatchObject({ requests: 180 });
    expect(result.bake.passes).toBe(6);
    // On ALB minutes the next judgement waits for the next whole minute: 09:58 ends 120 s before 10:00:00, so 09:59
    // is readable at 10:01:00.
    expect(result.bake.waitSeconds).toBe(60);
    expect(albWaitSeconds(30, 120, NOW_MS + 45 * SECOND)).toBe(15);
    expect(albWaitSeconds(120, 120, NOW_MS + 45 * SECOND)).toBe(120);
  });

  test('neither color in the signal (an application that emits nothing): the ALB\'s minutes, at once', async () => {
    alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
    const result = await judge(bake(NOW_MS - 5 * MINUTE));
    expect(result.metricSource).toBe('ALB');
    expect(result.reasons.join(' ')).toMatch(/has no datapoint of either color in this step/);
  });

  test('an idle new color (no datapoint in the signal, none on the ALB either) is judged from the signal', async () => {
    signal = { blue: { requests: 1000, errors: 1 } };
    alb = { blue: { requests: 6000, errors: 6 } };
    const result = await judge(bake(NOW_MS - 5 * MINUTE));
    expect(result.metricSource).toBe('SIGNAL');
    expect(result.reasons.join(' ')).not.toMatch(/no datapoint/);
  });

  test('within the grace, a silent new color is not yet called uninstrumented', async () => {
    signal = { blue: { requests: 1000, errors: 1 } };
    alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
    // The step's signal spans 30 s (09:59:10 to 09:59:40), and no ALB minute after the shift is readable yet.
    const result = await judge(bake(NOW_MS - 50 * SECOND));
    expect(result.metricSource).toBe('SIGNAL');
  });

  test('the grace is derived, not fixed: a silent color is uninstrumented only once the signal\'s periods read cover a whole ALB minute in which it served requests', async () => {
    // ALB minutes readable at once (metricDelay 0): 09:59 is on the ALB at 10:00:00 with green's requests, while the
    // signal's periods read end at 09:59:40 (its 20 s delay): the requests may sit in the 20 s not read yet.
    setConfig({ ...CONFIG, metricDelaySeconds: 0 });
    signal = { blue: { requests: 1000, errors: 1 } };
    alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
    // The step began at 09:58:20: 80 s of the signal read (a fixed 60 s grace called green uninstrumented here).
    const shift = NOW_MS - 100 * SECOND;
    const early = await judge(bake(shift));
    expect(early.metricSource).toBe('SIGNAL');
    // 30 s later the periods read end at 10:00:10 and hold the whole of 09:59: green wrote nothing for it.
    fakes.clock.advance(30 * SECOND);
    const later = await judge(bake(shift));
    expect(later.metricSource).toBe('ALB');
    expect(later.reasons.join(' ')).toMatch(/no datapoint of green in this step while the ALB shows green serving requests/);
  });

  test('a step longer than CloudWatch keeps sub-minute data (3 hours): counts from its last hours, latency over its whole minutes', async () => {
    signal = { green: { requests: 10, errors: 0 }, blue: { requests: 1000, errors: 1 } };
    const started = NOW_MS - 4 * 60 * MINUTE;
    const result = await judge(bake(started));
    const [counts, latency] = reads();
    expect(counts.StartTime!.getTime()).toBeGreaterThanOrEqual(NOW_MS - 3 * 60 * MINUTE);
    expect(latency.MetricDataQueries![0].MetricStat!.Period! % 60).toBe(0);
    expect(latency.StartTime).toEqual(new Date(started));
    expect(result.metrics!.green.requests).toBeGreaterThan(0);
    expect(result.metrics!.green.latencyP99Ms).toBe(180);
  });

  test('sizes the steps from the signal\'s traffic before the shift (its periods summed into minutes), the ALB\'s when the application emits nothing', async () => {
    signal = { green: { requests: 10, errors: 0 }, blue: { requests: 1000, errors: 1 } };
    alb = { green: { requests: 30, errors: 0 }, blue: { requests: 3000, errors: 3 } };
    const fromSignal = await judge(bake(NOW_MS - 2 * MINUTE + 5 * SECOND));
    expect(fromSignal.bake.evidence?.trafficPerMinute).toBe(6060);
    expect(namespacesRead()).toEqual(['ZeroDowntime/Release']);
    signal = {};
    const fromAlb = await judge(bake(NOW_MS - 2 * MINUTE + 5 * SECOND));
    expect(fromAlb.bake.evidence?.trafficPerMinute).toBe(3030);
    // The reads of the minutes before the shift ask for counts only: the sizing needs no percentile.
    const beforeShift = reads().filter((r) => r.EndTime!.getTime() <= NOW_MS - 2 * MINUTE);
    expect(beforeShift.length).toBeGreaterThanOrEqual(2);
    const metricNames = beforeShift.flatMap((r) => (r.MetricDataQueries ?? []).map((q) => q.MetricStat?.Metric?.MetricName));
    expect(metricNames).not.toContain('Latency');
    expect(metricNames).not.toContain('TargetResponseTime');
  });

  describe('under THRESHOLDS (the fixed-threshold judge)', () => {
    const THRESHOLDS: AnalysisConfig = { ...ANALYSIS, windowSeconds: 60, signal: { ...SIGNAL, judgeIntervalSeconds: 60 } };
    beforeEach(() => setConfig({ ...CONFIG, analysis: THRESHOLDS }));

    test('reads the signal over the judge interval\'s whole minute that ended the signal\'s delay ago and fails a regression on it, not on the ALB\'s', async () => {
      signal = { green: { requests: 10, errors: 2 }, blue: { requests: 1000, errors: 1 } };
      alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
      const result = await judge(bake(NOW_MS - 3 * MINUTE));
      expect(result).toMatchObject({ verdict: 'FAIL', metricSource: 'SIGNAL' });
      // 09:58 (ended 09:59:00, 20 s delay from 10:00:00 floored to the minute): six periods of the signal.
      const [read] = reads();
      expect(read).toMatchObject({ StartTime: new Date(NOW_MS - 2 * MINUTE), EndTime: new Date(NOW_MS - MINUTE) });
      expect(read.MetricDataQueries).toContainEqual(expect.objectContaining({
        Id: 'green_latency', MetricStat: { Metric: { Namespace: 'ZeroDowntime/Release', MetricName: 'Latency', Dimensions: [{ Name: 'Service', Value: 'web' }, { Name: 'Color', Value: 'green' }] }, Period: 60, Stat: 'p99' },
      }));
      expect(namespacesRead()).toEqual(['ZeroDowntime/Release']);
      expect(result.metrics!.green).toEqual({ requests: 60, errors: 12, errorRatePercent: 20, latencyP99Ms: 180 });
      // The fixed thresholds judge on whole minutes at the plan's interval: the judge does not set the wait.
      expect(result.bake.waitSeconds).toBeUndefined();
    });

    test('a minute of the signal that began before the shift does not count toward the bake, naming the signal\'s delay', async () => {
      signal = { green: { requests: 10, errors: 0 }, blue: { requests: 1000, errors: 1 } };
      const result = await judge(bake(NOW_MS - 90 * SECOND));
      expect(result).toMatchObject({ verdict: 'WAIT', metricSource: 'SIGNAL' });
      expect(result.reasons[0]).toMatch(/\(20 s metric delay\) run from .*09:58:00.000Z to .*09:59:00.000Z; this judgement does not count/);
      expect(result.bake.passes).toBe(0);
    });

    test('an application that emits nothing: the ALB\'s window, said in the reasons', async () => {
      alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
      const result = await judge(bake(NOW_MS - 5 * MINUTE));
      expect(result.metricSource).toBe('ALB');
      expect(result.metrics!.green.requests).toBe(60);
      expect(result.reasons[0]).toMatch(/has no datapoint of either color in the minutes judged: this judgement reads the ALB's one-minute metrics instead \(120 s metric delay\)/);
    });

    test('a silent new color: the ALB\'s window while the ALB shows it serving in minutes the signal has none of it; an idle one stays on the signal', async () => {
      signal = { blue: { requests: 1000, errors: 1 } };
      alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
      const uninstrumented = await judge(bake(NOW_MS - 5 * MINUTE));
      expect(uninstrumented.metricSource).toBe('ALB');
      expect(uninstrumented.reasons.join(' ')).toMatch(/no datapoint of green in the minutes judged while the ALB shows green serving requests/);
      // The ALB's minute (09:57) read back on the signal: the minutes compared are the same.
      expect(reads().map((r) => r.StartTime!.getTime() - NOW_MS)).toEqual([-2 * MINUTE, -3 * MINUTE, -3 * MINUTE]);
      alb = { blue: { requests: 6000, errors: 6 } };
      const idle = await judge(bake(NOW_MS - 5 * MINUTE));
      expect(idle.metricSource).toBe('SIGNAL');
      // The ALB's minute began before the shift: it cannot tell yet.
      alb = { green: { requests: 60, errors: 0 }, blue: { requests: 6000, errors: 6 } };
      expect((await judge(bake(NOW_MS - 150 * SECOND))).metricSource).toBe('SIGNAL');
    });
  });

  test('the read plan: periods of the signal from the shift\'s, after a hold from its end, ending the delay ago', () => {
    const now = NOW_MS;
    expect(planSignalRead(SIGNAL, bake(now - 95 * SECOND), now)).toEqual({ step: { startMs: now - 100 * SECOND, endMs: now - 20 * SECOND }, notYet: null });
    expect(planSignalRead(SIGNAL, { ...bake(now - 95 * SECOND), evidence: { restartMs: now - 60 * SECOND } }, now).step).toEqual({ startMs: now - 60 * SECOND, endMs: now - 20 * SECOND });
    expect(planSignalRead(SIGNAL, bake(now - 25 * SECOND), now).notYet).toMatch(/began before it; its evidence counts/);
  });
});
