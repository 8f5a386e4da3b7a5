/**
 * The application's per-variant metrics in the rehearsal: a MetricSource for FakeCloudWatch that answers the
 * Requests / Errors / Latency an application publishes with VariantMetrics (namespace, dimensions Service, Flag,
 * Variant), computed from the flags document AppConfig holds at each minute. Which users get which variant is the
 * real evaluator's answer (lambda/flags/evaluator.ts) for a fixed population of users, so the share of the treatment
 * is what the phase's rule really gives, bucket by bucket.
 *
 * A variant behaves as a BehaviourProfile, the traffic rollout's (rehearsal/traffic-model.ts: baseline error rate,
 * log-normal latency, regressions), read by its behaviourAt() minute by minute: a regression's window counts from
 * the rollout's start (`originMs`) and its minWeightPercent is the variant's share of the users, percent. A variant
 * whose profile sets no baseline fails DEFAULT_VARIANT_ERROR_RATE_PERCENT of its requests.
 *
 * Two models, as the traffic rollout's:
 * - deterministic (no seed, the default): expected counts (fractions of requests), the lognormal's own percentiles;
 * - stochastic (a seed): a variant's requests in a minute are Poisson with the expected count, its errors binomial
 *   among them at its error rate (those above the baseline, the regression's, binomial among the errors: the same law
 *   as the traffic model's two draws), and a latency percentile of a period is the order statistic of its n requests
 *   (the k-th of n uniform draws is Beta(k, n + 1 - k), mapped through the period's latency). Each minute and each
 *   period has its own stream (seed, variant, minute / period; rehearsal/random.ts): the same seed gives the same
 *   traffic whatever is read, in whatever order, and a period's Sum is the sum of its minutes.
 * - A period's latency is that of its minutes' requests: one log-normal while the variant's latency did not change
 *   in it, else their request-weighted mixture.
 */
import { evaluate } from '../lambda/flags/evaluator';
import { parseFlagsDocument } from '../lambda/flags/validate';
import type { FlagRolloutConfig } from '../lambda/flag-rollout/flag-rollout-contract';
import { VariantDimension, VariantMetric } from '../lambda/flag-rollout/flag-rollout-contract';
import type { FakeAppConfig, MetricQuery, MetricSource } from './fakes';
import { percentileOf } from './fakes';
import { checkSeed, Random } from './random';
import { BehaviourProfile, behaviourAt, LatencyProfile, logNormalSigma, mixtureQuantile } from './traffic-model';

/** Percent of a variant's requests that fail when its profile sets no baselineErrorRatePercent. */
export const DEFAULT_VARIANT_ERROR_RATE_PERCENT = 0.2;

export interface FlagTrafficOptions {
  readonly appconfig: FakeAppConfig;
  readonly config: FlagRolloutConfig;
  /** @default 50 */
  readonly requestsPerSecond?: number;
  /** Share of users (0-1) by segment; the rest send none. @default internal 2%, beta 5%, premium 20% */
  readonly segments?: Readonly<Record<string, number>>;
  /**
   * Behaviour of users served each variant; unlisted variants behave as the default (0.2% errors, p50 40 ms, p99
   * 180 ms). @default - every variant the default
   */
  readonly variants?: Readonly<Record<string, BehaviourProfile>>;
  /** Epoch ms the rollout starts at: the regressions' windows count from here. @default 0 (regressions without a window only) */
  readonly originMs?: number;
  /** Users of the population. @default 2000 */
  readonly users?: number;
  /**
   * Seed of the stochastic model (Poisson requests, binomial errors, sampled latency percentiles); a whole number.
   * @default - the deterministic model (expected counts)
   */
  readonly seed?: number;
}

const MS_PER_MINUTE = 60_000;
const MS_PER_SECOND = 1000;
const PERCENT = 100;
const DEFAULT_SEGMENTS = { internal: 0.02, beta: 0.05, premium: 0.2 };

