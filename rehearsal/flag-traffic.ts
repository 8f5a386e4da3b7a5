/**
 * The application's per-variant metrics in the rehearsal: a MetricSource for FakeCloudWatch that answers the
 * Requests / Errors / Latency an application publishes with VariantMetrics (namespace, dimensions Service, Flag,
 * Variant), computed from the flags document AppConfig holds at each minute. Which users get which variant is the
 * real evaluator's answer (lambda/flags/evaluator.ts) for a fixed population of users, so the share of the treatment
 * is what the phase's rule really gives, bucket by bucket.
 *
 * Two models, as the traffic rollout's (rehearsal/traffic-model.ts):
 * - deterministic (no seed, the default): expected counts (fractions of requests), the lognormal's own percentiles;
 * - stochastic (a seed): a variant's requests in a minute are Poisson with the expected count, its errors binomial
 *   among them at its error rate, and a latency percentile of a period is the order statistic of its n requests
 *   (the k-th of n uniform draws is Beta(k, n + 1 - k), mapped through the lognormal). Each minute and each period
 *   has its own stream (seed, variant, minute / period): the same seed gives the same traffic whatever is read, in
 *   whatever order, and a period's Sum is the sum of its minutes.
 */
import { evaluate } from '../lambda/flags/evaluator';
import { parseFlagsDocument } from '../lambda/flags/validate';
import type { FlagRolloutConfig } from '../lambda/flag-rollout/flag-rollout-contract';
import { VariantDimension, VariantMetric } from '../lambda/flag-rollout/flag-rollout-contract';
import type { FakeAppConfig, MetricQuery, MetricSource } from './fakes';
import { percentileOf } from './fakes';
import { Random } from './random';

/** How one variant behaves. */
export interface VariantBehaviour {
  /** Share of its requests that fail, percent. @default 0.2 */
  readonly errorRatePercent?: number;
  /** Median latency, ms. @default 40 */
  readonly p50Ms?: number;
  /** p99 latency, ms. @default 180 */
  readonly p99Ms?: number;
}

export interface FlagTrafficOptions {
  readonly appconfig: FakeAppConfig;
  readonly config: FlagRolloutConfig;
  /** @default 50 */
  readonly requestsPerSecond?: number;
  /** Share of users (0-1) by segment; the rest send none. @default internal 2%, beta 5%, premium 20% */
  readonly segments?: Readonly<Record<string, number>>;
  /** Behaviour of users served each variant; unlisted variants behave as the default. */
  readonly variants?: Readonly<Record<string, VariantBehaviour>>;
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
/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;
const DEFAULTS: Required<VariantBehaviour> = { errorRatePercent: 0.2, p50Ms: 40, p99Ms: 180 };
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
    if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
      throw new Error(`FlagTraffic: seed must be a whole number (or absent for the deterministic model), got ${options.seed}`);
    }
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
    const behaviour = { ...DEFAULTS, ...this.options.variants?.[variant] };
    if (query.metricName === VariantMetric.LATENCY) {
      const p = percentileOf(query.statistic);
      // Served at the period's last minute (a period may cover a whole phase: its variant is the phase's).
      const lastMinute = query.periodStart + query.periodSeconds * MS_PER_SECOND - MS_PER_MINUTE;
      if (p === undefined || this.counts(variant, behaviour, lastMinute, MS_PER_MINUTE / MS_PER_SECOND).requests <= 0) return null;
      // The percentile of all the period's requests (a period may cover a whole phase).
      const n = this.counts(variant, behaviour, query.periodStart, query.periodSeconds).requests;
      const sigma = (Math.log(behaviour.p99Ms) - Math.log(behaviour.p50Ms)) / Z99;
      const seed = this.options.seed;
      // Stochastic: the k-th smallest of the period's n latencies (the order statistic of the percentile). The
      // percentiles of one period come from one stream (the same draws): like a sample's order statistics, they move
      // together rather than independently.
      const quantile = seed === undefined ? p / PERCENT
        : Random.seeded(seed, 'flag-latency', variant, query.periodStart, query.periodSeconds).beta(Math.max(1, Math.ceil((p / PERCENT) * n)), n + 1 - Math.max(1, Math.ceil((p / PERCENT) * n)));
      return Math.exp(Math.log(behaviour.p50Ms) + sigma * normalQuantile(quantile));
    }
    if (query.statistic !== 'Sum') return null;
    const { requests, errors } = this.counts(variant, behaviour, query.periodStart, query.periodSeconds);
    if (requests <= 0) return null;
    if (query.metricName === VariantMetric.REQUESTS) return requests;
    if (query.metricName === VariantMetric.ERRORS) return errors;
    return null;
  }

  /** Requests served `variant` over the period, and the failed ones among them, minute by minute (see the header). */
  private counts(variant: string, behaviour: Required<VariantBehaviour>, startMs: number, seconds: number): { requests: number; errors: number } {
    let requests = 0;
    let errors = 0;
    const rate = behaviour.errorRatePercent / PERCENT;
    for (let t = startMs; t < startMs + seconds * MS_PER_SECOND; t += MS_PER_MINUTE) {
      const expected = (this.variantShares(t)[variant] ?? 0) * this.rps * (MS_PER_MINUTE / MS_PER_SECOND);
      if (this.options.seed === undefined) {
        requests += expected;
        errors += expected * rate;
        continue;
      }
      const random = Random.seeded(this.options.seed, 'flag-minute', variant, Math.floor(t / MS_PER_MINUTE));
      const n = random.poisson(expected);
      requests += n;
      errors += random.binomial(n, rate);
    }
    return { requests, errors };
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
