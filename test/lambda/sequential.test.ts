import {
  cusum, errorRatioLlr, gaussianLlr, hypergeometricTails, logQuantileVariance, mixtureLlr, rateLlr, SIGN_BETS, signLlrs, signProbabilities, threshold,
} from '../../lambda/judge/sequential';
import { Random } from '../../rehearsal/random';

describe('sequential statistics', () => {
  test('a test with false-positive rate alpha decides at ln(1/alpha)', () => {
    expect(threshold(0.01)).toBeCloseTo(Math.log(100), 12);
    expect(threshold(0.0005)).toBeCloseTo(7.6009, 4);
    expect(() => threshold(0)).toThrow(/alpha must be between 0 and 1/);
    expect(() => threshold(1)).toThrow(/alpha/);
  });

  test('the 5xx comparison is the conditional binomial likelihood ratio (known values)', () => {
    // Equal exposure: p0 = 1/2, p1 = 2/3 for theta = 2; 3 new errors and 1 stable error.
    expect(errorRatioLlr(3, 100, 1, 100, 2)).toBeCloseTo(3 * Math.log(4 / 3) + Math.log(2 / 3), 12);
    // A 1% canary: p0 = 0.01, p1 = 2 / 101.
    const p0 = 1 / 100;
    const p1 = 2 / 101;
    expect(errorRatioLlr(2, 600, 150, 59400, 2)).toBeCloseTo(2 * Math.log(p1 / p0) + 150 * Math.log((1 - p1) / (1 - p0)), 12);
  });

  test('a window where a color served nothing, or nothing failed, carries no evidence', () => {
    expect(errorRatioLlr(0, 0, 5, 1000, 2)).toBe(0);
    expect(errorRatioLlr(5, 1000, 0, 0, 2)).toBe(0);
    expect(errorRatioLlr(0, 1000, 0, 1000, 2)).toBe(0);
  });

  test('the absolute-limit test is the Bernoulli likelihood ratio of rate1 against rate0 (known values)', () => {
    expect(rateLlr(2, 100, 0.01, 0.02)).toBeCloseTo(2 * Math.log(2) + 98 * Math.log(0.98 / 0.99), 12);
    expect(rateLlr(0, 0, 0.01, 0.02)).toBe(0);
    // Many requests under the limit: strong evidence against H1.
    expect(rateLlr(50, 10000, 0.01, 0.02)).toBeLessThan(-20);
  });

  test('the CUSUM accumulates evidence of a change and resets at 0', () => {
    expect(cusum(0, -3)).toBe(0);
    expect(cusum(2, 1.5)).toBe(3.5);
    expect(cusum(3.5, -5)).toBe(0);
  });

  test('the Gaussian likelihood ratio and the variance of a sample p99 (known values)', () => {
    expect(gaussianLlr(0.5, 0.01, Math.log(1.5))).toBeCloseTo((Math.log(1.5) * 0.5 - Math.log(1.5) ** 2 / 2) / 0.01, 12);
    expect(gaussianLlr(0.5, 0, 1)).toBe(0);
    // Log-normal with sigma 1: ln q98.5 = 2.1701, ln q99.5 = 2.5758, so g = 0.01 / 0.4057; Var = 0.0099 / (n g^2).
    const v = logQuantileVariance(1000, Math.exp(2.1700903775845606), Math.exp(2.5758293035489004))!;
    expect(v).toBeCloseTo((0.99 * 0.01) / (1000 * (0.01 / (2.5758293035489004 - 2.1700903775845606)) ** 2), 12);
    // Near the true density at p99, phi(2.326) = 0.02665: Var ~ 0.0099 / (1000 * 0.02665^2) = 0.01394.
    expect(v).toBeGreaterThan(0.0125);
    expect(v).toBeLessThan(0.017); // the finite difference underestimates the density a little
    expect(logQuantileVariance(1000, null, 2)).toBeNull();
    expect(logQuantileVariance(1000, 3, 2)).toBeNull();
  });

  /**
   * Ville's inequality by simulation: healthy releases (both colors at the same 5xx rate) judged every minute for
   * 30 minutes at alpha = 5%; the share of runs whose likelihood ratio EVER reaches 1/alpha stays below alpha.
   * (alpha is large here only so that a few thousand seeded runs measure it; the bound is the same at 0.05%.)
   */
  test('the 5xx comparison rolls back at most alpha of healthy releases however often it looks (seeded simulation)', () => {
    const random = Random.seeded(20261205, 'sequential-test');
    const alpha = 0.05;
    const h = threshold(alpha);
    const runs = 1000;
    let crossed = 0;
    for (let run = 0; run < runs; run++) {
      let llr = 0;
      let ever = false;
      const newShare = [0.01, 0.05, 0.25, 0.5][run % 4];
      for (let minute = 0; minute < 30; minute++) {
        const requests = 6000;
        const nNew = Math.round(requests * newShare);
        const nStable = requests - nNew;
        llr += errorRatioLlr(random.binomial(nNew, 0.005), nNew, random.binomial(nStable, 0.005), nStable, 2);
        if (llr >= h) ever = true;
      }
      if (ever) crossed++;
    }
    expect(crossed / runs).toBeLessThanOrEqual(alpha);
  });

  /**
   * Exactly, not by simulation: Ville's inequality needs E[likelihood ratio] <= 1 for one window under H0. With both
   * colors failing at the same rate, the expectation over every outcome of two binomials is at most 1 (the
   * conditional law of the new color's share is hypergeometric, less spread than the binomial the ratio assumes),
   * and for a new color better than the stable one it is lower still.
   */
  test('one window\'s likelihood ratio has expectation at most 1 under H0, enumerated exactly', () => {
    const pmf = (n: number, p: number) => {
      const out = [(1 - p) ** n];
      for (let k = 1; k <= n; k++) out.push(out[k - 1] * ((n - k + 1) / k) * (p / (1 - p)));
      return out;
    };
    const expectation = (nNew: number, pNew: number, nStable: number, pStable: number) => {
      const a = pmf(nNew, pNew);
      const b = pmf(nStable, pStable);
      let sum = 0;
      a.forEach((pa, x) => b.forEach((pb, y) => { sum += pa * pb * Math.exp(errorRatioLlr(x, nNew, y, nStable, 2)); }));
      return sum;
    };
    for (const [nNew, nStable, rate] of [[10, 90, 0.05], [60, 5940, 0.005], [300, 300, 0.02]] as const) {
      expect(expectation(nNew, rate, nStable, rate)).toBeLessThanOrEqual(1 + 1e-9);
      expect(expectation(nNew, rate / 2, nStable, rate)).toBeLessThan(1);
    }
    // A real regression grows the ratio: the test has something to find.
    expect(expectation(60, 0.01, 5940, 0.005)).toBeGreaterThan(1);
  });

  test('and catches a doubled 5xx rate in most runs (seeded simulation)', () => {
    const random = Random.seeded(7, 'sequential-test');
    const h = threshold(0.0005);
    let caught = 0;
    for (let run = 0; run < 200; run++) {
      let llr = 0;
      for (let minute = 0; minute < 10 && llr < h; minute++) {
        llr += errorRatioLlr(random.binomial(30000, 0.01), 30000, random.binomial(30000, 0.005), 30000, 2);
      }
      if (llr >= h) caught++;
    }
    expect(caught / 200).toBeGreaterThan(0.9);
  });

  test('the absolute limit rolls back at most alpha of releases exactly at the limit (seeded simulation)', () => {
    const random = Random.seeded(99, 'sequential-test');
    const alpha = 0.05;
    const h = threshold(alpha);
    let crossed = 0;
    for (let run = 0; run < 2000; run++) {
      let errors = 0;
      let requests = 0;
      for (let minute = 0; minute < 30; minute++) {
        requests += 600;
        errors += random.binomial(600, 0.01);
        if (rateLlr(errors, requests, 0.01, 0.02) >= h) {
          crossed++;
          break;
        }
      }
    }
    expect(crossed / 2000).toBeLessThanOrEqual(alpha);
  });
});

