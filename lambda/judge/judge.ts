import { BakeProgress, Color, JudgeConfig, JudgeResult, Verdict } from '../shared/contracts';
import { clock } from '../shared/clock';
import { log } from '../shared/log';
import { readAlarms, watchedAlarms } from './alarms';
import { analyse, AnalysisOutcome } from './analysis';
import { readColorMetrics } from './metrics';

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
  return { verdict: passes >= bake.required ? 'PASS' : 'WAIT', bake: { passes, required: bake.required } };
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
  if (!config.analysis) {
    const result = { ...progress('HEALTHY', input.bake), reasons: [], alarms };
    log('info', 'judgement', { verdict: result.verdict, bake: result.bake });
    return result;
  }
  const metrics = await readColorMetrics(config.analysis, clock().now());
  const analysis = analyse(config.analysis, metrics, input.targetColor, input.stableColor);
  const result = { ...progress(analysis.outcome, input.bake), reasons: analysis.reasons, alarms, metrics };
  log(result.verdict === 'FAIL' ? 'warn' : 'info', 'judgement', { verdict: result.verdict, bake: result.bake, reasons: result.reasons, metrics });
  return result;
}
