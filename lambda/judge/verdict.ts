import {
  AlarmStatus, AnalysisConfig, BakeProgress, Color, ColorMetrics, DEFAULT_BAKE_EXTENSION_SECONDS, JudgeConfig, JudgeResult, StepEvidence, Verdict,
} from '../shared/contracts';
import { analyse } from './analysis';
import { analyseSequential, StepData } from './sequential-analysis';
import { decisionMinutes, observeTraffic, sizeSteps, StepSizing, TrafficObservation } from './sequential-sizing';

/**
 * The verdict of one judgement from what the judge read, as a pure function (judge.ts reads; the benchmark calls this
 * directly). Precedence:
 * 1. An alarm of the new color (or a shared one) in ALARM: FAIL.
 * 2. The analysis finds the new color worse than the stable color: FAIL. It breaks an absolute limit: FAIL, unless
 *    the stable color is degraded too (both break the limits at once: the judge cannot tell a bad release from a
 *    shared incident, and a rollback would send everyone to a color that is no better), then it holds.
 * 3. The stable color is degraded (one of its own alarms in ALARM, or its 5xx above the limit; see
 *    sequential-analysis.ts): HOLD, not counted toward the bake; BASELINE_DEGRADED once it has held for longer than
 *    `baselineHoldSeconds` (the state machine then follows its baseline policy). A degraded stable color is never
 *    the baseline that clears a step.
 * 4. No data of the step's own yet: WAIT, not counted.
 * 5. Otherwise a healthy judgement counts: WAIT until the bake's judgements are done, then PASS. SEQUENTIAL: only once
 *    the new color served at least `minRequests` in the step and the evidence rules out the smallest regression
 *    (sequential-analysis.ts `notRuledOut` empty: the acceptance boundary at β); until then the bake extends, one
 *    judgement at a time, for up to `bakeExtensionSeconds`, then INCONCLUSIVE. THRESHOLDS: every interval needs
 *    `minRequests`, and an interval with fewer is INCONCLUSIVE at once, as before. An INCONCLUSIVE bake counts the
 *    judgement, so that onInconclusive PROCEED keeps the judge's bake (and its evidence) as it is.
 */

/** What the judge read for one judgement. */
export interface Observation {
  readonly nowMs: number;
  readonly alarms: readonly AlarmStatus[];
  /** Reasons of the new color's and the shared alarms in ALARM. */
  readonly failingAlarms: readonly string[];
  /** Reasons of the stable color's own alarms in ALARM. */
  readonly stableAlarms: readonly string[];
  /** Why the data read is not yet the step's own (the judgement then does not count), or null. */
  readonly notYet: string | null;
  /** THRESHOLDS: the judge interval's metrics. */
  readonly windowMetrics?: Record<Color, ColorMetrics>;
  /** SEQUENTIAL: the step's data so far (absent when it holds no whole minute yet). */
  readonly step?: StepData;
  /** SEQUENTIAL: the service's traffic before the step (judge.ts reads it once per rollout, planRead's `traffic`). */
  readonly traffic?: TrafficObservation;
}

export interface JudgeInput {
  readonly targetColor: Color;
  readonly stableColor: Color;
  readonly bake: BakeProgress;
  /** The step's weight of the new color, percent. Absent: no step sizing. */
  readonly percent?: number;
  /** The step's header segments: a step with any is not sized (its traffic is more than its weight). */
  readonly segments?: readonly string[];
}

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;

function minutes(seconds: number): string {
  return `${Number((seconds / SECONDS_PER_MINUTE).toFixed(1))} min`;
}

function metricsOf(step: StepData, totals: Record<Color, { requests: number; errors: number }>): Record<Color, ColorMetrics> {
  const of = (c: Color): ColorMetrics => ({
    requests: totals[c].requests,
    errors: totals[c].errors,
    errorRatePercent: totals[c].requests > 0 ? (totals[c].errors * 100) / totals[c].requests : 0,
    latencyP99Ms: step.latency[c].p99Ms,
  });
  return { blue: of('blue'), green: of('green') };
}

