/**
 * The statistics of the sequential judge: likelihood ratios that stay valid however often they are looked at.
 *
 * Every test here is a sequential probability ratio test (SPRT) of a null hypothesis H0 ("the new color is no worse")
 * against one alternative H1 ("it is worse by the smallest regression worth catching"). Under H0 the running product
 * of likelihood ratios is a nonnegative (super)martingale with mean at most 1, so by Ville's inequality the chance
 * that it EVER reaches 1/alpha, at any number of looks, is at most alpha (Wald 1945; Ville 1939; the "always valid
 * p-values" of Johari, Pekelis, Walsh, "Peeking at A/B Tests", KDD 2017; the count comparison of Lindon, Sanden,
 * Shirikian, "Rapid Regression Detection in Software Deployments through Sequential Testing", Netflix, KDD 2022).
 * The functions are pure and work on logarithms (a product of many ratios underflows).
 */
import type { DispersionSums } from '../shared/contracts';

/**
 * The alternatives of a mixture: the smallest regression worth catching and its powers, `MIXTURE_SIZE` of them
 * (factor 2: 2x, 4x, 8x, 16x, 32x), each with weight 1/MIXTURE_SIZE. A mixture of likelihood ratios with fixed weights
 * is still a martingale under H0 (the mixture SPRT; Robbins 1970), so Ville's bound holds; it pays ln(MIXTURE_SIZE)
 * of evidence for not knowing the size of the regression, and gains far more on large ones (a 10x regression is
 * caught by its 8x component in a fraction of the 2x SPRT's time).
 */
export const MIXTURE_SIZE = 5;

/** The mixture's effect sizes for a smallest effect `minEffect` (> 1). */
export function mixtureEffects(minEffect: number): number[] {
  return Array.from({ length: MIXTURE_SIZE }, (_, i) => minEffect ** (i + 1));
}

/** ln of the equally weighted mixture of the likelihood ratios exp(llrs[i]) (log-sum-exp, no overflow). */
export function mixtureLlr(llrs: readonly number[]): number {
  if (llrs.length === 0) return 0;
  const max = Math.max(...llrs);
  return max + Math.log(llrs.reduce((a, l) => a + Math.exp(l - max), 0) / llrs.length);
}

