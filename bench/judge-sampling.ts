/**
 * Seeded sampling for the judge benchmark and the judge's statistical tests: a PRNG, binomial counts, and the
 * sample p98.5 / p99 / p99.5 of log-normal latencies. Reproducible per seed; no dependency.
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

/** z-scores of the percentiles the judge reads. */
const Z = { p985: 2.1700903775845606, p99: 2.3263478740408408, p995: 2.5758293035489004 } as const;
/** Density of the standard normal. */
const phi = (z: number) => Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);

/** A log-normal latency: its median and the sigma of ln(latency). */
export interface LogNormal {
  readonly p50Ms: number;
  readonly sigma: number;
}

/** The log-normal with this p50 and p99 (sigma = ln(p99 / p50) / z99). */
export function logNormal(p50Ms: number, p99Ms: number): LogNormal {
  return { p50Ms, sigma: Math.log(p99Ms / p50Ms) / Z.p99 };
}

/**
 * Running sample percentiles of a color's latencies over a growing number of requests, consistent from look to look:
 * by the Bahadur representation, ln q̂_p ≈ ln q_p + (p − F_n(q_p)) / g_p, where F_n(q_p) is the share of the n requests
 * below the true quantile (a binomial count that accumulates) and g_p the density of ln(latency) there. The latency
 * distribution is taken as constant within a step (the benchmark's regressions are). The approximation is poorer
 * below a few hundred requests; the judge compares p99s only above `latencyMinRequests` (1,000 by default).
 */
export class RunningPercentiles {
  private n = 0;
  private readonly above = { p985: 0, p99: 0, p995: 0 };
  private dist: LogNormal | undefined;

  constructor(private readonly random: () => number) {}

  /** Adds `requests` requests of a color whose latency is `dist`. */
  add(requests: number, dist: LogNormal): void {
    this.dist = dist;
    // Nested: a request above the p99.5 is above the p99 and the p98.5 too.
    const over995 = binomial(requests, 0.005, this.random);
    const over99 = over995 + binomial(requests - over995, 0.005 / 0.995, this.random);
    const over985 = over99 + binomial(requests - over99, 0.005 / 0.99, this.random);
    this.above.p995 += over995;
    this.above.p99 += over99;
    this.above.p985 += over985;
    this.n += requests;
  }

  get requests(): number {
    return this.n;
  }

  /** The sample percentiles in ms (null without requests). */
  percentiles(): { p985Ms: number | null; p99Ms: number | null; p995Ms: number | null } {
    const dist = this.dist;
    if (this.n === 0 || !dist) return { p985Ms: null, p99Ms: null, p995Ms: null };
    const of = (k: 'p985' | 'p99' | 'p995', p: number) => {
      const g = phi(Z[k]) / dist.sigma;
      return Math.exp(Math.log(dist.p50Ms) + dist.sigma * Z[k] + (this.above[k] / this.n - (1 - p)) / g);
    };
    return { p985Ms: of('p985', 0.985), p99Ms: of('p99', 0.99), p995Ms: of('p995', 0.995) };
  }
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 via erf, absolute error < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
