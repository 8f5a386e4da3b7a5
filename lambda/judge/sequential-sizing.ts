import { AnalysisConfig, DEFAULT_BAKE_EXTENSION_SECONDS, DEFAULT_MISS_RATE } from '../shared/contracts';
import { addDispersion, comparisonInflation, countInflation, DispersionSums, extraVariance, NO_DISPERSION } from './sequential';

/**
 * Step sizing for the sequential judge: the smallest share of the traffic at which a step can clear (reach the
 * acceptance boundary of lambda/judge/sequential-analysis.ts) within its bake and bake extension, from the service's
 * observed request rate and the stable color's 5xx rate. A pure function of the numbers.
 *
 * Why: a step clears only once the evidence rules out the smallest regression (likelihood ratio at most β), and that
 * takes a number of the new color's requests fixed by the tests' parameters, not by the step's weight. A 1% step of a
 * 10 req/s service sees 6 requests a minute; ruling out 2% 5xx against a 1% limit at a 0.1% baseline takes about 250
 * clean ones (40 minutes at that weight), so such a step ends INCONCLUSIVE and the default onInconclusive (ROLLBACK)
 * rolls a healthy release back. Instead, a step below the smallest weight that can decide is merged into the next step
 * (the judge passes it at its first judgement, saying why), and when not even 100% can decide within the bake, the
 * judge says so at once (INCONCLUSIVE: the rollout's onInconclusive policy) instead of after exposing every step.
 *
 * The arithmetic. Either 5xx test can clear a step (sequential-analysis.ts):
 * - the limit test, per request of the new color: the log-likelihood ratio of the smallest regression (rate
 *   l1 = limit x factor against l0 = limit) moves by a = ln(l1/l0) on a 5xx and c = ln((1-l1)/(1-l0)) otherwise;
 *   at a true rate p its drift is mu = p·a + (1-p)·c and its variance s² = p(1-p)(a-c)² per request;
 * - the comparison with the stable color, per 5xx of either color: the new color's share of the 5xx, p1 against
 *   p0 = w (its share of the requests), p1 = theta·w / (theta·w + 1 - w); drift w·ln(p1/w) + (1-w)·ln((1-p1)/(1-w)).
 * A random walk with drift mu < 0 and variance s² is at or below ln β after n steps with probability about
 * 1 - delta when |mu|·n - z·s·sqrt(n) >= |ln β| (normal approximation; z the (1 - delta) quantile), so
 * sqrt(n) = (z·s + sqrt(z²s² + 4|mu|·|ln β|)) / (2|mu|). The step has (bake + extension - metric delay - one minute)
 * of readable data; it needs that many requests (or 5xx) in it, and at least minRequests of the new color.
 * The stable color's 5xx rate is taken from what it served before the step ((errors + 1) / (requests + 1): slightly
 * pessimistic, a larger rate needs more requests). The carried evidence of earlier steps is not counted (it only
 * helps). Nothing here touches the false-rollback side: merging steps changes when the tests look, and they are
 * anytime-valid.
 */

/** z of the (1 - delta) quantile: the sizing aims at a step reaching its acceptance boundary with probability 99%. */
export const SIZING_Z = 2.3263478740408408;
/** The chance a step sized to decide does not reach its acceptance boundary in time (SIZING_Z's tail). */
export const SIZING_DELTA = 0.01;
/** The exact count of the limit test is searched by raising the normal approximation's 2% at a time. */
const EXACT_GROWTH = 1.02;
const MAX_EXACT_ROUNDS = 200;
/** Finest weight the sizing resolves, percent. */
const WEIGHT_RESOLUTION = 0.1;
const PERCENT = 100;
const SECONDS_PER_MINUTE = 60;

/** What the judge observed of the service's traffic before (or early in) the rollout. */
export interface TrafficObservation {
  /** Requests per minute of both colors together. */
  readonly requestsPerMinute: number;
  /** The stable color's 5xx rate, 0-1. */
  readonly stableErrorRate: number;
  /** The stable color's per-minute 5xx against that rate (overdispersion, sequential.ts). Absent: not observed. */
  readonly dispersion?: DispersionSums;
}

/** The sizing's verdict for a service: the smallest weight that decides, and the arithmetic, for a person. */
export interface StepSizing {
  /** The smallest weight (percent, to WEIGHT_RESOLUTION) at which a step clears within its bake; null: not even 100%. */
  readonly minPercent: number | null;
  /** Minutes of readable data a step has to clear in. */
  readonly minutes: number;
  /** The sentence for the verdict's reasons. */
  readonly explanation: string;
}