/** The inverse of the standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) { const q = Math.sqrt(-2 * Math.log(p)); return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1); }
  if (p > 1 - low) { const q = Math.sqrt(-2 * Math.log(1 - p)); return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1); }
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

export class FlagTraffic implements MetricSource {
  private readonly rps: number;
  private readonly population: Array<{ key: string; segment?: string }>;
  private readonly shares = new Map<string, Record<string, number>>();

  constructor(private readonly options: FlagTrafficOptions) {
    checkSeed(options.seed, 'FlagTraffic');
    this.rps = options.requestsPerSecond ?? 50;
    const users = options.users ?? 2000;
    const segments = Object.entries(options.segments ?? DEFAULT_SEGMENTS);
    this.population = Array.from({ length: users }, (_, i) => {
      let acc = 0;
      const u = (i + 0.5) / users;
      const segment = segments.find(([, share]) => (acc += share) > u)?.[0];
      return { key: `user-${i}`, segment };
    });
  }

  /** Share of the users (0-1) each variant is served at `timeMs`, by the document deployed then. */
  variantShares(timeMs: number): Record<string, number> {
    const content = this.documentAt(timeMs);
    if (content === undefined) return {};
    let shares = this.shares.get(content);
    if (!shares) {
      const doc = parseFlagsDocument(content);
      const counts: Record<string, number> = {};
      for (const user of this.population) {
        const variant = evaluate(doc, this.options.config.flagKey, { key: user.key, segment: user.segment }).variant ?? 'unknown';
        counts[variant] = (counts[variant] ?? 0) + 1;
      }
      shares = Object.fromEntries(Object.entries(counts).map(([v, n]) => [v, n / this.population.length]));
      this.shares.set(content, shares);
    }
    return shares;
  }

  value(query: MetricQuery): number | null {
    const { config } = this.options;
    const dims = query.dimensions;
    if (query.namespace !== config.analysis.namespace || dims[VariantDimension.SERVICE] !== config.analysis.service
      || dims[VariantDimension.FLAG] !== config.flagKey || Object.keys(dims).length !== 3) return null;
    const variant = dims[VariantDimension.VARIANT];
    if (query.metricName === VariantMetric.LATENCY) {
      const p = percentileOf(query.statistic);
      // Served at the period's last minute (a period may cover a whole phase: its variant is the phase's).
      const lastMinute = query.periodStart + query.periodSeconds * MS_PER_SECOND - MS_PER_MINUTE;
      if (p === undefined || this.counts(variant, lastMinute, MS_PER_MINUTE / MS_PER_SECOND).requests <= 0) return null;
      // The percentile of all the period's requests (a period may cover a whole phase).
      const { requests: n, latencies } = this.counts(variant, query.periodStart, query.periodSeconds);
      const seed = this.options.seed;
      // Stochastic: the k-th smallest of the period's n latencies (the order statistic of the percentile). The
      // percentiles of one period come from one stream (the same draws): like a sample's order statistics, they move
      // together rather than independently.
      const k = Math.max(1, Math.ceil((p / PERCENT) * n));
      const quantile = seed === undefined ? p / PERCENT
        : Random.seeded(seed, 'flag-latency', variant, query.periodStart, query.periodSeconds).beta(k, n + 1 - k);
      const parts = [...latencies.values()].filter((c) => c.weight > 0);
      if (parts.length === 1) return Math.exp(parts[0].mu + parts[0].sigma * normalQuantile(quantile));
      return mixtureQuantile(parts, quantile);
    }
    if (query.statistic !== 'Sum') return null;
    const { requests, errors } = this.counts(variant, query.periodStart, query.periodSeconds);
    if (requests <= 0) return null;
    if (query.metricName === VariantMetric.REQUESTS) return requests;
    if (query.metricName === VariantMetric.ERRORS) return errors;
    return null;
  }

  /**
   * Requests of `variants` failed by a regression (above each variant's baseline) in the minutes from `fromMs` to
   * `toMs`: the blast radius of a treatment is `failedRequests(start, end, [treatment])`.
   */
  failedRequests(fromMs: number, toMs: number, variants: readonly string[]): number {
    return variants.reduce((total, v) => total + this.counts(v, ...minutesOf(fromMs, toMs)).regressionErrors, 0);
  }

  /** Every request, of every variant served then, in the minutes from `fromMs` to `toMs`. */
  totalRequests(fromMs: number, toMs: number): number {
    const [start, seconds] = minutesOf(fromMs, toMs);
    let total = 0;
    for (let t = start; t < start + seconds * MS_PER_SECOND; t += MS_PER_MINUTE) {
      for (const variant of Object.keys(this.variantShares(t))) total += this.minute(variant, t).requests;
    }
    return total;
  }

  /** The first minute (epoch ms) in which one of the variants served requests with a regression active, or undefined. */
  regressionStartedAt(fromMs: number, toMs: number, variants: readonly string[]): number | undefined {
    for (let t = minuteOf(fromMs); t < toMs; t += MS_PER_MINUTE) {
      if (variants.some((v) => this.minute(v, t).regressed)) return t;
    }
    return undefined;
  }

  /**
   * Requests served `variant` over the period, the failed ones among them and those failed by a regression, minute by
   * minute (see the header), and the period's latency as components (request weight, log-normal mu and sigma) by
   * latency profile.
   */
  private counts(variant: string, startMs: number, seconds: number): PeriodCounts {
    let requests = 0;
    let errors = 0;
    let regressionErrors = 0;
    const latencies = new Map<string, { weight: number; mu: number; sigma: number }>();
    for (let t = startMs; t < startMs + seconds * MS_PER_SECOND; t += MS_PER_MINUTE) {
      const m = this.minute(variant, t);
      requests += m.requests;
      errors += m.errors;
      regressionErrors += m.regressionErrors;
      const key = `${m.latency.p50Ms}/${m.latency.p99Ms}`;
      const part = latencies.get(key) ?? { weight: 0, mu: Math.log(m.latency.p50Ms), sigma: logNormalSigma(m.latency) };
      part.weight += m.requests;
      latencies.set(key, part);
    }
    return { requests, errors, regressionErrors, latencies };
  }

  /** One minute of `variant` from `t`: its behaviour then (behaviourAt) and its counts. */
  private minute(variant: string, t: number): MinuteCounts {
    const share = this.variantShares(t)[variant] ?? 0;
    const profile = { baselineErrorRatePercent: DEFAULT_VARIANT_ERROR_RATE_PERCENT, ...this.options.variants?.[variant] };
    // A variant served to nobody is not regressed in that minute (as a color without traffic in the traffic model).
    const behaviour = behaviourAt(share > 0 ? profile : { ...profile, regressions: [] },
      (t + MS_PER_MINUTE / 2 - (this.options.originMs ?? 0)) / MS_PER_SECOND, share * PERCENT);
    const { errorRate, baselineErrorRate: baseline, latency } = behaviour;
    const regressed = behaviour.regressed && share > 0;
    const expected = share * this.rps * (MS_PER_MINUTE / MS_PER_SECOND);
    if (this.options.seed === undefined) {
      return { requests: expected, errors: expected * errorRate, regressionErrors: expected * Math.max(0, errorRate - baseline), latency, regressed };
    }
    const random = Random.seeded(this.options.seed, 'flag-minute', variant, Math.floor(t / MS_PER_MINUTE));
    const requests = random.poisson(expected);
    const errors = random.binomial(requests, errorRate);
    // Which of the errors the regression caused: drawn last, so the requests and errors of a seed stay as they were.
    const regressionErrors = errorRate > baseline ? random.binomial(errors, (errorRate - baseline) / errorRate) : 0;
    return { requests, errors, regressionErrors, latency, regressed };
  }

  /** The profile's content deployed at `timeMs`: the newest deployment started by then that did not roll back. */
  private documentAt(timeMs: number): string | undefined {
    const { appconfig, config } = this.options;
    const deployments = appconfig.deployments(config.applicationId, config.environmentId);
    const key = deployments.map((d) => `${d.deploymentNumber}:${d.state}`).join(',');
    if (key !== this.historyKey) {
      this.historyKey = key;
      this.history = deployments.filter((d) => d.state !== 'ROLLED_BACK' && d.state !== 'REVERTED').map((d) => ({
        startedAt: d.startedAt,
        content: Buffer.from(appconfig.getHostedConfigurationVersion({
          ApplicationId: config.applicationId, ConfigurationProfileId: config.configurationProfileId, VersionNumber: Number(d.configurationVersion),
        }).Content).toString('utf8'),
      }));
    }
    let found: string | undefined;
    for (const h of this.history) if (h.startedAt <= timeMs) found = h.content;
    return found;
  }

  private historyKey = '';
  private history: Array<{ startedAt: number; content: string }> = [];
}

interface MinuteCounts {
  readonly requests: number;
  readonly errors: number;
  /** Errors above the variant's baseline (a regression's). */
  readonly regressionErrors: number;
  readonly latency: LatencyProfile;
  /** A regression was active while the variant served requests. */
  readonly regressed: boolean;
}

interface PeriodCounts {
  readonly requests: number;
  readonly errors: number;
  readonly regressionErrors: number;
  /** Latency components by profile: request weight and log-normal parameters. */
  readonly latencies: ReadonlyMap<string, { weight: number; mu: number; sigma: number }>;
}

function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / MS_PER_MINUTE) * MS_PER_MINUTE;
}

/** The whole minutes that cover [fromMs, toMs): their start and length in seconds, as counts() takes them. */
function minutesOf(fromMs: number, toMs: number): [number, number] {
  const start = minuteOf(fromMs);
  return [start, Math.max(0, Math.ceil((toMs - start) / MS_PER_MINUTE)) * (MS_PER_MINUTE / MS_PER_SECOND)];
}
