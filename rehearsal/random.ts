/**
 * Seeded randomness for the rehearsal: a small PRNG and the few distributions the stochastic traffic model draws
 * from. Everything is reproducible per seed, and every draw is made from a stream named by what it is for
 * (`Random.seeded(seed, 'second', 42)`), so the numbers of one second or one period never depend on the order in
 * which anything was asked.
 *
 * Sources (each algorithm is the published one, written out here; no dependency):
 * - PRNG: mulberry32 by Tommy Ettinger (public domain, 2017; https://gist.github.com/tommyettinger/46a874533244883189143505d203312c),
 *   a 32-bit state generator that passes PractRand to 2^32 bytes; plenty for a simulation, not for cryptography.
 * - Stream seeds: the 32-bit finalizer `fmix32` of MurmurHash3 (Austin Appleby, public domain) over the seed and
 *   the stream's name, so neighbouring streams (second 41, second 42) are unrelated.
 * - Normal: Box-Muller (1958). Gamma: Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS
 *   26(3), 2000 (shape < 1 by Gamma(a + 1) * U^(1/a)). Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b).
 * - Poisson: Knuth's product of uniforms below a mean of 10 (TAOCP vol. 2, 3.4.1), Hörmann's PTRS above it
 *   ("The transformed rejection method for generating Poisson random variables", Insurance: Mathematics and
 *   Economics 12, 1993; the constants as in NumPy's random_poisson_ptrs).
 * - Binomial: inversion (sequential search) while n * min(p, 1 - p) < 10, Hörmann's BTRS above it ("The
 *   generation of binomial random variates", J. Statist. Comput. Simul. 46, 1993; as in TensorFlow's
 *   random_binomial_op).
 * - log Gamma: Lanczos' approximation with g = 7 and 9 coefficients (relative error below 1e-14 for x > 0).
 */

const TWO_POW_32 = 4294967296;
/** Weyl increment of mulberry32. */
const MULBERRY_INCREMENT = 0x6d2b79f5;
/** 2^32 / golden ratio: separates the seed from the first key. */
const GOLDEN_GAMMA_32 = 0x9e3779b9;
/** Below this mean (Poisson) or n * min(p, 1 - p) (binomial), the simple exact methods are fast enough. */
const SMALL_MEAN = 10;
const LANCZOS_G = 7;
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** The mulberry32 generator: a function returning uniform numbers in [0, 1) with 2^-32 resolution. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + MULBERRY_INCREMENT) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_POW_32;
  };
}

/** MurmurHash3's 32-bit finalizer: a bijection of 32-bit integers with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit seed of the stream `keys` under `seed` (numbers up to 2^53 and strings are both mixed in whole). */
export function streamSeed(seed: number, keys: ReadonlyArray<number | string>): number {
  let h = fmix32((seed >>> 0) ^ GOLDEN_GAMMA_32);
  const add = (word: number) => { h = fmix32((h ^ fmix32(word >>> 0)) + GOLDEN_GAMMA_32); };
  add(Math.floor(seed / TWO_POW_32));
  for (const key of keys) {
    if (typeof key === 'number') {
      if (!Number.isFinite(key)) throw new Error(`streamSeed: keys must be finite numbers or strings, got ${key}`);
      const whole = Math.round(key);
      add(whole >>> 0);
      add(Math.floor(whole / TWO_POW_32));
    } else {
      add(key.length);
      for (let i = 0; i < key.length; i++) add(key.charCodeAt(i));
    }
  }
  return h;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new Error(`logGamma: x must be > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Refuses a seed of the stochastic models that is not a whole number, naming `what` (absent: the deterministic model). */
export function checkSeed(seed: number | undefined, what: string): void {
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new Error(`${what}: seed must be a whole number (or absent for the deterministic model), got ${seed}`);
  }
}

/** A seeded source of random numbers (one stream). */
export class Random {
  /** The stream `keys` of `seed`: the same seed and keys always give the same numbers. */
  static seeded(seed: number, ...keys: ReadonlyArray<number | string>): Random {
    if (!Number.isSafeInteger(seed)) throw new Error(`Random: seed must be an integer, got ${seed}`);
    return new Random(mulberry32(streamSeed(seed, keys)));
  }

  private constructor(private readonly next: () => number) {}

  /** Uniform in the open interval (0, 1): never 0, so its logarithm is finite. */
  uniform(): number {
    return this.next() + 0.5 / TWO_POW_32;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** Gamma with this shape and scale 1 (Marsaglia-Tsang). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new Error(`Random.gamma: shape must be > 0, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Beta(a, b), a, b > 0. */
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    return x / (x + this.gamma(b));
  }

  /** Poisson with this mean (0 for a mean of 0). */
  poisson(mean: number): number {
    if (!(mean >= 0) || !Number.isFinite(mean)) throw new Error(`Random.poisson: mean must be a finite number >= 0, got ${mean}`);
    if (mean === 0) return 0;
    if (mean < SMALL_MEAN) {
      const limit = Math.exp(-mean);
      let k = 0;
      let product = this.uniform();
      while (product > limit) {
        k++;
        product *= this.uniform();
      }
      return k;
    }
    return this.poissonPtrs(mean);
  }

  /** Binomial: successes among n trials of probability p. */
  binomial(n: number, p: number): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`Random.binomial: n must be a whole number >= 0, got ${n}`);
    if (!(p >= 0 && p <= 1)) throw new Error(`Random.binomial: p must be from 0 to 1, got ${p}`);
    if (n === 0 || p === 0) return 0;
    if (p === 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    return n * p < SMALL_MEAN ? this.binomialInversion(n, p) : this.binomialBtrs(n, p);
  }

  private poissonPtrs(mean: number): number {
    const sqrtMean = Math.sqrt(mean);
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * sqrtMean;
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.uniform() - 0.5;
      const v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor((2 * a / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logMean - logGamma(k + 1)) return k;
    }
  }

  private binomialInversion(n: number, p: number): number {
    const q = 1 - p;
    const qn = Math.exp(n * Math.log(q));
    const np = n * p;
    const bound = Math.min(n, np + 10 * Math.sqrt(np * q + 1));
    let x = 0;
    let px = qn;
    let u = this.uniform();
    while (u > px) {
      x++;
      if (x > bound) {
        x = 0;
        px = qn;
        u = this.uniform();
      } else {
        u -= px;
        px = ((n - x + 1) * p * px) / (x * q);
      }
    }
    return x;
  }

  private binomialBtrs(n: number, p: number): number {
    const q = 1 - p;
    const spq = Math.sqrt(n * p * q);
    const b = 1.15 + 2.53 * spq;
    const a = -0.0873 + 0.0248 * b + 0.01 * p;
    const c = n * p + 0.5;
    const vr = 0.92 - 4.2 / b;
    const alpha = (2.83 + 5.1 / b) * spq;
    const lpq = Math.log(p / q);
    const m = Math.floor((n + 1) * p);
    const h = logGamma(m + 1) + logGamma(n - m + 1);
    for (;;) {
      const u = this.uniform() - 0.5;
      let v = this.uniform();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor((2 * a / us + b) * u + c);
      if (k < 0 || k > n) continue;
      if (us >= 0.07 && v <= vr) return k;
      v = Math.log((v * alpha) / (a / (us * us) + b));
      if (v <= h - logGamma(k + 1) - logGamma(n - k + 1) + (k - m) * lpq) return k;
    }
  }
}