/** Steps a random walk (drift mu < 0, sd s) needs to be at or below ln(beta) with probability 1 - delta; Infinity if mu >= 0. */
export function stepsToBoundary(mu: number, s: number, lnBeta: number, z = SIZING_Z): number {
  if (!(mu < 0)) return Infinity;
  const m = -mu;
  const b = -lnBeta;
  const root = (z * s + Math.sqrt(z * z * s * s + 4 * m * b)) / (2 * m);
  return Math.ceil(root * root);
}

/** P(X <= k) for X ~ Poisson(m), summed in logarithms (no underflow at large m). */
export function poissonCdf(k: number, m: number): number {
  if (k < 0) return 0;
  if (m <= 0) return 1;
  let logTerm = -m;
  let logSum = logTerm;
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log(m / i);
    const hi = Math.max(logSum, logTerm);
    logSum = hi + Math.log(Math.exp(logSum - hi) + Math.exp(logTerm - hi));
  }
  return Math.min(1, Math.exp(logSum));
}

/**
 * Requests of the new color the limit test needs to rule out limit x factor at a true rate p, with probability
 * 1 - delta (SIZING_Z): the normal approximation's count, then counted exactly (errors Poisson(n·p); the ratio after
 * n requests with k errors is k·a + (n − k)·c, at or below ln β while k <= (ln β − n·c) / (a − c)), raised until the
 * exact probability holds (the normal approximation is optimistic for the few errors of a low rate).
 */
export function limitTestRequests(p: number, limit: number, factor: number, lnBeta: number): number {
  if (!(limit > 0) || limit >= 1) return Infinity;
  const l1 = Math.min(limit * factor, 1 - 1e-9);
  const a = Math.log(l1 / limit);
  const c = Math.log((1 - l1) / (1 - limit));
  const mu = p * a + (1 - p) * c;
  let n = stepsToBoundary(mu, Math.sqrt(p * (1 - p)) * (a - c), lnBeta);
  if (!Number.isFinite(n)) return n;
  const target = 1 - SIZING_DELTA;
  const enough = (count: number) => poissonCdf(Math.floor((lnBeta - count * c) / (a - c)), count * p) >= target;
  for (let i = 0; i < MAX_EXACT_ROUNDS && !enough(n); i++) n = Math.ceil(n * EXACT_GROWTH);
  return n;
}

/** 5xx (of both colors) the comparison test needs to rule out a `theta`-fold regression at weight w (0-1). */
export function comparisonTestErrors(w: number, theta: number, lnBeta: number): number {
  if (!(w > 0 && w < 1)) return Infinity;
  const p1 = (theta * w) / (theta * w + 1 - w);
  const up = Math.log(p1 / w);
  const down = Math.log((1 - p1) / (1 - w));
  return stepsToBoundary(w * up + (1 - w) * down, Math.sqrt(w * (1 - w)) * (up - down), lnBeta);
}

/**
 * Whether a step at `percent` can clear within `minutes` of data, at the stable 5xx rate `p`; `limitNeed` is
 * limitTestRequests at that rate (the same for every weight).
 */
function decides(config: AnalysisConfig, traffic: TrafficObservation, percent: number, minutes: number, p: number, limitNeed: number, tau2: number): boolean {
  const seq = config.sequential!;
  const lnBeta = Math.log(seq.missRate ?? DEFAULT_MISS_RATE);
  const w = percent / PERCENT;
  const newRequests = w * traffic.requestsPerMinute * minutes;
  if (newRequests < config.minRequests) return false;
  if (newRequests >= countInflation((w * traffic.requestsPerMinute * config.maxErrorRatePercent) / PERCENT, tau2) * limitNeed) return true;
  const errors = p * traffic.requestsPerMinute * minutes;
  const kRatio = comparisonInflation(p * traffic.requestsPerMinute, w, tau2);
  return Number.isFinite(kRatio) && errors >= kRatio * comparisonTestErrors(w, config.errorRateBaselineFactor, lnBeta);
}

/**
 * The stable 5xx rate at which the sizing gives up: the rate seen over a few minutes before the shift is an estimate
 * (Var = p²·(1/errors + tau²/minutes): Poisson counts, and under overdispersion the bursts it happened to catch), so
 * the judge says INCONCLUSIVE at once only if even the rate two standard errors below it could not clear; otherwise it
 * sizes at that rate and lets the steps' own evidence decide (they clear only on evidence, so this cannot release a
 * worse color; at worst a step ends INCONCLUSIVE after its bake instead of at once). Nothing observed: the rate seen.
 */
function optimisticRate(traffic: TrafficObservation, tau2: number): number {
  const d = traffic.dispersion;
  const p = traffic.stableErrorRate;
  if (!d || d.minutes < 1 || !(d.errors > 0)) return p;
  return Math.max(0, p * (1 - 2 * Math.sqrt(1 / d.errors + tau2 / d.minutes)));
}

