/**
 * The summary of a series of runs (`zdt rehearse --runs N`) for a person: outcomes, false rollbacks or missed
 * regressions, time to detect and failed requests at p50 / p95, and how long a run took.
 */
import type { RehearsalRuns, RunDistribution, RunOutcome } from './rehearse-runs';
import { createStyle, formatCount, formatDuration, formatPercent, type Style } from './render-format';
import { OUTCOME_LABEL } from './render-summary';

const LABEL_WIDTH = 20;
const PERCENT = 100;
const OUTCOME_ORDER: readonly RunOutcome[] = ['RELEASED', 'COMPLETED', 'ROLLED_BACK', 'REFUSED', 'ROLLBACK_FAILED', 'FAILED'];
/** A flag rollout's outcomes beside a traffic rollout's (COMPLETED: the flag reached 100%). */
const RUN_OUTCOME_LABEL: Record<RunOutcome, string> = { ...OUTCOME_LABEL, COMPLETED: 'COMPLETED' };

/** The distribution as lines (no trailing newlines). */
export function renderRunsSummary(runs: RehearsalRuns, style: Style = createStyle(false)): string[] {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${style.dim(label.padEnd(LABEL_WIDTH))}${value}`);
  const share = (n: number) => `${n} of ${runs.runs} (${formatPercent((PERCENT * n) / Math.max(1, runs.runs))})`;
  const lastSeed = runs.firstSeed + runs.runs - 1;
  lines.push(style.bold(`Runs: ${runs.scenario}, ${runs.runs} run${runs.runs === 1 ? '' : 's'}, seeds ${runs.firstSeed}${lastSeed > runs.firstSeed ? `-${lastSeed}` : ''} (stochastic traffic)`));
  row('outcomes', OUTCOME_ORDER.filter((o) => (runs.outcomes[o] ?? 0) > 0).map((o) => `${RUN_OUTCOME_LABEL[o]} ${runs.outcomes[o]}`).join(' · '));
  if (runs.expected === 'RELEASED' || runs.expected === 'COMPLETED') row('false rollbacks', paint(runs.falseRollbacks, share(runs.falseRollbacks), style));
  if (runs.expected === 'ROLLED_BACK') row('missed regressions', paint(runs.missedRegressions, share(runs.missedRegressions), style));
  if (runs.expected !== undefined) row('as expected', `${share(runs.asExpected)} ${RUN_OUTCOME_LABEL[runs.expected]}`);
  if (runs.timeToDetectMs.count > 0) row('time to detect', `${percentiles(runs.timeToDetectMs, formatDuration)} (${runs.timeToDetectMs.count} detection${runs.timeToDetectMs.count === 1 ? '' : 's'})`);
  row('failed requests', percentiles(runs.failedRequests, formatCount));
  row('real time', `${formatDuration(runs.realDurationMs.mean ?? 0)} a run, p95 ${formatDuration(runs.realDurationMs.p95 ?? 0)}`);
  return lines;
}

function percentiles(d: RunDistribution, format: (n: number) => string): string {
  if (d.count === 0) return 'none';
  return `p50 ${format(d.p50!)} · p95 ${format(d.p95!)} · max ${format(d.max!)}`;
}

function paint(count: number, text: string, style: Style): string {
  return count > 0 ? style.bad(text) : style.good(text);
}
