import { AnalysisConfig, Color, DEFAULT_MISS_RATE, StepEvidence } from '../shared/contracts';
import {
  addDispersion, comparisonInflation, DispersionSums, countInflation, cusum, errorRatioLlr, extraVariance, gaussianLlr, logMedianVariance, NO_DISPERSION, logQuantileVariance, mixtureEffects, mixtureLlr, MIXTURE_SIZE, rateLlr,
  SIGN_BETS, signLlrs as minuteSignLlrs, threshold,
} from './sequential';

/**
 * The sequential analysis of one step: the new color against the stable color and against the absolute limits,
 * with evidence accumulated over the step's whole minutes, and the stable color's own health. A pure function of
 * the numbers; lambda/judge/verdict.ts turns its findings into a verdict.
 *
 * Tests (each spends `alphaPerTest` of the rollout's false-rollback budget and decides at a likelihood ratio of
 * 1/alphaPerTest; lambda/judge/sequential.ts says why that bound holds at every look). The two 5xx tests run over the
 * whole rollout: their evidence (and the stable color's CUSUM) is carried from step to step, each minute counted
 * once, which is valid whatever each color's share in each minute (the null hypothesis holds minute by minute). It
 * assumes a regression does not depend on the new color's share: one that appears only at a later step starts from
 * the evidence the earlier steps gathered against it (the mixture's larger alternatives make up for that fast). The
 * p99 tests are a step's own (CloudWatch's percentile over the step):
 * - 5xx vs stable: per minute, the new color's share of both colors' 5xx given their sum and their requests (the
 *   conditional binomial); H1: its rate is `errorRateBaselineFactor` x the stable rate or more (a mixture over that
 *   factor and its powers, sequential.ts MIXTURE_SIZE). Product over the minutes, per alternative.
 *   Assumes 5xx are independent rare events at a rate constant within a minute (Poisson), both colors exposed to the
 *   same conditions in the same minute; it tolerates any stable rate and any change of it from minute to minute.
 *   Under overdispersion (each color's rate varying from minute to minute on its own: sequential.ts extraVariance of
 *   the stable color's minutes above 0) each minute is tempered by its variance inflation, and a FAIL also needs the
 *   per-minute sign test (sequential.ts SIGN_BETS) at the same threshold: a rollback is then inside the sign test's
 *   event, whose chance under "no worse" is at most the test's share whatever the bursts' size or shape (assumption:
 *   the two colors' minute factors are exchangeable, requests independent given them). Without detected
 *   overdispersion the comparison alone decides: bursts too small for the estimate to see are the tempering's and the
 *   Poisson bound's (the benchmark's CV 0.25 cells).
 * - 5xx limit: the new color's cumulative 5xx in the step, H0: rate <= `maxErrorRatePercent`, H1: that times
 *   `errorRateBaselineFactor` or more (mixture). Assumes independent requests.
 * - p99 vs stable (when `latencyBaselineFactor` is set): the log ratio of the two colors' p99 over the step so far,
 *   read as CloudWatch's percentile over one period covering the step; H1: the new p99 is `latencyBaselineFactor` x
 *   the stable one or more (mixture). Assumes the sample p99 of n requests is normal around the true p99 with variance
 *   p(1-p) / (n g²) (g: density of ln latency at p99, estimated from the stable color's p98.5 and p99.5 of the
 *   same data; a regression that scales latency leaves the density of ln latency unchanged), which needs n(1-p)
 *   well above 1: only steps where each color served `latencyMinRequests` count.
 *   CloudWatch's percentiles are themselves approximations (exact to within a bucket of its histogram); the bound
 *   holds to the extent that error is small next to the sampling error.
 * - p99 limit (when `maxLatencyP99Ms` is set): the same with the limit in place of the stable p99, H1: the limit x
 *   `latencyBaselineFactor` (or 1.5).
 * The stable color is degraded when Page's CUSUM of its own 5xx against the limit (same H0 and H1 as the 5xx limit)
 * reaches the same threshold; it stays degraded until the CUSUM falls back to 0, or until it no longer serves (the
 * last step after its shift minute: nothing is compared with it any more).
 * Minutes of a degraded baseline get zero weight: a minute that begins while the stable color is degraded (the step
 * held at the last judgement, or the CUSUM of the minutes before it says so) adds nothing to any test nor to the
 * bake, and the step's data is read again from the end of the hold (the latency percentiles start over). The weight is
 * fixed before the minute's own data, so every test stays a supermartingale and no budget is spent on the hold; the
 * minute in which an outage begins still counts (its stable counts are part of that minute's evidence).
 */