/**
 * Minutes of readable data a step has to clear in: bake + extension - metric delay - the shift's own period. When the
 * judgement read the release signal (`readsSignal`), its delay and period (lambda/judge/signal-read.ts); otherwise the
 * ALB's metric delay and a whole minute. A judge that falls back to the ALB later in the step has the ALB's delay
 * then: a step sized on the signal may then need part of its extension.
 */
export function decisionMinutes(config: AnalysisConfig, bakeIntervals: number, metricDelaySeconds: number, readsSignal = false): number {
  const ext = config.sequential?.bakeExtensionSeconds ?? DEFAULT_BAKE_EXTENSION_SECONDS;
  // A bake interval is one judgement: the signal's judge interval when the judge reads the release signal.
  const intervalSeconds = config.signal?.judgeIntervalSeconds ?? config.windowSeconds;
  const signal = readsSignal ? config.signal : undefined;
  const delay = signal ? signal.delaySeconds : metricDelaySeconds;
  const shiftPeriod = signal ? signal.periodSeconds : SECONDS_PER_MINUTE;
  return Math.max(0, (bakeIntervals * intervalSeconds + ext - delay - shiftPeriod) / SECONDS_PER_MINUTE);
}

export function sizeSteps(config: AnalysisConfig, traffic: TrafficObservation, minutes: number): StepSizing {
  const rate = `${Number(traffic.requestsPerMinute.toFixed(1))} requests a minute`;
  const base = `${Number((traffic.stableErrorRate * PERCENT).toFixed(3))}% 5xx`;
  const within = `${Number(minutes.toFixed(1))} minutes of data (bake + extension - metric delay)`;
  // The first weight that decides (a scan: the comparison test's need is not monotone near 100%).
  const steps = PERCENT / WEIGHT_RESOLUTION;
  const tau2 = traffic.dispersion ? extraVariance(traffic.dispersion) : 0;
  const lnBeta = Math.log(config.sequential!.missRate ?? DEFAULT_MISS_RATE);
  const scan = (p: number, t2: number) => {
    const limitNeed = limitTestRequests(p, config.maxErrorRatePercent / PERCENT, config.errorRateBaselineFactor, lnBeta);
    let at = 1;
    while (at <= steps && !decides(config, traffic, at * WEIGHT_RESOLUTION, minutes, p, limitNeed, t2)) at++;
    return at;
  };
  let hi = scan(traffic.stableErrorRate, tau2);
  if (hi > steps && tau2 > 0) hi = scan(traffic.stableErrorRate, 0);
  if (hi > steps) hi = scan(optimisticRate(traffic, tau2), 0);
  if (hi > steps) {
    return {
      minPercent: null,
      minutes,
      explanation: `At the observed ${rate} (stable color ${base}), not even 100% of the traffic gives the new color enough requests to rule out the smallest regression within ${within}.`,
    };
  }
  const minPercent = Number((hi * WEIGHT_RESOLUTION).toFixed(1));
  return {
    minPercent,
    minutes,
    explanation: `At the observed ${rate} (stable color ${base}), a step needs at least ${minPercent}% of the traffic to rule out the smallest regression within ${within}.`,
  };
}

/**
 * The traffic of whole minutes [startMs, endMs) of CloudWatch's counts: both colors' requests per minute (a minute
 * without data counts as none: ALB publishes nothing for it), and the stable color's 5xx rate as
 * (errors + 1) / (requests + 1), with the stable color's per-minute variation around it. Null when nothing was served.
 */
export function observeTraffic(
  minutes: ReadonlyArray<{ readonly startMs: number; readonly counts: Record<string, { readonly requests: number; readonly errors: number }> }>,
  startMs: number, endMs: number, stableColor: string,
): TrafficObservation | null {
  const span = (endMs - startMs) / (SECONDS_PER_MINUTE * 1000);
  if (!(span > 0)) return null;
  let requests = 0;
  let stableRequests = 0;
  let stableErrors = 0;
  for (const m of minutes) {
    if (m.startMs < startMs || m.startMs >= endMs) continue;
    for (const [color, c] of Object.entries(m.counts)) {
      requests += c.requests;
      if (color === stableColor) {
        stableRequests += c.requests;
        stableErrors += c.errors;
      }
    }
  }
  if (requests <= 0) return null;
  const stableErrorRate = (stableErrors + 1) / (stableRequests + 1);
  let dispersion = NO_DISPERSION;
  for (const m of minutes) {
    const c = m.counts[stableColor];
    if (m.startMs >= startMs && m.startMs < endMs && c && c.requests > 0) dispersion = addDispersion(dispersion, c.errors, c.requests);
  }
  return { requestsPerMinute: requests / span, stableErrorRate, dispersion };
}
