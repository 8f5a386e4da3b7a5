import { errorRatioLlr, gaussianLlr, logQuantileVariance, mixtureEffects, mixtureLlr, MIXTURE_SIZE, threshold } from '../judge/sequential';
import { formatRatio, LatencyPercentiles } from '../judge/sequential-analysis';
import { FlagJudgeResult, FlagPhase, PhaseBake, VariantAnalysisConfig, VariantEvidence } from './flag-rollout-contract';

/**
 * The judgement of one phase of a guarded flag rollout: the users served the treatment against those served the
 * control, in the same minutes, with the traffic rollout's sequential statistics (lambda/judge/sequential.ts: the
 * conditional-binomial likelihood ratio of two error counts, its mixture over effect sizes, the p99 comparison of
 * two sample quantiles), so a phase can be looked at every hour for a week and the chance of rolling back a
 * healthy flag stays below the budget the construct set (Ville's inequality, at every look).
 *
 * A pure function of the counts; the handler reads them from CloudWatch (variant-metrics-reader.ts).
 *
 * Verdicts: FAIL as soon as a test crosses ln(1/alphaPerTest); at the phase's end, PASS when the treatment served
 * `minRequests` or more, else INCONCLUSIVE (no data is no proof of health); WAIT before.
 */

/** Requests and errors of one variant. */
export interface VariantCounts {
  readonly requests: number;
  readonly errors: number;
}

/** One whole minute of both variants' counts. */
export interface VariantMinute {
  readonly startMs: number;
  readonly treatment: VariantCounts;
  readonly control: VariantCounts;
}

/** What CloudWatch holds of the phase: minutes in [startMs, endMs) not yet counted, and each variant's percentiles. */
export interface VariantData {
  readonly minutes: readonly VariantMinute[];
  readonly latency: { readonly treatment: LatencyPercentiles; readonly control: LatencyPercentiles };
}

export const MS_PER_MINUTE = 60_000;
const MS_PER_SECOND = 1000;
const PERCENT = 100;

/** The span of data a judgement at `nowMs` reads: from the phase's first whole minute after propagation (or the last one counted) to the last whole minute that ended `metricDelaySeconds` ago. */
export function judgementWindow(config: VariantAnalysisConfig, bake: PhaseBake, nowMs: number): { readonly phaseStartMs: number; readonly fromMs: number; readonly endMs: number } {
  const started = Date.parse(bake.startedAt);
  const phaseStartMs = Math.ceil((started + config.propagationSeconds * MS_PER_SECOND) / MS_PER_MINUTE) * MS_PER_MINUTE;
  const endMs = Math.max(phaseStartMs, Math.floor((nowMs - config.metricDelaySeconds * MS_PER_SECOND) / MS_PER_MINUTE) * MS_PER_MINUTE);
  const fromMs = Math.min(endMs, Math.max(bake.evidence?.throughMs ?? phaseStartMs, phaseStartMs));
  return { phaseStartMs, fromMs, endMs };
}

function rate(c: VariantCounts): string {
  return c.requests > 0 ? `${Number(((c.errors * PERCENT) / c.requests).toFixed(3))}% (${Math.round(c.errors)} of ${Math.round(c.requests)})` : 'n/a (no requests)';
}

export function judgeVariants(
  config: VariantAnalysisConfig, phase: FlagPhase, bake: PhaseBake, data: VariantData, nowMs: number, names: { treatment: string; control: string },
): FlagJudgeResult {
  const window = judgementWindow(config, bake, nowMs);
  const h = threshold(config.alphaPerTest);
  const effects = mixtureEffects(config.errorRateFactor);
  const previous = bake.evidence;
  const errorLlrs = previous?.errorLlrs.length === MIXTURE_SIZE ? [...previous.errorLlrs] : effects.map(() => 0);
  const treatment = { requests: previous?.treatment.requests ?? 0, errors: previous?.treatment.errors ?? 0 };
  const control = { requests: previous?.control.requests ?? 0, errors: previous?.control.errors ?? 0 };
  for (const minute of data.minutes) {
    if (minute.startMs < window.fromMs || minute.startMs >= window.endMs) continue;
    treatment.requests += minute.treatment.requests;
    treatment.errors += minute.treatment.errors;
    control.requests += minute.control.requests;
    control.errors += minute.control.errors;
    effects.forEach((theta, i) => {
      errorLlrs[i] += errorRatioLlr(minute.treatment.errors, minute.treatment.requests, minute.control.errors, minute.control.requests, theta);
    });
  }
  const evidence: VariantEvidence = { throughMs: window.endMs, errorLlrs, treatment, control };
  const nextBake: PhaseBake = { startedAt: bake.startedAt, evidence };
  const t = names.treatment;
  const c = names.control;
  const failures: string[] = [];
  const summary: string[] = [];

  const errorLlr = mixtureLlr(errorLlrs);
  const errorText = `errors in phase ${phase.number} (${phase.name}): ${t} ${rate(treatment)} against ${c} ${rate(control)}; likelihood ratio for "${t} fails ${config.errorRateFactor}x as often or more" ${formatRatio(errorLlr)}, decides at ${formatRatio(h)}`;
  (errorLlr >= h ? failures : summary).push(errorLlr >= h ? `${t}'s error rate is higher than ${c}'s: ${errorText}.` : `${errorText}.`);

  if (config.latencyFactor !== undefined) {
    const tl = data.latency.treatment;
    const cl = data.latency.control;
    if (treatment.requests < config.latencyMinRequests) {
      summary.push(`p99 latency: ${t} has served ${treatment.requests} of the ${config.latencyMinRequests} requests the comparison needs.`);
    } else if (tl.p99Ms !== null && cl.p99Ms !== null && control.requests > 0) {
      const [d985, d995] = cl.p985Ms !== null ? [cl.p985Ms, cl.p995Ms] : [tl.p985Ms, tl.p995Ms];
      const vt = logQuantileVariance(treatment.requests, d985, d995);
      const vc = logQuantileVariance(control.requests, d985, d995);
      if (vt !== null && vc !== null) {
        const llr = mixtureLlr(mixtureEffects(config.latencyFactor).map((e) => gaussianLlr(Math.log(tl.p99Ms! / cl.p99Ms!), vt + vc, Math.log(e))));
        const text = `p99 latency in phase ${phase.number}: ${t} ${Number(tl.p99Ms.toFixed(2))} ms against ${c} ${Number(cl.p99Ms.toFixed(2))} ms; likelihood ratio for "${config.latencyFactor}x slower or more" ${formatRatio(llr)}, decides at ${formatRatio(h)}`;
        (llr >= h ? failures : summary).push(llr >= h ? `${t} is slower than ${c}: ${text}.` : `${text}.`);
      }
    }
  }

  if (failures.length > 0) return { verdict: 'FAIL', reasons: failures, bake: nextBake };
  const phaseEndMs = Date.parse(bake.startedAt) + phase.durationSeconds * MS_PER_SECOND;
  if (window.endMs < phaseEndMs) return { verdict: 'WAIT', reasons: summary, bake: nextBake };
  if (treatment.requests < config.minRequests) {
    return {
      verdict: 'INCONCLUSIVE',
      reasons: [`${t} served ${treatment.requests} requests in phase ${phase.number} (${phase.name}), fewer than the ${config.minRequests} a pass needs: nothing showed it healthy.`, ...summary],
      bake: nextBake,
    };
  }
  return { verdict: 'PASS', reasons: summary, bake: nextBake };
}
