import {
  AnalysisConfig, BakeProgress, Color, ColorMetrics, JudgeConfig, METRIC_PERIOD_SECONDS, MetricSourceName, SignalReadConfig,
} from '../shared/contracts';
import type { DataWindow } from './metrics';
import { dataWindow, readColorMetrics, readSignalColorMetrics, readSignalStepData, readStepData } from './metrics';
import type { StepData } from './sequential-analysis';

/**
 * What the judge reads when the rollout has a release signal (ProgressiveRollout.highResolutionSignal): the
 * application's own Requests / Errors5xx (and Latency) per Service and Color that ended at least the signal's delay
 * ago, instead of the ALB's whole minutes that ended `metricDelay` (2 minutes) ago: in 10-second periods for the
 * sequential judge (readSequential), over the judge interval's whole minutes for the fixed thresholds
 * (readThresholds). The ALB metrics stay the backstop: a color the signal has no datapoint of is judged on them when
 * the application emits nothing for it.
 */

const MS_PER_SECOND = 1000;
const MINUTE_MS = METRIC_PERIOD_SECONDS * MS_PER_SECOND;

/** What a judgement reads of the signal: the step's whole periods (absent: none yet) and why it does not count, or null. */
export interface SignalPlan {
  readonly step?: DataWindow;
  readonly notYet: string | null;
}

/**
 * The step's whole periods of the signal that CloudWatch has: from the period in which the step's shift happened (or,
 * for a bake without a start, one judge interval back; after a degraded-baseline hold, from its end) to the last
 * period that ended `delaySeconds` ago. As with ALB minutes (judge.ts stepSpan), the period of the shift is evidence,
 * but a judgement counts toward the bake only once its newest period began after the shift.
 */
export function planSignalRead(signal: SignalReadConfig, bake: BakeProgress, nowMs: number): SignalPlan {
  const periodMs = signal.periodSeconds * MS_PER_SECOND;
  const endMs = Math.floor((nowMs - signal.delaySeconds * MS_PER_SECOND) / periodMs) * periodMs;
  const intervalMs = Math.ceil(signal.judgeIntervalSeconds / signal.periodSeconds) * periodMs;
  let startMs = bake.startedAt === undefined
    ? (bake.evidence?.throughMs !== undefined ? Math.min(bake.evidence.throughMs, endMs - intervalMs) : endMs - intervalMs)
    : Math.floor(Date.parse(bake.startedAt) / periodMs) * periodMs;
  const restartMs = bake.evidence?.restartMs;
  if (restartMs !== undefined) startMs = Math.max(startMs, Math.min(restartMs, endMs));
  const through = `${signal.delaySeconds} s signal delay; the last whole ${signal.periodSeconds}-second period ends at ${new Date(endMs).toISOString()}`;
  if (endMs - startMs < periodMs) {
    const stepStart = bake.startedAt ?? new Date(startMs).toISOString();
    return { notYet: `Waiting for this step's data: the step began at ${stepStart}, and the release signal has no whole period after it yet (${through}); this judgement does not count toward the bake.` };
  }
  const newest = endMs - periodMs;
  const notYet = bake.startedAt === undefined || newest >= Date.parse(bake.startedAt) ? null
    : `Waiting for this step's data: the step began at ${bake.startedAt}, and the newest whole period of the release signal (${through}) began before it; its evidence counts, but this judgement does not count toward the bake.`;
  return { step: { startMs, endMs }, notYet };
}

/** What the judge would read without the signal (judge.ts planRead's ReadPlan; typed here, so neither module imports the other). */
export interface AlbReadPlan {
  readonly step?: DataWindow;
  readonly notYet: string | null;
}

/** What the sequential judge read, from which source, and why it left the signal (absent: it did not). */
export interface SequentialRead {
  readonly step?: StepData;
  readonly notYet: string | null;
  readonly source: MetricSourceName;
  /** Why this judgement reads ALB metrics instead of the signal (a sentence for the verdict's reasons). */
  readonly fallback?: string;
}

/**
 * The sequential judge's data with a release signal. The signal first; a color of the two with no datapoint of it in
 * the step is either idle or not instrumented (an application that emits nothing, or an older release without
 * ReleaseMetrics). Then:
 * - neither color has a datapoint: the ALB's data (the same as without a signal, idle service included);
 * - one has none although the ALB shows that color serving requests in a whole minute that began after the shift and
 *   lies within the signal's periods read: the application emits nothing for it, the ALB's data. No fixed grace: the
 *   periods read each ended at least the signal's delay ago (planSignalRead), so a period the application wrote for
 *   that minute has reached CloudWatch by the delay it states; until the periods read cover such a minute, the
 *   signal cannot tell an uninstrumented color from one that served those requests in periods not read yet;
 * - otherwise (the color is idle, or the ALB cannot tell yet): the signal, in which the idle color counts nothing.
 * Switching source within a step neither loses nor double-counts evidence: each test counts only periods after the
 * evidence's `throughMs`, whatever their length. `albPlan`: what the judge would read without the signal (judge.ts planRead).
 */
