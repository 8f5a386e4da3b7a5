import { BakeProgress, Color, ColorMetrics, JudgeConfig, JudgeResult, METRIC_PERIOD_SECONDS, Verdict } from '../shared/contracts';
import { clock } from '../shared/clock';
import { log } from '../shared/log';
import { readAlarms, watchedAlarms } from './alarms';
import { analyse, AnalysisOutcome } from './analysis';
import { DataWindow, dataWindow, readColorMetrics } from './metrics';

export interface JudgeInput {
  readonly targetColor: Color;
  readonly stableColor: Color;
  readonly bake: BakeProgress;
}

/**
 * The verdict and the bake progress of one judgement. FAIL keeps the progress; INCONCLUSIVE
 * keeps it too (an inconclusive judgement is not a healthy one); a healthy judgement counts one
 * more pass: PASS once the passes reach `required`, WAIT before.
 */
export function progress(outcome: AnalysisOutcome, bake: BakeProgress): { readonly verdict: Verdict; readonly bake: BakeProgress } {
  if (outcome !== 'HEALTHY') return { verdict: outcome, bake };
  const passes = bake.passes + 1;
  return { verdict: passes >= bake.required ? 'PASS' : 'WAIT', bake: { ...bake, passes } };
}

/** Without analysis, a judgement's data is the last whole minute CloudWatch has (what the alarms evaluated last). */
const ALARMS_ONLY_WINDOW_SECONDS = METRIC_PERIOD_SECONDS;

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
 * Judges a release of `targetColor`: the alarms first (a missing one is ALARM_NOT_FOUND; one in
 * ALARM is a FAIL, returned at once without reading metrics so the rollback starts sooner), then
 * the metric analysis when configured. Precedence: FAIL > INCONCLUSIVE > healthy.
 */
export async function judge(config: JudgeConfig, input: JudgeInput): Promise<JudgeResult> {
  const readings = await readAlarms(watchedAlarms(config, input.targetColor));
  const alarms = readings.map(({ name, state }) => ({ name, state }));
  const firing = readings.filter((a) => a.state === 'ALARM');
  if (firing.length > 0) {
    const reasons = firing.map((a) => `Alarm ${a.name} is in ALARM${a.reason ? `: ${a.reason}` : '.'}`);
    log('warn', 'judgement', { verdict: 'FAIL', reasons });
    return { ...progress('FAIL', input.bake), reasons, alarms };
  }
  const delay = config.metricDelaySeconds ?? 0;
  const window = dataWindow(clock().now(), config.analysis?.windowSeconds ?? ALARMS_ONLY_WINDOW_SECONDS, delay);
  const waiting = notYetStepData(window, input.bake, delay);
  const wait = (reason: string, metrics?: Record<Color, ColorMetrics>): JudgeResult => {
    log('info', 'judgement', { verdict: 'WAIT', bake: input.bake, reasons: [reason], metrics });
    return { verdict: 'WAIT', bake: input.bake, reasons: [reason], alarms, ...(metrics ? { metrics } : {}) };
  };
  if (!config.analysis) {
    if (waiting) return wait(waiting);
    const result = { ...progress('HEALTHY', input.bake), reasons: [], alarms };
    log('info', 'judgement', { verdict: result.verdict, bake: result.bake });
    return result;
  }
  const metrics = await readColorMetrics(config.analysis, window);
  const analysis = analyse(config.analysis, metrics, input.targetColor, input.stableColor);
  // Data from before the step cannot clear it, nor be too little to judge it; but the new color's regression in
  // it is one (at the step's weight or a smaller one): FAIL at once.
  if (waiting && analysis.outcome !== 'FAIL') return wait(waiting, metrics);
  const result = { ...progress(analysis.outcome, input.bake), reasons: analysis.reasons, alarms, metrics };
  log(result.verdict === 'FAIL' ? 'warn' : 'info', 'judgement', { verdict: result.verdict, bake: result.bake, reasons: result.reasons, metrics });
  return result;
}