/** Requests and 5xx of one color. */
export interface ColorCounts {
  readonly requests: number;
  readonly errors: number;
}

/** One whole minute of both colors' counts. */
export interface MinuteCounts {
  /** Start of the minute, epoch ms. */
  readonly startMs: number;
  readonly counts: Record<Color, ColorCounts>;
}

/** A color's latency percentiles over the step's data so far (null without data). */
export interface LatencyPercentiles {
  readonly p985Ms: number | null;
  readonly p99Ms: number | null;
  readonly p995Ms: number | null;
  /** p45 / p50 / p55 (MEDIAN_STATISTICS): the median test's. Absent or null: no median test. */
  readonly p45Ms?: number | null;
  readonly p50Ms?: number | null;
  readonly p55Ms?: number | null;
}

/** What CloudWatch holds of the step so far: its whole minutes [startMs, endMs). */
export interface StepData {
  readonly startMs: number;
  readonly endMs: number;
  /** Every minute of the span that has data, in time order (a minute without requests may be absent). */
  readonly minutes: readonly MinuteCounts[];
  /**
   * Length of each entry of `minutes`, ms: absent, a whole minute (ALB metrics); 10 000 for the release signal's
   * 10-second periods (lambda/judge/signal-read.ts). Each test is per entry whatever its length.
   */
  readonly periodMs?: number;
  readonly latency: Record<Color, LatencyPercentiles>;
}

/** What the tests found. */
export interface SequentialFindings {
  /** The running statistics after this judgement (heldSince is the caller's). */
  readonly evidence: StepEvidence;
  /** Each color's counts over the step so far. */
  readonly totals: Record<Color, ColorCounts>;
  /** Minutes counted for the first time by this judgement. */
  readonly newMinutes: number;
  /** The new color is worse than the stable color (FAIL, whatever the baseline). */
  readonly relativeRegressions: readonly string[];
  /** What the evidence rules out (the acceptance boundary reached), one sentence per test. */
  readonly clearance: readonly string[];
  /**
   * The metrics whose smallest regression the evidence does not yet rule out ('5xx', 'p99 latency'): the step cannot
   * be cleared yet. 5xx is ruled out by the comparison with the stable color or by the limit test; p99 likewise, and
   * only once its tests run (`latencyMinRequests`).
   */
  readonly notRuledOut: readonly string[];
  /** The new color breaks an absolute limit (FAIL, unless the stable color breaks it too). */
  readonly limitBreaches: readonly string[];
  /** Why the stable color is degraded, or null. */
  readonly baselineDegraded: string | null;
  /** The evidence so far, for a person (one sentence per test that ran). */
  readonly summary: readonly string[];
}

const PERCENT = 100;
const MS_PER_MINUTE = 60_000;
/** How much older than the newest readable minute a minute without data must be to count as silent: one minute. */
const SILENT_GRACE_MS = MS_PER_MINUTE;
/** H1 of the absolute latency test when no relative factor is set: the limit x 1.5. */
const DEFAULT_LATENCY_EFFECT = 1.5;

function num(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

function pct(errors: number, requests: number): string {
  return requests > 0 ? `${num((errors * PERCENT) / requests)}%` : 'n/a';
}

/** A likelihood ratio for a person: exp(llr), 3 significant digits, huge ones in powers of ten. */
export function formatRatio(llr: number): string {
  if (llr > Math.log(1e6)) return `1e${Math.floor(llr / Math.LN10)}`;
  const value = Math.exp(llr);
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Number(value.toPrecision(3)));
}