/**
 * Judge intervals of the bake one judgement stands for. With a release signal (judged every `judgeIntervalSeconds`,
 * possibly under a minute): the new data it counted, in judge intervals, at least 1, so that a judgement reading the
 * ALB's whole minutes (the fallback) counts as the intervals its minute covers, and a late one as the data it read.
 * Without: 1, each judgement with new data one pass.
 */
function bakeCredit(analysis: AnalysisConfig, step: StepData, newPeriods: number): number {
  if (!analysis.signal || newPeriods === 0) return 1;
  const periodMs = step.periodMs ?? SECONDS_PER_MINUTE * MS_PER_SECOND;
  return Math.max(1, Math.round((newPeriods * periodMs) / (analysis.signal.judgeIntervalSeconds * MS_PER_SECOND)));
}

/**
 * The traffic that sizes the steps: carried in the evidence once observed, else what the judge read before the step
 * (judge.ts), else the step's own whole minutes once it has any. Null when none is known yet.
 */
function trafficOf(evidence: StepEvidence, seen: Observation, stableColor: Color): TrafficObservation | null {
  if (evidence.trafficPerMinute !== undefined && evidence.stableErrorRate !== undefined) {
    return { requestsPerMinute: evidence.trafficPerMinute, stableErrorRate: evidence.stableErrorRate, ...(evidence.dispersion ? { dispersion: evidence.dispersion } : {}) };
  }
  if (seen.traffic) return seen.traffic;
  if (!seen.step) return null;
  // From the step's own minutes: their variation is not carried, since the analysis adds these same minutes to it.
  const own = observeTraffic(seen.step.minutes, seen.step.startMs, seen.step.endMs, stableColor);
  return own && { requestsPerMinute: own.requestsPerMinute, stableErrorRate: own.stableErrorRate };
}

