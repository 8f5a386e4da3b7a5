import { AnalysisConfig, BakeProgress, JudgeConfig, JudgeResult, METRIC_PERIOD_SECONDS, MetricSourceName } from '../shared/contracts';
import { clock } from '../shared/clock';
import { log } from '../shared/log';
import { baselineAlarms, readAlarms, watchedAlarms } from './alarms';
import { DataWindow, dataWindow, readColorMetrics, readSignalStepData, readStepData } from './metrics';
import { MinuteCounts } from './sequential-analysis';
import { observeTraffic, TrafficObservation } from './sequential-sizing';
import { readSequential, readThresholds } from './signal-read';
import { decide, JudgeInput, Observation } from './verdict';

export type { JudgeInput } from './verdict';

/** Without analysis, a judgement's data is the last whole minute CloudWatch has (what the alarms evaluated last). */
const ALARMS_ONLY_WINDOW_SECONDS = METRIC_PERIOD_SECONDS;
const MS_PER_MINUTE = METRIC_PERIOD_SECONDS * 1000;

/**
 * Why the data a judgement can read is not yet the step's own (its window began before the step's traffic
 * shift, or CloudWatch has not caught up with the shift), or null when it is.
 */
export function notYetStepData(window: DataWindow, bake: BakeProgress, metricDelaySeconds: number): string | null {
  if (bake.startedAt === undefined) return null;
  const stepStartMs = Date.parse(bake.startedAt);
  if (window.startMs >= stepStartMs) return null;
  return `Waiting for this step's data: the step began at ${bake.startedAt}, and the whole minutes CloudWatch has`
    + ` (${metricDelaySeconds} s metric delay) run from ${new Date(window.startMs).toISOString()} to ${new Date(window.endMs).toISOString()};`
    + ' this judgement does not count toward the bake.';
}

/**
 * The span of a step's data the sequential judge reads: from the whole minute in which the step's shift happened
 * (or, for a bake without a start, one judge interval back) to the last whole minute CloudWatch has. The minute of
 * the shift is evidence (the counts compared are what each color served in it), but only a judgement whose newest
 * minute began after the shift counts toward the bake.
 */
export function stepSpan(nowMs: number, bake: BakeProgress, windowSeconds: number, metricDelaySeconds: number): DataWindow {
  const window = dataWindow(nowMs, windowSeconds, metricDelaySeconds);
  const startMs = bake.startedAt === undefined
    ? (bake.evidence?.throughMs !== undefined ? Math.min(bake.evidence.throughMs, window.startMs) : window.startMs)
    : Math.floor(Date.parse(bake.startedAt) / MS_PER_MINUTE) * MS_PER_MINUTE;
  // After a hold for a degraded baseline the step is read from the hold's end (sequential-analysis.ts zero weight).
  const restartMs = bake.evidence?.restartMs;
  return { startMs: restartMs !== undefined ? Math.max(startMs, Math.min(restartMs, window.endMs)) : startMs, endMs: window.endMs };
}

/** Why a sequential judgement does not count toward the bake (its newest minute began before the shift), or null. */
export function notYetOwnMinute(span: DataWindow, bake: BakeProgress, metricDelaySeconds: number): string | null {
  const newest = span.endMs - MS_PER_MINUTE;
  if (bake.startedAt === undefined || newest >= Date.parse(bake.startedAt)) return null;
  return `Waiting for this step's data: the step began at ${bake.startedAt}, and the newest whole minute CloudWatch has`
    + ` (${metricDelaySeconds} s metric delay) began at ${new Date(newest).toISOString()}, before it; its evidence counts, but this judgement does not count toward the bake.`;
}

/** The shortest span the sequential judge reads: one whole minute. */
export const MIN_SPAN_MS = MS_PER_MINUTE;

/**
 * What a judgement reads, decided from the clock and the bake alone (judge() reads it from CloudWatch; the benchmark
 * from its sampled traffic, through the same rules): a SEQUENTIAL step span, a THRESHOLDS (or alarms-only) window,
 * or nothing yet; and why the judgement does not count toward the bake, or null.
 */
export interface ReadPlan {
  /** SEQUENTIAL: the step's whole minutes to read (absent: nothing readable yet, see notYet). */
  readonly step?: DataWindow;
  /** THRESHOLDS and alarms only: the judge interval's window. */
  readonly window?: DataWindow;
  /**
   * SEQUENTIAL, once per rollout (the evidence has no traffic yet): the whole minutes before the step's shift whose
   * counts give the service's traffic, which sizes the steps (sequential-sizing.ts). Absent: known, or nothing to read.
   */
  readonly traffic?: DataWindow;
  readonly notYet: string | null;
}