export function analyseSequential(
  config: AnalysisConfig, data: StepData, evidence: StepEvidence, targetColor: Color, stableColor: Color, wasDegraded: boolean,
): SequentialFindings {
  const seq = config.sequential;
  if (!seq) throw new Error('analyseSequential needs analysis.sequential');
  const h = threshold(seq.alphaPerTest);
  const periodMs = data.periodMs ?? MS_PER_MINUTE;
  const lrLimit = formatRatio(h);
  /** The 5xx tests' threshold: their own share of the budget (contracts.ts sequentialBudget). */
  const hError = threshold(seq.errorAlphaPerTest ?? seq.alphaPerTest);
  const lrError = formatRatio(hError);
  const from = Math.max(evidence.throughMs ?? data.startMs, data.startMs);
  const limit = config.maxErrorRatePercent / PERCENT;
  const limit1 = Math.min(limit * config.errorRateBaselineFactor, 1 - 1e-9);

  const effects = mixtureEffects(config.errorRateBaselineFactor);
  const errorLlrs = evidence.errorLlrs?.length === MIXTURE_SIZE ? [...evidence.errorLlrs] : effects.map(() => 0);
  let baselineCusum = evidence.baselineCusum ?? 0;
  const counted = { requests: evidence.newRequests ?? 0, errors: evidence.newErrors ?? 0 };
  const limitAlternative = (e: number) => Math.min(limit * e, 1 - 1e-9);
  /** The limit test per alternative: tempered per minute under overdispersion; from the counts for older evidence. */
  const limitLlrs = evidence.limitLlrs?.length === MIXTURE_SIZE
    ? [...evidence.limitLlrs]
    : effects.map((e) => (limit > 0 ? rateLlr(counted.errors, counted.requests, limit, limitAlternative(e)) : 0));
  /** The stable color's minute-to-minute 5xx variation (overdispersion), against its observed rate. */
  let dispersion: DispersionSums = evidence.dispersion ?? NO_DISPERSION;
  const observedStableRate = evidence.stableErrorRate;
  let tau2 = extraVariance(dispersion);
  /** The sign test per bet (the comparison's distribution-free guard), carried like the comparison. */
  const signLlrs = evidence.signLlrs?.length === SIGN_BETS.length ? [...evidence.signLlrs] : SIGN_BETS.map(() => 0);
  let restartMs = evidence.restartMs;
  /** End of the last minute that had data: minutes after it may still be arriving, and are read again next time. */
  let lastDataEndMs = from;
  /**
   * Whether the stable color is degraded going into the next minute. A minute gets zero weight when it was degraded
   * BEFORE the minute (held at the last judgement, or its CUSUM over the earlier minutes): a weight fixed before the
   * minute's data keeps every test a supermartingale (a weight chosen from the minute's own stable counts would not,
   * under the conditional binomial). So the minute in which an outage begins still counts; the cap on the CUSUM
   * limits how long its recovery keeps later minutes out.
   */
  let degraded = wasDegraded;
  /** Starts of the minutes read for the first time that had data (counted or zero-weighted). */
  const withData = new Set<number>();
  let counting = 0;
  const totals = { blue: { requests: 0, errors: 0 }, green: { requests: 0, errors: 0 } };
  for (const minute of data.minutes) {
    if (minute.startMs < data.startMs || minute.startMs >= data.endMs) continue;
    const fresh = minute.counts[targetColor];
    const stable = minute.counts[stableColor];
    for (const c of [targetColor, stableColor]) {
      totals[c].requests += minute.counts[c].requests;
      totals[c].errors += minute.counts[c].errors;
    }
    if (minute.startMs < from) continue;
    // A baseline that no longer serves (the last step's minutes after its shift) holds nothing: there is nothing to
    // compare against and no rollback target's health to learn, and a burst in its last minute would otherwise hold
    // the step for good. The weight depends only on the minute's request counts, which the tests condition on.
    const held = degraded && stable.requests > 0;
    if (fresh.requests + stable.requests > 0) {
      lastDataEndMs = minute.startMs + periodMs;
      withData.add(minute.startMs);
      if (!held) counting++;
    }
    if (held) {
      // Evidence against a broken baseline is no evidence: nothing to the comparison, the limit test or the bake, and
      // the latency tests (a percentile over the step) start again after it.
      restartMs = minute.startMs + periodMs;
    } else {
      // Each minute's evidence tempered by its variance inflation, from the minutes BEFORE it (a predictable weight).
      const share = fresh.requests + stable.requests > 0 ? fresh.requests / (fresh.requests + stable.requests) : 0;
      const kRatio = comparisonInflation(fresh.errors + stable.errors, share, tau2);
      effects.forEach((theta, i) => { errorLlrs[i] += errorRatioLlr(fresh.errors, fresh.requests, stable.errors, stable.requests, theta) / kRatio; });
      minuteSignLlrs(fresh.errors, fresh.requests, stable.errors, stable.requests).forEach((l, i) => { signLlrs[i] += l; });
      if (limit > 0) {
        const kCount = countInflation(fresh.requests * limit, tau2);
        effects.forEach((e, i) => { limitLlrs[i] += rateLlr(fresh.errors, fresh.requests, limit, limitAlternative(e)) / kCount; });
      }
      counted.requests += fresh.requests;
      counted.errors += fresh.errors;
      if (stable.requests > 0) {
        dispersion = addDispersion(dispersion, stable.errors, stable.requests);
        tau2 = extraVariance(dispersion);
      }
    }
    // Capped at the threshold: the first crossing (the detection, and so its false-alarm rate) is Page's CUSUM as
    // ever, but a score left to grow during an outage (1e733 after 15 minutes at 5%) would keep a recovered stable
    // color "degraded" for as long again; capped, a few healthy minutes clear it.
    if (stable.requests > 0 && limit > 0) baselineCusum = Math.min(h, cusum(baselineCusum, rateLlr(stable.errors, stable.requests, limit, limit1)));
    degraded = baselineCusum >= h || (degraded && baselineCusum > 0);
  }
  // A minute with data counts toward the bake unless its baseline was degraded. A minute without (ALB publishes
  // nothing for a minute without requests) counts too, so a silent service still reaches the end of its bake (and is
  // INCONCLUSIVE there), but only once it is SILENT_GRACE_MS older than the newest readable minute: until then its
  // data may merely be late.
  let silent = 0;
  for (let m = from; m + periodMs <= data.endMs - SILENT_GRACE_MS; m += periodMs) if (!withData.has(m)) silent++;
  const newMinutes = counting + silent;
  const fresh = totals[targetColor];
  const stable = totals[stableColor];
  const relative: string[] = [];
  const breaches: string[] = [];
  const cleared: string[] = [];
  const beta = seq.missRate ?? DEFAULT_MISS_RATE;
  const lnBeta = Math.log(beta);
  const summary: string[] = [];
  const freshRate = `${targetColor} ${pct(fresh.errors, fresh.requests)} (${fresh.errors} of ${fresh.requests})`;
  const stableRate = `${stableColor} ${pct(stable.errors, stable.requests)} (${stable.errors} of ${stable.requests})`;

  // 5xx vs stable
  const errorLlr = mixtureLlr(errorLlrs);
  const errorText = `5xx this step: ${freshRate} against ${stableRate}; likelihood ratio for "${targetColor} fails ${num(config.errorRateBaselineFactor)}x as often or more" ${formatRatio(errorLlr)}, decides at ${lrError}`;
  /**
   * The guard applies while the overdispersion estimate (all the stable color's minutes so far) is above 0. Not once
   * it ever was: an estimate looked at every minute crosses 0 by chance far more often than once (about 2%), and each
   * such run would wait minutes for the sign test.
   */
  const overdispersed = tau2 > 0;
  const signLlr = mixtureLlr(signLlrs);
  const signText = `the per-minute sign test (valid whatever the bursts; ${targetColor}'s 5xx above ${stableColor}'s, thinned to the same requests) ${formatRatio(signLlr)}, decides at ${lrError}`;
  if (errorLlr >= hError && (!overdispersed || signLlr >= hError)) {
    relative.push(`${targetColor}'s 5xx rate is higher than ${stableColor}'s: ${errorText}${overdispersed ? `; the 5xx are bursty, and ${signText}` : ''}.`);
  } else if (errorLlr >= hError) {
    summary.push(`${errorText}; but the 5xx are bursty, so a rollback also needs ${signText}.`);
  } else summary.push(`${errorText}.`);
  // Acceptance: the smallest regression's own ratio (the mixture's first alternative) at β or below.
  if (stable.requests > 0 && errorLlrs[0] <= lnBeta) {
    cleared.push(`5xx: the evidence rules out ${targetColor} failing ${num(config.errorRateBaselineFactor)}x as often as ${stableColor} or more (likelihood ratio ${formatRatio(errorLlrs[0])}, at most ${num(beta)} clears).`);
  }

  // 5xx limit
  if (tau2 > 0) {
    summary.push(`5xx vary from minute to minute more than chance would (${stableColor}'s rate: coefficient of variation about ${num(Math.sqrt(tau2))}): each minute's 5xx evidence counts for less, by the variance it adds.`);
  }
  if (limit > 0) {
    const absLlr = mixtureLlr(limitLlrs);
    const text = `${targetColor}'s 5xx ${pct(counted.errors, counted.requests)} of ${counted.requests} against the ${num(config.maxErrorRatePercent)}% limit: likelihood ratio for ${num(limit1 * PERCENT)}% or more ${formatRatio(absLlr)}, decides at ${lrError}`;
    if (absLlr >= hError) breaches.push(`${targetColor} breaks the 5xx limit: ${text}.`);
    else summary.push(`${text}.`);
    const minLlr = limitLlrs[0];
    // The comparison favouring a regression (the sign test too, under overdispersion) keeps the limit test from
    // clearing: see FAVOURED_RATIO.
    const lnFavoured = Math.log(FAVOURED_RATIO);
    const favoured = errorLlr >= lnFavoured && (!overdispersed || signLlr >= lnFavoured);
    if (minLlr <= lnBeta && favoured) {
      summary.push(`The limit test rules out ${num(limit1 * PERCENT)}% (likelihood ratio ${formatRatio(minLlr)}), but the comparison with ${stableColor} favours ${targetColor} failing ${num(config.errorRateBaselineFactor)}x as often or more by ${formatRatio(errorLlr)} to 1 (${formatRatio(lnFavoured)} or more keeps the step from clearing on the limit): baking on until the comparison decides.`);
    } else if (minLlr <= lnBeta) {
      cleared.push(`5xx: the evidence rules out ${targetColor} at ${num(limit1 * PERCENT)}% or more (${num(config.errorRateBaselineFactor)}x the ${num(config.maxErrorRatePercent)}% limit; likelihood ratio ${formatRatio(minLlr)}, at most ${num(beta)} clears).`);
    }
  }
  const errorCleared = cleared.length > 0;

  // latency
  let latencyRan = false;
  const latencyCleared: string[] = [];
  const lat = data.latency;
  /**
   * The relative latency test's share of the budget is split between the p50 and the p99 comparison (each decides at
   * 2/alphaPerTest): the median sees a multiplicative slowdown with a ninth of the requests, the p99 a slow tail.
   */
  const hRelative = config.latencyBaselineFactor !== undefined ? threshold(seq.alphaPerTest / 2) : h;
  const lrRelative = formatRatio(hRelative);
  const medianCleared: string[] = [];
  let medianOpen = false;
  /**
   * Whether the stable color still serves traffic (its newest minute has requests). At 100% it served only the shift's
   * minute: its p50 will never get more precise, so an open p50 comparison cannot hold the step (it still fails one).
   */
  const newest = data.minutes.filter((m) => m.startMs >= data.startMs && m.startMs < data.endMs).at(-1);
  const stableStillServes = newest !== undefined && newest.counts[stableColor].requests > 0;
  const p50 = lat[targetColor].p50Ms ?? null;
  const stableP50 = lat[stableColor].p50Ms ?? null;
  if (config.latencyBaselineFactor !== undefined && p50 !== null && stableP50 !== null) {
    if (fresh.requests < MEDIAN_MIN_REQUESTS || stable.requests < MEDIAN_MIN_REQUESTS) {
      summary.push(`p50 latency: ${targetColor} has served ${fresh.requests} and ${stableColor} ${stable.requests} of the ${MEDIAN_MIN_REQUESTS} requests each the p50 comparison needs.`);
    } else {
      const [d45, d55] = lat[stableColor].p45Ms != null ? [lat[stableColor].p45Ms, lat[stableColor].p55Ms] : [lat[targetColor].p45Ms, lat[targetColor].p55Ms];
      const vFresh = logMedianVariance(fresh.requests, d45, d55);
      const vStable = logMedianVariance(stable.requests, d45, d55);
      if (vFresh !== null && vStable !== null) {
        const effects = mixtureEffects(config.latencyBaselineFactor);
        const diff = Math.log(p50 / stableP50);
        const llr = mixtureLlr(effects.map((e) => gaussianLlr(diff, vFresh + vStable, Math.log(e))));
        const text = `p50 latency this step: ${targetColor} ${num(p50)} ms against ${stableColor} ${num(stableP50)} ms; likelihood ratio for "${num(config.latencyBaselineFactor)}x slower or more" ${formatRatio(llr)}, decides at ${lrRelative}`;
        if (llr >= hRelative) relative.push(`${targetColor} is slower than ${stableColor}: ${text}.`);
        else summary.push(`${text}.`);
        const minLlr = gaussianLlr(diff, vFresh + vStable, Math.log(effects[0]));
        if (minLlr <= lnBeta) medianCleared.push(`p50 latency: the evidence rules out ${targetColor} ${num(config.latencyBaselineFactor)}x slower than ${stableColor} at the median or more (likelihood ratio ${formatRatio(minLlr)}, at most ${num(beta)} clears).`);
        else if (stableStillServes) medianOpen = true;
      }
    }
  }
  const p99 = lat[targetColor].p99Ms;
  const floorText = `${fresh.requests} of the ${seq.latencyMinRequests} requests the p99 comparison needs`;
  if (p99 !== null && (config.latencyBaselineFactor !== undefined || config.maxLatencyP99Ms !== undefined)) {
    if (fresh.requests < seq.latencyMinRequests) {
      summary.push(`p99 latency: ${targetColor} has served ${floorText}.`);
    } else {
      const stableP99 = lat[stableColor].p99Ms;
      const density = (c: Color) => [lat[c].p985Ms, lat[c].p995Ms] as const;
      const [s985, s995] = stable.requests > 0 && lat[stableColor].p985Ms !== null ? density(stableColor) : density(targetColor);
      if (config.latencyBaselineFactor !== undefined && stableP99 !== null && stable.requests > 0 && stable.requests < seq.latencyMinRequests) {
        // The same floor for the stable color: a p99 of a few requests (the last step's shift minute) is their maximum.
        summary.push(`p99 latency: ${stableColor} has served ${stable.requests} of the ${seq.latencyMinRequests} requests the p99 comparison needs.`);
      } else if (config.latencyBaselineFactor !== undefined && stableP99 !== null && stable.requests > 0) {
        const vFresh = logQuantileVariance(fresh.requests, s985, s995);
        const vStable = logQuantileVariance(stable.requests, s985, s995);
        if (vFresh !== null && vStable !== null) {
          const latencyEffects = mixtureEffects(config.latencyBaselineFactor);
          const llr = mixtureLlr(latencyEffects.map((e) => gaussianLlr(Math.log(p99 / stableP99), vFresh + vStable, Math.log(e))));
          const text = `p99 latency this step: ${targetColor} ${num(p99)} ms against ${stableColor} ${num(stableP99)} ms; likelihood ratio for "${num(config.latencyBaselineFactor)}x slower or more" ${formatRatio(llr)}, decides at ${lrRelative}`;
          if (llr >= hRelative) relative.push(`${targetColor} is slower than ${stableColor}: ${text}.`);
          else summary.push(`${text}.`);
          latencyRan = true;
          const minLlr = gaussianLlr(Math.log(p99 / stableP99), vFresh + vStable, Math.log(latencyEffects[0]));
          if (minLlr <= lnBeta) latencyCleared.push(`p99 latency: the evidence rules out ${targetColor} ${num(config.latencyBaselineFactor)}x slower than ${stableColor} or more (likelihood ratio ${formatRatio(minLlr)}, at most ${num(beta)} clears).`);
        }
      }
      if (config.maxLatencyP99Ms !== undefined) {
        const [n985, n995] = lat[targetColor].p985Ms !== null ? density(targetColor) : [s985, s995];
        const v = logQuantileVariance(fresh.requests, n985, n995);
        const effect = config.latencyBaselineFactor ?? DEFAULT_LATENCY_EFFECT;
        if (v !== null) {
          const llr = mixtureLlr(mixtureEffects(effect).map((e) => gaussianLlr(Math.log(p99 / config.maxLatencyP99Ms!), v, Math.log(e))));
          const text = `${targetColor}'s p99 ${num(p99)} ms against the ${num(config.maxLatencyP99Ms)} ms limit: likelihood ratio for ${num(effect)}x the limit or more ${formatRatio(llr)}, decides at ${lrLimit}`;
          if (llr >= h) breaches.push(`${targetColor} breaks the p99 latency limit: ${text}.`);
          else summary.push(`${text}.`);
          latencyRan = true;
          const minLlr = gaussianLlr(Math.log(p99 / config.maxLatencyP99Ms), v, Math.log(effect));
          if (minLlr <= lnBeta) latencyCleared.push(`p99 latency: the evidence rules out ${targetColor}'s p99 at ${num(effect)}x the ${num(config.maxLatencyP99Ms)} ms limit or more (likelihood ratio ${formatRatio(minLlr)}, at most ${num(beta)} clears).`);
        }
      }
    }
  }

  // the stable color's own health: its 5xx (CUSUM, minute by minute) and its p99 over the step against the limits
  const degradedNow = (baselineCusum >= h || (degraded && baselineCusum > 0)) && stableStillServes;
  const baselineReasons: string[] = [];
  if (degradedNow) {
    baselineReasons.push(`${stableColor} (the stable color) is degraded: its 5xx rate is ${pct(stable.errors, stable.requests)} this step, against the ${num(config.maxErrorRatePercent)}% limit (CUSUM likelihood ratio ${formatRatio(baselineCusum)}, decides at ${lrLimit}).`);
  }
  const stableP99 = lat[stableColor].p99Ms;
  if (config.maxLatencyP99Ms !== undefined && stableP99 !== null && stable.requests >= seq.latencyMinRequests) {
    // The same test as the new color's p99 limit, on the stable color's own percentiles: a slow baseline is held to it.
    const v = logQuantileVariance(stable.requests, lat[stableColor].p985Ms, lat[stableColor].p995Ms);
    const effect = config.latencyBaselineFactor ?? DEFAULT_LATENCY_EFFECT;
    const llr = v === null ? 0 : mixtureLlr(mixtureEffects(effect).map((e) => gaussianLlr(Math.log(stableP99 / config.maxLatencyP99Ms!), v, Math.log(e))));
    if (llr >= h) {
      baselineReasons.push(`${stableColor} (the stable color) is degraded: its p99 ${num(stableP99)} ms this step against the ${num(config.maxLatencyP99Ms)} ms limit (likelihood ratio for ${num(effect)}x the limit or more ${formatRatio(llr)}, decides at ${lrLimit}).`);
    }
  }
  const baselineDegraded = baselineReasons.length > 0 ? baselineReasons.join(' ') : null;

  return {
    evidence: {
      throughMs: lastDataEndMs, errorLlrs, baselineCusum, newRequests: counted.requests, newErrors: counted.errors,
      ...(restartMs === undefined ? {} : { restartMs }),
      ...(limit > 0 ? { limitLlrs } : {}),
      ...(evidence.trafficPerMinute === undefined ? {} : { trafficPerMinute: evidence.trafficPerMinute }),
      ...(observedStableRate === undefined ? {} : { stableErrorRate: observedStableRate }),
      ...(dispersion.minutes > 0 ? { dispersion } : {}),
      signLlrs,
    },
    totals,
    newMinutes,
    relativeRegressions: relative,
    clearance: [...cleared, ...medianCleared, ...latencyCleared],
    notRuledOut: [
      ...(errorCleared ? [] : ['5xx']), ...(medianOpen ? ['p50 latency'] : []), ...(latencyRan && latencyCleared.length === 0 ? ['p99 latency'] : []),
    ],
    limitBreaches: breaches,
    baselineDegraded,
    summary,
  };
}