describe('the sign test: the distribution-free guard of the 5xx comparison', () => {
  /** Hypergeometric pmf by counting (small populations): C(K, k) C(N − K, m − k) / C(N, m). */
  const choose = (n: number, k: number) => {
    let c = 1;
    for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
    return c;
  };
  const tails = (N: number, K: number, m: number, x: number) => {
    let below = 0;
    let above = 0;
    for (let k = 0; k <= Math.min(m, K); k++) {
      const p = (choose(K, k) * choose(N - K, m - k)) / choose(N, m);
      if (k < x) below += p;
      if (k > x) above += p;
    }
    return { below, above };
  };

  test('the thinning\'s tails are the hypergeometric law, counted exactly', () => {
    for (const [N, K, m, x] of [[20, 5, 8, 2], [50, 10, 10, 0], [50, 10, 10, 3], [30, 0, 10, 1], [12, 12, 5, 5]] as const) {
      const got = hypergeometricTails(N, K, m, x);
      const want = tails(N, K, m, x);
      expect(got.below).toBeCloseTo(want.below, 12);
      expect(got.above).toBeCloseTo(want.above, 12);
    }
  });

  test('the color with more requests is thinned to the other\'s count: a 5xx of the small color weighs as much as its share of the large one', () => {
    // New 60 requests, 1 error; stable 6,000, 10 errors: 60 of its requests hold 0 errors with probability ~0.90.
    const p = signProbabilities(1, 60, 10, 6000);
    const zero = tails(6000, 10, 60, 1).below;
    expect(p.up).toBeCloseTo(zero, 10);
    expect(p.down).toBeCloseTo(tails(6000, 10, 60, 1).above, 10);
    // The same counts with the roles swapped: the new color is thinned.
    const q = signProbabilities(10, 6000, 1, 60);
    expect(q.up).toBeCloseTo(p.down, 10);
    expect(q.down).toBeCloseTo(p.up, 10);
    // Nothing failed, or a color served nothing: no bet.
    expect(signProbabilities(0, 600, 0, 600)).toEqual({ up: 0, down: 0 });
    expect(signProbabilities(3, 600, 3, 0)).toEqual({ up: 0, down: 0 });
    expect(signLlrs(0, 600, 0, 600)).toEqual(SIGN_BETS.map(() => 0));
  });

  /**
   * The property the guard exists for: each color's 5xx rate varies from minute to minute (rate × G, G ~ Gamma with
   * coefficient of variation 1, independently per color), far from the Poisson counts the conditional binomial
   * assumes. Healthy releases, judged every minute for 30 minutes at alpha = 5%: the conditional binomial alone
   * "finds" a regression in most runs at this traffic; the sign test's mixture over its bets stays within alpha.
   */
  test('under bursty 5xx the sign test rolls back at most alpha of healthy releases, where the conditional binomial fails most (seeded simulation)', () => {
    const random = Random.seeded(20261205, 'sign-test');
    const alpha = 0.05;
    const h = threshold(alpha);
    const runs = 400;
    let signCrossed = 0;
    let binomialCrossed = 0;
    const bursty = (rate: number) => (rate * random.gamma(1)) / 1;
    for (let run = 0; run < runs; run++) {
      const sign = SIGN_BETS.map(() => 0);
      let binomial = 0;
      let signEver = false;
      let binomialEver = false;
      const newShare = [0.01, 0.05, 0.25, 0.5][run % 4];
      for (let minute = 0; minute < 30; minute++) {
        const nNew = random.poisson(60_000 * newShare);
        const nStable = random.poisson(60_000 * (1 - newShare));
        const eNew = random.binomial(nNew, Math.min(1, bursty(0.005)));
        const eStable = random.binomial(nStable, Math.min(1, bursty(0.005)));
        signLlrs(eNew, nNew, eStable, nStable).forEach((l, i) => { sign[i] += l; });
        binomial += errorRatioLlr(eNew, nNew, eStable, nStable, 2);
        if (mixtureLlr(sign) >= h) signEver = true;
        if (binomial >= h) binomialEver = true;
      }
      if (signEver) signCrossed++;
      if (binomialEver) binomialCrossed++;
    }
    expect(signCrossed / runs).toBeLessThanOrEqual(alpha);
    expect(binomialCrossed / runs).toBeGreaterThan(0.3);
  });

  test('one minute\'s sign e-value has expectation at most 1 when the colors are exchangeable, enumerated exactly', () => {
    // Both colors' rates drawn from the same two-point law (calm 0.2%, burst 5%), independently; counts binomial.
    const pmf = (n: number, p: number) => {
      const out = [(1 - p) ** n];
      for (let k = 1; k <= n; k++) out.push(out[k - 1] * ((n - k + 1) / k) * (p / (1 - p)));
      return out;
    };
    const mix = (n: number) => {
      const a = pmf(n, 0.002);
      const b = pmf(n, 0.05);
      return a.map((p, k) => 0.8 * p + 0.2 * b[k]);
    };
    for (const [nNew, nStable] of [[20, 400], [100, 100], [300, 40]] as const) {
      const a = mix(nNew);
      const b = mix(nStable);
      const expectation = SIGN_BETS.map((_, i) => {
        let sum = 0;
        a.forEach((pa, x) => b.forEach((pb, y) => { if (pa * pb > 1e-300) sum += pa * pb * Math.exp(signLlrs(x, nNew, y, nStable)[i]); }));
        return sum;
      });
      expectation.forEach((e) => expect(e).toBeLessThanOrEqual(1 + 1e-9));
    }
  });

  test('and catches a clear regression within about ten minutes at any traffic (seeded simulation)', () => {
    const random = Random.seeded(11, 'sign-test');
    const h = threshold(0.0025);
    let caught = 0;
    for (let run = 0; run < 100; run++) {
      const sign = SIGN_BETS.map(() => 0);
      for (let minute = 0; minute < 15 && mixtureLlr(sign) < h; minute++) {
        const eNew = random.binomial(3000, 0.05 * random.gamma(4) / 4);
        const eStable = random.binomial(57_000, 0.005 * random.gamma(4) / 4);
        signLlrs(eNew, 3000, eStable, 57_000).forEach((l, i) => { sign[i] += l; });
      }
      if (mixtureLlr(sign) >= h) caught++;
    }
    expect(caught / 100).toBeGreaterThan(0.9);
  });
});
