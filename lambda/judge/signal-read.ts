import {
  AnalysisConfig, BakeProgress, Color, JudgeConfig, MetricSourceName, SignalReadConfig,
} from '../shared/contracts';
import type { DataWindow } from './metrics';
import { readSignalStepData, readStepData } from './metrics';
import type { StepData } from './sequential-analysis';

/**
 * What the sequential judge reads when the rollout has a release signal (ProgressiveRollout.highResolutionSignal):
 * the application's own Requests / Errors5xx per Service and Color in 10-second periods that ended at least the
 * signal's delay ago, instead of the ALB's whole minutes that ended `metricDelay` (2 minutes) ago. The ALB metrics stay
 * the backstop: a color the signal has no datapoint of is judged on them when the application emits nothing for it.
 */

const MS_PER_SECOND = 1000;

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
 * - one has none, the step's signal spans at least `graceSeconds`, and the ALB shows that color serving requests in a
 *   minute that began after the shift: the application emits nothing for it, the ALB's data;
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
  const graceOver = plan.step.endMs - Math.max(plan.step.startMs, stepStartMs) >= signal.graceSeconds * MS_PER_SECOND;
  const servedOnAlb = (c: Color) => (alb?.minutes ?? []).some((m) => m.startMs >= stepStartMs && m.counts[c].requests > 0);
  const notEmitting = silent.length === colors.length ? silent : silent.filter((c) => graceOver && servedOnAlb(c));
  if (notEmitting.length === 0) return { step: fromSignal!.data, notYet: plan.notYet, source: 'SIGNAL' };

  const which = notEmitting.length === colors.length ? 'either color' : notEmitting.join(' and ');
  const why = notEmitting.length === colors.length ? '' : ` while the ALB shows ${notEmitting.join(' and ')} serving requests`;
  const fallback = `The release signal (${signal.namespace}, Service ${signal.service}) has no datapoint of ${which} in this step${why}: `
    + `this judgement reads the ALB's one-minute metrics instead (${config.metricDelaySeconds ?? 0} s metric delay).`;
  return { ...(alb ? { step: alb } : {}), notYet: albPlan.notYet, source: 'ALB', fallback };
}