/** The p98.5 / p99 / p99.5 statistics the latency tests read (CloudWatch extended statistics; see DENSITY_PERCENTILES). */
export const LATENCY_STATISTICS = {
  p985Ms: 'p98.5',
  p99Ms: 'p99',
  p995Ms: 'p99.5',
} as const;

/** The p45 / p50 / p55 statistics the median test reads (see MEDIAN_DENSITY_PERCENTILES). */
export const MEDIAN_STATISTICS = {
  p45Ms: 'p45',
  p50Ms: 'p50',
  p55Ms: 'p55',
} as const;

/**
 * The likelihood ratio of the 5xx comparison at which the limit test no longer clears a step: 20. The limit test
 * rules out 2x the absolute limit, not a regression against the stable color, so a new color sitting at the limit
 * (a 0.1% baseline going to 1%, at 10 req/s) cleared it before the comparison, which needs many minutes there, reached
 * its threshold: 5% of those regressions were released (benchmark, 200 runs). While the comparison favours a
 * regression 20 to 1 or more the step bakes on (up to its extension, then INCONCLUSIVE). The false-rollback side is
 * untouched (nothing fails on it); on a healthy release the comparison is a nonnegative martingale, so it is ever at
 * 20 or more in at most 5% of steps (Ville), and the benchmark's healthy cells measured none. 1 (the ratio merely
 * above even) was tried: 4.5-6% of healthy 10 req/s releases then ended INCONCLUSIVE.
 */
export const FAVOURED_RATIO = 20;

/**
 * Requests each color must have served in the step before its p50 is compared: the normal approximation of a sample
 * median holds from a few dozen (the p99's needs latencyMinRequests, a thousand by default).
 */
export const MEDIAN_MIN_REQUESTS = 50;
