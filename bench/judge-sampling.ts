/**
 * Seeded sampling for the judge benchmark and the judge's statistical tests: a PRNG, Poisson and binomial counts, a
 * log-normal latency. Reproducible per seed; no dependency.
 */

/** A seeded pseudo-random generator (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller). */
export function normal(random: () => number): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A Poisson draw: Knuth's product method below a mean of 30, a rounded normal (continuity-corrected) above. */
export function poisson(mean: number, random: () => number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let p = random();
    while (p > limit) {
      k++;
      p *= random();
    }
    return k;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
}

/**
 * A Binomial(n, p) draw: exact Bernoulli trials for n <= 50, Poisson(np) when np < 30 (a rare-event count), else a
 * rounded normal with the binomial's variance. Clamped to [0, n].
 */
export function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n <= 50) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  const mean = n * p;
  const draw = mean < 30 ? poisson(mean, random) : Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random));
  return Math.min(n, Math.max(0, draw));
}

/** z-score of the 99th percentile of a standard normal distribution. */
const Z_P99 = 2.3263478740408408;

/** A log-normal latency: its median and the sigma of ln(latency). */
export interface LogNormal {
  readonly p50Ms: number;
  readonly sigma: number;
}

/** The log-normal with this p50 and p99 (sigma = ln(p99 / p50) / z99). */
export function logNormal(p50Ms: number, p99Ms: number): LogNormal {
  return { p50Ms, sigma: Math.log(p99Ms / p50Ms) / Z_P99 };
}