/** How much of the traffic before a step the judge reads to size the steps: five minutes. */
export const TRAFFIC_WINDOW_SECONDS = 300;

/** The whole minutes before the step's shift (at most TRAFFIC_WINDOW_SECONDS) that CloudWatch has, or undefined. */
function trafficWindow(bake: BakeProgress, nowMs: number, delay: number): DataWindow | undefined {
  if (bake.evidence?.trafficPerMinute !== undefined || bake.startedAt === undefined) return undefined;
  const stepMinute = Math.floor(Date.parse(bake.startedAt) / MS_PER_MINUTE) * MS_PER_MINUTE;
  const readable = dataWindow(nowMs, TRAFFIC_WINDOW_SECONDS, delay);
  const endMs = Math.min(readable.endMs, stepMinute);
  const startMs = Math.max(readable.startMs, endMs - TRAFFIC_WINDOW_SECONDS * 1000);
  return endMs - startMs >= MS_PER_MINUTE ? { startMs, endMs } : undefined;
}

export function planRead(config: JudgeConfig, bake: BakeProgress, nowMs: number): ReadPlan {
  const delay = config.metricDelaySeconds ?? 0;
  const analysis = config.analysis;
  if (analysis && analysis.method === 'SEQUENTIAL') {
    const span = stepSpan(nowMs, bake, analysis.windowSeconds, delay);
    const traffic = trafficWindow(bake, nowMs, delay);
    const withTraffic = traffic ? { traffic } : {};
    if (span.endMs - span.startMs < MS_PER_MINUTE) {
      const stepStart = bake.startedAt ?? new Date(span.startMs).toISOString();
      return { ...withTraffic, notYet: `Waiting for this step's data: the step began at ${stepStart}, and CloudWatch has no whole minute after it yet (${delay} s metric delay; the last whole minute ends at ${new Date(span.endMs).toISOString()}); this judgement does not count toward the bake.` };
    }
    return { ...withTraffic, step: span, notYet: notYetOwnMinute(span, bake, delay) };
  }
  const window = dataWindow(nowMs, analysis?.windowSeconds ?? ALARMS_ONLY_WINDOW_SECONDS, delay);
  return { window, notYet: notYetStepData(window, bake, delay) };
}

/**
 * How long a judge that reads a release signal, but fell back to ALB minutes, waits for its next judgement: a judge
 * interval of a minute or more as set; a shorter one until the next whole minute of ALB data is readable (it ends
 * `metricDelaySeconds` before the judgement), so that every judgement on ALB minutes has a new one and none is later
 * than that minute.
 */
export function albWaitSeconds(judgeIntervalSeconds: number, metricDelaySeconds: number, nowMs: number): number {
  if (judgeIntervalSeconds >= METRIC_PERIOD_SECONDS) return judgeIntervalSeconds;
  const readableMs = (Math.floor((nowMs - metricDelaySeconds * 1000) / MS_PER_MINUTE) + 1) * MS_PER_MINUTE + metricDelaySeconds * 1000;
  return Math.max(1, Math.ceil((readableMs - nowMs) / 1000));
}

/**
 * The service's traffic in the window before the first shift, which sizes the steps (sequential-sizing.ts): from the
 * release signal when the judge reads it and the application emits it (its 10 s periods summed into minutes, the
 * unit of the dispersion estimate), else from the ALB's minutes, the backstop.
 */
async function trafficBefore(analysis: AnalysisConfig, window: DataWindow, stableColor: JudgeInput['stableColor'], nowMs: number): Promise<TrafficObservation | null> {
  if (analysis.signal && analysis.method === 'SEQUENTIAL') {
    // Counts only: the sizing needs no latency, so no percentile query.
    const read = await readSignalStepData(analysis.signal, window.startMs, window.endMs, nowMs, { latency: false });
    const observed = observeTraffic(byMinute(read.data.minutes), window.startMs, window.endMs, stableColor);
    if (observed) return observed;
  }
  const before = await readStepData(analysis, window.startMs, window.endMs, { latency: false });
  return observeTraffic(before.minutes, before.startMs, before.endMs, stableColor);
}

/** Counts of shorter periods summed into the whole minutes that hold them. */
function byMinute(periods: readonly MinuteCounts[]): MinuteCounts[] {
  const minutes = new Map<number, MinuteCounts>();
  for (const p of periods) {
    const startMs = Math.floor(p.startMs / MS_PER_MINUTE) * MS_PER_MINUTE;
    const m = minutes.get(startMs);
    const add = (color: 'blue' | 'green') => ({
      requests: (m?.counts[color].requests ?? 0) + p.counts[color].requests,
      errors: (m?.counts[color].errors ?? 0) + p.counts[color].errors,
    });
    minutes.set(startMs, { startMs, counts: { blue: add('blue'), green: add('green') } });
  }
  return [...minutes.values()].sort((a, b) => a.startMs - b.startMs);
}

