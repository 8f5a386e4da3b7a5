import { BakeProgress, JudgeConfig, JudgeResult, METRIC_PERIOD_SECONDS } from '../shared/contracts';
import { clock } from '../shared/clock';
import { log } from '../shared/log';
import { baselineAlarms, readAlarms, watchedAlarms } from './alarms';
import { DataWindow, dataWindow, readColorMetrics, readStepData } from './metrics';
import { observeTraffic } from './sequential-sizing';
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
  if (failingAlarms.length > 0) {
    seen = { ...base, notYet: null };
  } else {
    const plan = planRead(config, input.bake, nowMs);
    seen = { ...base, notYet: plan.notYet };
    if (analysis && plan.step) seen = { ...seen, step: await readStepData(analysis, plan.step.startMs, plan.step.endMs) };
    if (analysis && plan.traffic) {
      const before = await readStepData(analysis, plan.traffic.startMs, plan.traffic.endMs);
      const traffic = observeTraffic(before.minutes, before.startMs, before.endMs, input.stableColor);
      if (traffic) seen = { ...seen, traffic };
    }
    if (analysis && plan.window) seen = { ...seen, windowMetrics: await readColorMetrics(analysis, plan.window) };
  }
  const result = decide(config, input, seen);
  log(result.verdict === 'FAIL' || result.verdict === 'HOLD' || result.verdict === 'BASELINE_DEGRADED' ? 'warn' : 'info', 'judgement', {
    verdict: result.verdict, bake: result.bake, reasons: result.reasons, metrics: result.metrics,
  });
  return result;
}