export function decide(config: JudgeConfig, input: JudgeInput, seen: Observation): JudgeResult {
  const { targetColor, stableColor, bake } = input;
  const alarms = seen.alarms;
  const evidenceIn: StepEvidence = bake.evidence ?? {};
  const base = { alarms, baseline: { color: stableColor, degraded: false, holdStarted: false } };
  if (seen.failingAlarms.length > 0) {
    return { ...base, verdict: 'FAIL', bake, reasons: [...seen.failingAlarms, `Rolling back to ${stableColor}.`] };
  }

  const wasDegraded = evidenceIn.heldSince !== undefined;
  // A hold carried from the last step (the operator promoted through it): this step's hold starts afresh, with its own
  // event and its own baselineHoldSeconds.
  const heldSinceIn = evidenceIn.heldSince !== undefined && bake.startedAt !== undefined
    && Date.parse(evidenceIn.heldSince) < Date.parse(bake.startedAt) ? undefined : evidenceIn.heldSince;
  let evidence: StepEvidence = evidenceIn;
  let metrics: Record<Color, ColorMetrics> | undefined = seen.windowMetrics;
  const fail: string[] = [];
  const degraded: string[] = [...seen.stableAlarms.map((r) => `${stableColor} (the stable color) is degraded: ${r}`)];
  const findings: string[] = [];
  let notYet = seen.notYet;
  let inconclusive: string | null = null;
  let stepRequests: number | undefined;
  let clearance: readonly string[] = [];
  let credit = 1;
  let notRuledOut: readonly string[] = [];
  let sizing: StepSizing | undefined;
  const analysis = config.analysis;

  if (analysis && (analysis.method ?? 'THRESHOLDS') === 'SEQUENTIAL') {
    // The traffic first: it sizes the steps (the overdispersion estimate is measured around the minutes' pooled rate).
    const traffic = trafficOf(evidenceIn, seen, stableColor);
    const known = evidenceIn.trafficPerMinute !== undefined && evidenceIn.stableErrorRate !== undefined;
    const evidenceFor: StepEvidence = traffic && !known
      ? { ...evidenceIn, trafficPerMinute: traffic.requestsPerMinute, stableErrorRate: traffic.stableErrorRate, ...(traffic.dispersion ? { dispersion: traffic.dispersion } : {}) }
      : evidenceIn;
    evidence = evidenceFor;
    if (seen.step) {
      const f = analyseSequential(analysis, seen.step, evidenceFor, targetColor, stableColor, wasDegraded);
      evidence = { ...f.evidence, ...(heldSinceIn ? { heldSince: heldSinceIn } : {}) };
      metrics = metricsOf(seen.step, f.totals);
      stepRequests = f.totals[targetColor].requests;
      clearance = f.clearance;
      notRuledOut = f.notRuledOut;
      if (f.baselineDegraded) degraded.push(f.baselineDegraded);
      fail.push(...f.relativeRegressions);
      if (degraded.length > 0) findings.push(...f.limitBreaches.map((b) => `${b} So does the stable color: holding instead of rolling back to it.`));
      else fail.push(...f.limitBreaches);
      findings.push(...f.summary);
      if (f.newMinutes === 0 && notYet === null) notYet = 'No whole minute of new data since the last judgement; this judgement does not count toward the bake.';
      credit = bakeCredit(analysis, seen.step, f.newMinutes);
    }
    if (traffic && input.percent !== undefined && (input.segments ?? []).length === 0) {
      // The signal's delay when this judgement read the release signal (its periods are the signal's), else the ALB's.
      const readsSignal = analysis.signal !== undefined && seen.step?.periodMs === analysis.signal.periodSeconds * MS_PER_SECOND;
      sizing = sizeSteps(analysis, traffic, decisionMinutes(analysis, bake.required, config.metricDelaySeconds ?? 0, readsSignal));
    }
  } else if (analysis && metrics) {
    const a = analyse(analysis, metrics, targetColor, stableColor);
    // Data from before the step cannot clear it, nor be too little to judge it; but a regression in it is one.
    if (a.outcome === 'FAIL') fail.push(...a.reasons);
    else if (a.outcome === 'INCONCLUSIVE' && notYet === null) inconclusive = a.reasons.join(' ');
  }
  const result = (verdict: Verdict, reasons: string[], progress: BakeProgress, holdStarted = false): JudgeResult => ({
    ...base,
    verdict,
    bake: progress,
    reasons,
    ...(metrics ? { metrics } : {}),
    baseline: { color: stableColor, degraded: verdict === 'HOLD' || verdict === 'BASELINE_DEGRADED', holdStarted },
  });
  const withEvidence = (extra: Partial<BakeProgress> = {}): BakeProgress => ({ ...bake, ...extra, evidence });

  if (fail.length > 0) return result('FAIL', [...fail, `Rolling back to ${stableColor}.`], withEvidence());

  if (degraded.length > 0) {
    const heldSince = heldSinceIn ?? new Date(seen.nowMs).toISOString();
    evidence = { ...evidence, heldSince };
    const heldSeconds = (seen.nowMs - Date.parse(heldSince)) / MS_PER_SECOND;
    const limit = config.baselineHoldSeconds;
    if (limit !== undefined && heldSeconds >= limit) {
      return result('BASELINE_DEGRADED', [...degraded, ...findings,
        `Held since ${heldSince} (${minutes(heldSeconds)}), longer than the ${minutes(limit)} the baseline hold allows: the rollout's baseline policy decides what happens next.`], withEvidence());
    }
    const until = limit === undefined ? 'until it recovers' : `for up to ${minutes(limit)}, then the rollout's baseline policy`;
    return result('HOLD', [...degraded, ...findings,
      `Holding the step since ${heldSince}: a degraded baseline neither clears nor fails the new color, and this judgement does not count toward the bake (${bake.passes} of ${bake.required}); holding ${until}.`],
    withEvidence(), heldSinceIn === undefined);
  }
  const { heldSince: _recovered, ...rest } = evidence;
  evidence = rest;

  if (sizing && input.percent !== undefined) {
    // Step sizing (sequential-sizing.ts): a step that cannot clear within its bake is merged into the next one; when
    // none can, the policy applies now rather than after every step has exposed users to the new color.
    if (sizing.minPercent === null) {
      return result('INCONCLUSIVE', [...findings, sizing.explanation,
        `Judging now rather than at the end of the bake: the rollout's onInconclusive policy decides what happens next (a higher request rate, a longer bake or bakeExtension, or a larger smallest regression would let the judge decide).`],
      withEvidence({ passes: bake.passes + credit }));
    }
    if (input.percent < sizing.minPercent) {
      return result('PASS', [...findings, sizing.explanation,
        `This step's ${input.percent}% is below it: the step is merged into the next one (it completes now, without its bake; the evidence so far carries on, and the next step's bake must clear it).`],
      withEvidence());
    }
  }

  if (notYet !== null) return result('WAIT', [notYet, ...findings], withEvidence());
  // An INCONCLUSIVE bake counts the judgement (as healthy, should onInconclusive PROCEED: the state machine keeps this
  // bake, evidence and all; ROLLBACK and PAUSE do not read it).
  if (inconclusive !== null) return result('INCONCLUSIVE', [inconclusive, 'The rollout\'s onInconclusive policy decides what happens next.'], withEvidence({ passes: bake.passes + 1 }));

  const passes = bake.passes + credit;
  if (passes < bake.required) {
    return result('WAIT', [...findings, `Healthy so far: bake ${passes} of ${bake.required}; judging again after the next interval.`], withEvidence({ passes }));
  }
  if (analysis?.sequential && stepRequests !== undefined) {
    // The sequential judge clears a step only on evidence: the bake done, minRequests served, and each metric's
    // smallest regression ruled out (the acceptance boundary). Otherwise the bake extends, then INCONCLUSIVE.
    const few = stepRequests < analysis.minRequests;
    if (!few && notRuledOut.length === 0) {
      return result('PASS', [...findings, ...clearance, `Bake done (${passes} of ${bake.required}) and the evidence rules out the smallest regression: the step completes.`], withEvidence({ passes }));
    }
    const missing = few
      ? `${targetColor} served ${stepRequests} request(s) in this step, and at least ${analysis.minRequests} are needed to clear it`
      : `the evidence does not yet rule out the smallest regression (${notRuledOut.join(', ')})`;
    const extension = Math.ceil((analysis.sequential.bakeExtensionSeconds ?? DEFAULT_BAKE_EXTENSION_SECONDS) / (analysis.signal?.judgeIntervalSeconds ?? analysis.windowSeconds));
    const extra = passes - bake.required + 1;
    if (extra <= extension) {
      return result('WAIT', [...findings, ...clearance, `Bake done (${Math.min(passes, bake.required)} of ${bake.required}), but ${missing}: extending the bake, ${extra} of ${extension} more judgements.`], withEvidence({ passes }));
    }
    return result('INCONCLUSIVE', [...findings, ...clearance,
      `The bake and its extension (${bake.required + extension} judgements) ended with neither a regression found nor ruled out: ${missing}. The rollout's onInconclusive policy decides what happens next.`],
    withEvidence({ passes }));
  }
  if (analysis && stepRequests !== undefined && stepRequests < analysis.minRequests) {
    return result('INCONCLUSIVE', [...findings,
      `Bake done (${passes} of ${bake.required}), but ${targetColor} served ${stepRequests} request(s) in this step; at least ${analysis.minRequests} are needed to clear it. The rollout's onInconclusive policy decides what happens next.`],
    withEvidence({ passes }));
  }
  return result('PASS', [...findings, `Bake done (${passes} of ${bake.required}) with no regression found: the step completes.`], withEvidence({ passes }));
}