/**
 * Judges a release of `targetColor`: the alarms first (a missing one is ALARM_NOT_FOUND; one of the new color's or a
 * shared one in ALARM is a FAIL, returned at once without reading metrics so the rollback starts sooner; the stable
 * color's own alarms say whether the baseline is degraded), then the metric analysis when configured (what it reads:
 * planRead). The verdict is verdict.ts's `decide`.
 */
export async function judge(config: JudgeConfig, input: JudgeInput): Promise<JudgeResult> {
  const watched = watchedAlarms(config, input.targetColor);
  const baseline = baselineAlarms(config, input.stableColor).filter((n) => !watched.includes(n));
  const readings = await readAlarms([...watched, ...baseline]);
  const alarms = readings.map(({ name, state }) => ({ name, state }));
  const describe = (a: { name: string; reason?: string }) => `Alarm ${a.name} is in ALARM${a.reason ? `: ${a.reason}` : '.'}`;
  const failingAlarms = readings.filter((a) => watched.includes(a.name) && a.state === 'ALARM').map(describe);
  const stableAlarms = readings.filter((a) => baseline.includes(a.name) && a.state === 'ALARM').map(describe);
  const nowMs = clock().now();
  const analysis = config.analysis;
  const base = { nowMs, alarms, failingAlarms, stableAlarms };
  let seen: Observation;
  let source: MetricSourceName | undefined;
  let fallback: string | undefined;
  if (failingAlarms.length > 0) {
    seen = { ...base, notYet: null };
  } else {
    const plan = planRead(config, input.bake, nowMs);
    seen = { ...base, notYet: plan.notYet };
    if (analysis?.signal && analysis.method === 'SEQUENTIAL') {
      // The release signal, the ALB's metrics as the backstop (signal-read.ts).
      const read = await readSequential(config, analysis, analysis.signal, input.bake, [input.targetColor, input.stableColor], nowMs, plan);
      seen = { ...base, notYet: read.notYet, ...(read.step ? { step: read.step } : {}) };
      source = read.source;
      fallback = read.fallback;
    } else if (analysis?.signal && plan.window) {
      // THRESHOLDS with the release signal: the interval's whole minutes of the signal, the ALB's as the backstop.
      const read = await readThresholds(config, analysis, analysis.signal, input.bake, [input.targetColor, input.stableColor], nowMs, plan.window);
      seen = { ...base, notYet: notYetStepData(read.window, input.bake, read.delaySeconds), windowMetrics: read.metrics };
      source = read.source;
      fallback = read.fallback;
    } else {
      if (analysis && plan.step) seen = { ...seen, step: await readStepData(analysis, plan.step.startMs, plan.step.endMs) };
      if (analysis && plan.window) seen = { ...seen, windowMetrics: await readColorMetrics(analysis, plan.window) };
    }
    // Step sizing: the service's traffic before the first shift (read once, then carried in the evidence).
    if (analysis && plan.traffic) {
      const traffic = await trafficBefore(analysis, plan.traffic, input.stableColor, nowMs);
      if (traffic) seen = { ...seen, traffic };
    }
  }
  const decided = decide(config, input, seen);
  // The fallback is said in the reasons (and so in the events that carry them), first: what was read, then what the
  // verdict found, its conclusion last (Step Completed's `reason`); the source in the result.
  // With a signal the judge sets the next wait: its interval on the signal; on ALB minutes, until the next one is readable.
  // Only the sequential judge sets the wait: THRESHOLDS judges on whole minutes at the plan's interval, signal or not.
  const signal = analysis?.method === 'SEQUENTIAL' ? analysis.signal : undefined;
  const waitSeconds = signal && (source === 'ALB' ? albWaitSeconds(signal.judgeIntervalSeconds, config.metricDelaySeconds ?? 0, nowMs) : signal.judgeIntervalSeconds);
  const result = source === undefined ? decided : {
    ...decided,
    metricSource: source,
    ...(fallback ? { reasons: [fallback, ...decided.reasons] } : {}),
    ...(waitSeconds !== undefined ? { bake: { ...decided.bake, waitSeconds } } : {}),
  };
  log(result.verdict === 'FAIL' || result.verdict === 'HOLD' || result.verdict === 'BASELINE_DEGRADED' ? 'warn' : 'info', 'judgement', {
    verdict: result.verdict, bake: result.bake, reasons: result.reasons, metrics: result.metrics, metricSource: result.metricSource,
  });
  return result;
}


