/**
 * The rehearsal's summary for a person (outcome, timings, blast radius, cost, final traffic, events) and as JSON.
 */
import type { RehearsalOutcome, RehearsalResult, RehearsalSummary } from './result';
import { createStyle, formatClock, formatCount, formatDuration, formatPercent, formatUsd, formatWeights, weightBar, type Style } from './render-format';

/** How each outcome reads in the summary. */
export const OUTCOME_LABEL: Record<RehearsalOutcome, string> = {
  RELEASED: 'RELEASED',
  ROLLED_BACK: 'ROLLED BACK',
  REFUSED: 'REFUSED',
  ROLLBACK_FAILED: 'ROLLBACK FAILED',
  FAILED: 'FAILED',
};

/** Width of the label column. */
const LABEL_WIDTH = 20;

export interface SummaryOptions {
  readonly style?: Style;
  /** Where the chart was written, to print with the summary. @default - not printed */
  readonly chartPath?: string;
  /** Real (wall-clock) time the rehearsal took, to contrast with the virtual duration. @default - not printed */
  readonly realDurationMs?: number;
}

/** The summary as lines (no trailing newlines). */
export function renderSummary(result: RehearsalResult, options: SummaryOptions = {}): string[] {
  const style = options.style ?? createStyle(false);
  const s = result.summary;
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${style.dim(label.padEnd(LABEL_WIDTH))}${value}`);

  lines.push(style.bold(`Summary: ${s.scenario} (${s.strategy})`));
  row('outcome', `${paintOutcome(s.outcome, style)}${executionNote(s)}`);
  if (s.cause) row('cause', shorten(s.cause));
  row('duration', `${formatDuration(s.durationMs)} of virtual time${options.realDurationMs !== undefined ? `, rehearsed in ${formatDuration(options.realDurationMs)}` : ''}`);
  if (s.regressionStartedAtMs !== undefined) row('regression started', `at ${formatClock(s.regressionStartedAtMs)}`);
  if (s.detectedAtMs !== undefined) {
    const after = s.timeToDetectMs !== undefined ? `, ${formatDuration(s.timeToDetectMs)} after the regression started` : '';
    row('detected', `at ${formatClock(s.detectedAtMs)}${after}`);
  } else if (s.regressionStartedAtMs !== undefined) {
    row('detected', style.bad('never: the regression was not detected'));
  }
  if (s.safeAtMs !== undefined) {
    const after = s.timeToSafeMs !== undefined ? `, ${formatDuration(s.timeToSafeMs)} after detection` : '';
    row('safe', `at ${formatClock(s.safeAtMs)}${after} (100% stable, read back)`);
  } else if (s.detectedAtMs !== undefined) {
    row('safe', style.bad('never: 100% stable was not verified'));
  }
  const share = s.totalRequests > 0 ? ` (${formatPercent((100 * s.failedRequests) / s.totalRequests)})` : '';
  const blast = `${formatCount(s.failedRequests)} failed requests of ${formatCount(s.totalRequests)} served${share}`;
  row('blast radius', s.failedRequests > 0 ? style.bad(blast) : blast);
  row('state transitions', formatCount(s.stateTransitions));
  row('lambda invocations', formatCount(s.lambdaInvocations));
  row('estimated cost', `${formatUsd(s.estimatedCostUsd)} (Step Functions Standard transitions + Lambda)`);
  row('final weights', `${weightBar(s.finalWeights, style)}  ${formatWeights(s.finalWeights)}`);
  row('live color', s.liveColor ? style.color(s.liveColor, s.liveColor) : style.warn('none (traffic is split)'));
  if (options.chartPath) row('chart', options.chartPath);
  if (s.events.length === 0) {
    row('events', 'none');
  } else {
    row('events', '');
    for (const e of s.events) lines.push(`    ${style.dim(formatClock(e.atMs))}  ${eventLine(e.detailType, e.detail, style)}`);
  }
  return lines;
}

function paintOutcome(outcome: RehearsalOutcome, style: Style): string {
  const label = style.bold(OUTCOME_LABEL[outcome]);
  return outcome === 'RELEASED' ? style.good(label) : outcome === 'ROLLED_BACK' ? style.warn(label) : style.bad(label);
}

function executionNote(s: RehearsalSummary): string {
  const parts = [`execution ${s.executionStatus}`];
  if (s.error) parts.push(s.error);
  return ` (${parts.join(': ')})`;
}

/** Longest cause printed in the summary; --json has it whole. */
const MAX_CAUSE_CHARS = 240;

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_CAUSE_CHARS ? `${flat.slice(0, MAX_CAUSE_CHARS - 1)}…` : flat;
}

/** Detail fields worth a glance on an event line, in this order. */
const EVENT_DETAIL_KEYS = ['step', 'percent', 'targetColor', 'stableColor', 'reason', 'error'];

function eventLine(detailType: string, detail: Record<string, unknown>, style: Style): string {
  const bits = EVENT_DETAIL_KEYS
    .filter((k) => detail[k] !== undefined && detail[k] !== null && typeof detail[k] !== 'object')
    .map((k) => `${k}=${shorten(String(detail[k]))}`);
  const name = /roll ?back/i.test(detailType) ? style.bad(detailType) : style.info(detailType);
  return bits.length > 0 ? `${name}  ${style.dim(bits.join(' '))}` : name;
}

/** The result as JSON (what `zdt rehearse --json` prints): one result, or an array for several scenarios. */
export function renderJson(results: RehearsalResult | readonly RehearsalResult[]): string {
  return JSON.stringify(results, null, 2);
}