export async function readSequential(
  config: JudgeConfig, analysis: AnalysisConfig, signal: SignalReadConfig, bake: BakeProgress, colors: readonly Color[], nowMs: number,
  albPlan: AlbReadPlan,
): Promise<SequentialRead> {
  const plan = planSignalRead(signal, bake, nowMs);
  const fromSignal = plan.step ? await readSignalStepData(signal, plan.step.startMs, plan.step.endMs, nowMs) : undefined;
  const silent = colors.filter((c) => (fromSignal?.datapoints[c] ?? 0) === 0);
  if (fromSignal && silent.length === 0) return { step: fromSignal.data, notYet: plan.notYet, source: 'SIGNAL' };
  if (!plan.step) return { notYet: plan.notYet, source: 'SIGNAL' };

  const alb = albPlan.step ? await readStepData(analysis, albPlan.step.startMs, albPlan.step.endMs) : undefined;
  const stepStartMs = bake.startedAt === undefined ? plan.step.startMs : Date.parse(bake.startedAt);
  // The signal's counts cover [startMs, endMs): the step's read span, from CloudWatch's sub-minute retention on.
  const read = fromSignal!.data;
  const servedOnAlb = (c: Color) => (alb?.minutes ?? []).some((m) => m.startMs >= stepStartMs && m.startMs >= read.startMs
    && m.startMs + MINUTE_MS <= read.endMs && m.counts[c].requests > 0);
  const notEmitting = silent.length === colors.length ? silent : silent.filter(servedOnAlb);
  if (notEmitting.length === 0) return { step: fromSignal!.data, notYet: plan.notYet, source: 'SIGNAL' };

  return { ...(alb ? { step: alb } : {}), notYet: albPlan.notYet, source: 'ALB', fallback: fallbackReason(config, signal, notEmitting, colors, 'in this step') };
}

/** Why a judgement reads the ALB's metrics instead of the signal (a sentence for the verdict's reasons). */
function fallbackReason(config: JudgeConfig, signal: SignalReadConfig, notEmitting: readonly Color[], colors: readonly Color[], where: string): string {
  const which = notEmitting.length === colors.length ? 'either color' : notEmitting.join(' and ');
  const why = notEmitting.length === colors.length ? '' : ` while the ALB shows ${notEmitting.join(' and ')} serving requests`;
  return `The release signal (${signal.namespace}, Service ${signal.service}) has no datapoint of ${which} ${where}${why}: `
    + `this judgement reads the ALB's one-minute metrics instead (${config.metricDelaySeconds ?? 0} s metric delay).`;
}

/** What the fixed-threshold judge read: each color's metrics over its window, from which source, and why it left the signal. */
export interface ThresholdsRead {
  readonly metrics: Record<Color, ColorMetrics>;
  /** The whole minutes read. */
  readonly window: DataWindow;
  /** How late the data of that source may arrive, seconds (the signal's delay, or the ALB's metric delay). */
  readonly delaySeconds: number;
  readonly source: MetricSourceName;
  /** Why this judgement reads ALB metrics instead of the signal (a sentence for the verdict's reasons). */
  readonly fallback?: string;
}

/**
 * The fixed-threshold judge's data (AnalysisMethod.THRESHOLDS) with a release signal: each color's requests, 5xx and
 * p99 over the judge interval's whole minutes that ended the signal's delay ago (instead of the ALB's, which ended
 * `metricDelay` ago), the thresholds unchanged. The same backstop as the sequential judge's (readSequential): neither
 * color has a datapoint in the window, the ALB's window; one has none, and the ALB shows it serving requests in a
 * window that began after the shift and that the signal's periods cover (it ended the signal's delay ago) with no
 * datapoint of that color there either, the ALB's window; otherwise the signal, in which an idle color counts nothing.
 * `albWindow`: what the judge would read without the signal (judge.ts planRead).
 */
export async function readThresholds(
  config: JudgeConfig, analysis: AnalysisConfig, signal: SignalReadConfig, bake: BakeProgress, colors: readonly Color[], nowMs: number,
  albWindow: DataWindow,
): Promise<ThresholdsRead> {
  const window = dataWindow(nowMs, analysis.windowSeconds, signal.delaySeconds);
  const fromSignal = await readSignalColorMetrics(signal, window);
  const silent = colors.filter((c) => fromSignal.datapoints[c] === 0);
  const onSignal: ThresholdsRead = { metrics: fromSignal.metrics, window, delaySeconds: signal.delaySeconds, source: 'SIGNAL' };
  if (silent.length === 0) return onSignal;

  const alb = await readColorMetrics(analysis, albWindow);
  const onAlb = (notEmitting: readonly Color[]): ThresholdsRead => ({
    metrics: alb, window: albWindow, delaySeconds: config.metricDelaySeconds ?? 0, source: 'ALB',
    fallback: fallbackReason(config, signal, notEmitting, colors, 'in the minutes judged'),
  });
  if (silent.length === colors.length) return onAlb(silent);
  const stepStartMs = bake.startedAt === undefined ? albWindow.startMs : Date.parse(bake.startedAt);
  const signalHasAlbWindow = albWindow.endMs <= window.endMs;
  const served = silent.filter((c) => alb[c].requests > 0);
  if (albWindow.startMs < stepStartMs || !signalHasAlbWindow || served.length === 0) return onSignal;
  // The signal over the very minutes the ALB shows them serving: no datapoint there either, it emits nothing for them.
  const sameMinutes = await readSignalColorMetrics(signal, albWindow);
  const notEmitting = served.filter((c) => sameMinutes.datapoints[c] === 0);
  return notEmitting.length === 0 ? onSignal : onAlb(notEmitting);
}