/** The log-likelihood ratio at which a test with false-positive rate `alpha` decides: ln(1 / alpha). */
export function threshold(alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be between 0 and 1 (exclusive), got ${alpha}`);
  return Math.log(1 / alpha);
}

/**
 * Log-likelihood ratio of one window of two Poisson (or rare-event binomial) error counts, conditional on their sum.
 *
 * The new color made `newErrors` of its errors over `newRequests` requests, the stable color `stableErrors` over
 * `stableRequests`, in the same window. Given the total t = newErrors + stableErrors, the new color's share is
 * Binomial(t, p) with p = theta·n_new / (theta·n_new + n_stable), where theta is the ratio of the two error rates.
 * H0: theta = 1 (p0 = n_new / (n_new + n_stable)) against H1: theta = `minEffect`. For theta < 1 (the new color is
 * better) the expected ratio is below 1, so the product is a supermartingale for the composite H0: theta <= 1.
 * The stable color's rate never needs to be known: conditioning on the total removes it (the nuisance parameter).
 * A window where either color served nothing, or nothing failed, carries no evidence: 0.
 */
export function errorRatioLlr(newErrors: number, newRequests: number, stableErrors: number, stableRequests: number, minEffect: number): number {
  if (newRequests <= 0 || stableRequests <= 0 || newErrors + stableErrors <= 0) return 0;
  const p0 = newRequests / (newRequests + stableRequests);
  const p1 = (minEffect * newRequests) / (minEffect * newRequests + stableRequests);
  return newErrors * Math.log(p1 / p0) + stableErrors * Math.log((1 - p1) / (1 - p0));
}

/**
 * Log-likelihood ratio of `errors` failures in `requests` Bernoulli trials for H1: rate = `rate1` against
 * H0: rate = `rate0` (rate1 > rate0). For a true rate below rate0 the product is a supermartingale, so this tests
 * the composite H0: rate <= rate0 (an absolute limit). Cumulative counts give the product over their windows.
 */
export function rateLlr(errors: number, requests: number, rate0: number, rate1: number): number {
  if (requests <= 0) return 0;
  const r1 = Math.min(rate1, 1 - 1e-12);
  return errors * Math.log(r1 / rate0) + (requests - errors) * Math.log((1 - r1) / (1 - rate0));
}

/**
 * One step of Page's CUSUM: the evidence that a rate has CHANGED to the alternative, reset at 0, so that a long
 * healthy past does not delay the detection of a change (used for the stable color, which is watched for a change,
 * not tested once). Its false-alarm rate is one per about exp(h) windows under H0 (Lorden 1971).
 */
export function cusum(previous: number, llr: number): number {
  return Math.max(0, previous + llr);
}

/** p of the percentile the latency tests compare (CloudWatch's p99). */
export const LATENCY_PERCENTILE = 0.99;
/** The two percentiles around p99 whose distance gives the density at p99: p98.5 and p99.5. */
export const DENSITY_PERCENTILES = [0.985, 0.995] as const;

/**
 * The variance of the log of a sample p99 over `requests` requests, per the asymptotic normality of sample quantiles:
 * Var(ln q̂) = p(1 - p) / (n · g²), where g is the density of ln(latency) at the p99, estimated from the p98.5 and
 * p99.5 of the same data (g ≈ 0.01 / (ln q99.5 − ln q98.5)). Null when the density cannot be estimated.
 */
export function logQuantileVariance(requests: number, q985: number | null, q995: number | null): number | null {
  if (requests <= 0 || q985 === null || q995 === null || !(q985 > 0) || !(q995 > q985)) return null;
  const g = (DENSITY_PERCENTILES[1] - DENSITY_PERCENTILES[0]) / (Math.log(q995) - Math.log(q985));
  return (LATENCY_PERCENTILE * (1 - LATENCY_PERCENTILE)) / (requests * g * g);
}

/** p of the lower percentile the relative latency test also compares (CloudWatch's p50). */
export const MEDIAN_PERCENTILE = 0.5;
/** The two percentiles around p50 whose distance gives the density at p50: p45 and p55. */
export const MEDIAN_DENSITY_PERCENTILES = [0.45, 0.55] as const;

/**
 * The same as logQuantileVariance for the sample median: Var(ln q̂50) = 0.25 / (n · g²), g the density of ln(latency)
 * at the p50, estimated from the p45 and p55 (g ≈ 0.1 / (ln q55 − ln q45)). A multiplicative slowdown moves the p50 as
 * much as the p99 (in logs), and the median's variance is far smaller: for a log-normal with p50 40 ms and p99 180 ms,
 * 0.66 / n against 5.8 / n at the p99, so a ×1.6 slowdown shows in about a ninth of the requests, and the normal
 * approximation holds from a few dozen requests (n·min(p, 1−p) well above 1) where the p99's needs a thousand.
 */
export function logMedianVariance(requests: number, q45: number | null | undefined, q55: number | null | undefined): number | null {
  if (requests <= 0 || q45 == null || q55 == null || !(q45 > 0) || !(q55 > q45)) return null;
  const g = (MEDIAN_DENSITY_PERCENTILES[1] - MEDIAN_DENSITY_PERCENTILES[0]) / (Math.log(q55) - Math.log(q45));
  return (MEDIAN_PERCENTILE * (1 - MEDIAN_PERCENTILE)) / (requests * g * g);
}

/**
 * Log-likelihood ratio of a Gaussian observation `difference` ~ N(delta, variance): H1 delta = `delta1` against
 * H0 delta = 0 (delta1 > 0). When the observation is a running estimate whose information 1/variance grows with
 * independent increments (a sample quantile over accumulating data, by its Bahadur representation), this is the
 * SPRT of a Brownian motion with drift, a martingale under H0 at every look; for a true delta below 0 it is a
 * supermartingale.
 */
export function gaussianLlr(difference: number, variance: number, delta1: number): number {
  if (!(variance > 0)) return 0;
  return (delta1 * difference - (delta1 * delta1) / 2) / variance;
}

/**
 * Overdispersion of the 5xx: running sums of the stable color's per-minute requests n and 5xx e, for a
 * method-of-moments estimate of the extra variance. Under the tests' assumption (Poisson within a minute at a rate p),
 * e has variance mu = n·p; when the rate itself varies from minute to minute (a sick host, a retry storm: p × G,
 * Var(G) = tau²) it is mu + mu²·tau² (the negative binomial's NB2 form). The rate p is the pooled rate of the same
 * minutes (Σe / Σn), not a rate observed beforehand: a plug-in rate from a few bursty minutes is off by as much as a
 * burst, and every later minute's deviation from it would read as more overdispersion than there is.
 */
export type { DispersionSums };

export const NO_DISPERSION: DispersionSums = { minutes: 0, requests: 0, errors: 0, errorsSquared: 0, cross: 0, requestsSquared: 0 };

/** The sums with one more minute of `errors` in `requests`. */
export function addDispersion(sums: DispersionSums, errors: number, requests: number): DispersionSums {
  if (!(requests > 0)) return sums;
  return {
    minutes: sums.minutes + 1,
    requests: sums.requests + requests,
    errors: sums.errors + errors,
    errorsSquared: sums.errorsSquared + errors * errors,
    cross: sums.cross + requests * errors,
    requestsSquared: sums.requestsSquared + requests * requests,
  };
}

/**
 * tau², the squared coefficient of variation of the 5xx rate from minute to minute: with p = Σe / Σn and mu = n·p,
 * (Σ (e − mu)² · M / (M − 1) − Σ e) / Σ mu² (M minutes; M / (M − 1) for the rate fitted to the same minutes), less
 * two of its standard errors under Poisson counts (sqrt(Σ (2·mu² + mu))), so that sampling noise alone does not temper
 * the tests (about 2% of estimates of a steady rate come out above 0), never below 0. 0 from fewer than 2 minutes.
 */
export function extraVariance(sums: DispersionSums): number {
  if (sums.minutes < 2 || !(sums.errors > 0) || !(sums.requests > 0)) return 0;
  const p = sums.errors / sums.requests;
  const squares = Math.max(0, sums.errorsSquared - 2 * p * sums.cross + p * p * sums.requestsSquared);
  const mu2 = p * p * sums.requestsSquared;
  const excess = (squares * sums.minutes) / (sums.minutes - 1) - sums.errors;
  return Math.max(0, (excess - 2 * Math.sqrt(2 * mu2 + sums.errors)) / mu2);
}

/**
 * The variance inflation of one minute's conditional binomial (the new color's share of `totalErrors` 5xx, its share
 * of the requests w) when each color's rate varies independently from minute to minute with squared coefficient of
 * variation tau²: the share itself then varies, by about w(1 − w)·(R − 1) with R the ratio of the two colors' rate
 * factors, so Var = t·w(1 − w)·(1 + (t − 1)·w(1 − w)·Var(R)). For Gamma-distributed factors (shape k = 1/tau²),
 * R is F-distributed and Var(R) = k(2k − 1) / ((k − 1)²(k − 2)), which is about 2·tau² for small tau² and has no
 * finite value for k <= 2 (tau² >= 1/2): then one minute's comparison says nothing reliable, and the minute is given
 * no weight (Infinity). The minute's log-likelihood ratio is divided by the inflation (a quasi-likelihood: a minute
 * whose counts carry less information than a binomial's counts for as much less), so the product stays close to a
 * martingale under the null.
 */
export function comparisonInflation(totalErrors: number, w: number, tau2: number): number {
  if (!(tau2 > 0) || totalErrors <= 1 || !(w > 0 && w < 1)) return 1;
  const k = 1 / tau2;
  if (k <= 2) return Infinity;
  const varRatio = (k * (2 * k - 1)) / ((k - 1) ** 2 * (k - 2));
  return 1 + (totalErrors - 1) * w * (1 - w) * varRatio;
}

/** The variance inflation of a count with expected value `expected` whose rate varies with tau²: 1 + expected·tau². */
export function countInflation(expected: number, tau2: number): number {
  return tau2 > 0 && expected > 0 ? 1 + expected * tau2 : 1;
}

/**
 * The distribution-free guard of the 5xx comparison: a per-minute sign test of the two colors' 5xx, valid whatever
 * the 5xx do from minute to minute (bursts of any size and shape), where the conditional binomial above assumes they
 * are Poisson within a minute and its tempering (comparisonInflation) rests on an estimate of their variation.
 *
 * Assumptions (each minute, given both colors' request counts): every request of color c fails independently with
 * the minute's probability lambda·G_c, lambda the minute's common conditions (any value, any change from minute to
 * minute), G_c the color's own factor (a sick host, a retry storm); the request counts do not depend on the factors.
 * H0 ("the new color is no worse"): the pair (G_new, G_stable) is exchangeable within the minute (same distribution,
 * possibly dependent, any distribution at all; for a new color that is better, G_new is stochastically smaller).
 * Nothing is assumed about lambda, about the factors' distribution, or about how minutes depend on one another beyond
 * that this holds given the past.
 *
 * The test. Thin the color with more requests to the other's count m (a simple random sample of m of its requests,
 * without replacement): its 5xx in the sample are hypergeometric given its counts, and given G_c they are
 * Binomial(m, lambda·G_c), the same law as the smaller color's 5xx. Under H0 the two counts are then exchangeable, so
 * the chance that the new color's count is the larger equals the chance that it is the smaller (at most, for a better
 * new color). The minute's e-value is 1 + b·(P(new larger) − P(new smaller)), the probabilities over the thinning
 * (computed exactly, no random draw: the average of e-values over an independent randomisation is an e-value), b in
 * [0, 1) the bet: its expectation under H0 is at most 1, so the product over the minutes is a nonnegative
 * supermartingale and Ville's inequality bounds the chance that it ever reaches 1/alpha by alpha (testing by betting:
 * Shafer 2021; Ramdas, Grünwald, Vovk, Shafer, "Game-theoretic statistics and safe anytime-valid inference", 2023;
 * the sign test as a betting martingale: Waudby-Smith & Ramdas 2023).
 *
 * Its price: each minute is one pair, so it gains at most ln 2 a minute (about nine minutes of a clear regression to
 * reach the 5xx tests' threshold), whatever the traffic; the conditional binomial, where its assumption holds, decides
 * in one minute at high traffic. So it is a guard: under detected overdispersion the comparison FAILs only when both
 * reach their threshold (the failure is then inside the sign test's event, whose chance under H0 is at most alpha
 * under the assumptions above, whatever the bursts).
 */
export const SIGN_BETS = [0.25, 0.5, 0.75, 0.95] as const;

/** P(new color's thinned 5xx > the stable color's) and P(<), over the thinning of the larger color (see SIGN_BETS). */
export function signProbabilities(newErrors: number, newRequests: number, stableErrors: number, stableRequests: number): { up: number; down: number } {
  if (newRequests <= 0 || stableRequests <= 0 || newErrors + stableErrors <= 0) return { up: 0, down: 0 };
  // Thin the color with more requests to the other's count; its thinned 5xx X ~ Hypergeometric(N, K, m).
  const newThinned = newRequests > stableRequests;
  const [N, K, m, fixed] = newThinned
    ? [newRequests, newErrors, stableRequests, stableErrors]
    : [stableRequests, stableErrors, newRequests, newErrors];
  const { below, above } = hypergeometricTails(N, K, m, fixed);
  // newThinned: the new color is X; up = P(X > fixed). Else the stable color is X; up = P(X < fixed).
  return newThinned ? { up: above, down: below } : { up: below, down: above };
}

/** log weights smaller than the largest by this much are left out of the hypergeometric sums (e^-40: nothing). */
const NEGLIGIBLE_LOG = 40;

/** P(X < x) and P(X > x) for X ~ Hypergeometric(population N, K successes, m draws), by the ratio of successive terms. */
export function hypergeometricTails(N: number, K: number, m: number, x: number): { below: number; above: number } {
  const lo = Math.max(0, m + K - N);
  const hi = Math.min(m, K);
  // Start at the mode (no underflow), walk both ways with pmf(k+1)/pmf(k) = (K−k)(m−k) / ((k+1)(N−K−m+k+1)).
  const mode = Math.min(hi, Math.max(lo, Math.floor(((m + 1) * (K + 1)) / (N + 2))));
  let total = 1;
  let below = 0;
  let above = 0;
  const add = (k: number, w: number) => {
    total += w;
    if (k < x) below += w;
    else if (k > x) above += w;
  };
  if (mode < x) below += 1;
  else if (mode > x) above += 1;
  let w = 1;
  for (let k = mode; k < hi; k++) {
    w *= ((K - k) * (m - k)) / ((k + 1) * (N - K - m + k + 1));
    if (!(w > Math.exp(-NEGLIGIBLE_LOG))) break;
    add(k + 1, w);
  }
  w = 1;
  for (let k = mode; k > lo; k--) {
    w *= (k * (N - K - m + k)) / ((K - k + 1) * (m - k + 1));
    if (!(w > Math.exp(-NEGLIGIBLE_LOG))) break;
    add(k - 1, w);
  }
  return { below: below / total, above: above / total };
}

/** ln of the minute's e-value per bet of SIGN_BETS: ln(1 + b·(up − down)). */
export function signLlrs(newErrors: number, newRequests: number, stableErrors: number, stableRequests: number): number[] {
  const { up, down } = signProbabilities(newErrors, newRequests, stableErrors, stableRequests);
  return SIGN_BETS.map((b) => Math.log(1 + b * (up - down)));
}
