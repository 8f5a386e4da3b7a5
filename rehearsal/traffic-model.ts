/**
 * The simulated service behind the fake ALB: requests per second, split between the colors exactly as the fake
 * load balancer routes them at each instant, and each color's behaviour (5xx rate, latency) over time. It is the
 * fakes' MetricSource for AWS/ApplicationELB, so the alarms and the judge read numbers computed from it, and it
 * produces the chart's series and the blast radius.
 *
 * Modelling assumptions (every figure the rehearsal prints rests on these):
 * - Time is cut into one-second buckets from `startMs`. A bucket's requests split by the time-weighted routing
 *   of that second: the routing is re-read from the fake ALB after every write to it (`observe()`), so a weight
 *   change lands on the millisecond it was written.
 * - Routing: a share of users sends the segment header (`segments`: header value -> share of users); every other
 *   request is unsegmented. Each class is routed by the fake ALB's real rule matching (`FakeAlb.route`): the
 *   segment rule, then the live rule's weights. Stickiness is ignored: every request follows the current weights
 *   (a sticky session would keep some users on their color for up to the stickiness duration).
 * - Counts are whole requests, in one of two models (`seed`):
 *   - deterministic (no seed, the default): each series (requests, baseline errors, regression errors) is the
 *     floor of its running expected total, so fractions carry from second to second and nothing is random. It
 *     shows what a strategy does on average, never a noise-driven false rollback or a lucky pass;
 *   - stochastic (a seed): a color's requests in a second are Poisson with the expected count (independent
 *     arrivals: ALB requests from many users), its failed requests binomial among them at its error rate (each
 *     request fails independently), the ELB's own 5xx Poisson. The baseline errors are Binomial(requests,
 *     baseline) and the regression's Binomial(the rest, (rate - baseline) / (1 - baseline)), so all errors are
 *     Binomial(requests, rate) and the blast radius is those above the baseline. Each second draws from its own
 *     stream (seed, second index): the same seed gives the same traffic whatever is read, and in what order.
 * - A color whose target group has no healthy target cannot serve: its requests become HTTPCode_ELB_5XX_Count at
 *   the load balancer (ALB answers 503) and reach no target.
 * - Latency of a color in a second is log-normal with the profile's p50 and p99 (sigma = ln(p99/p50) / 2.326).
 *   Failed requests have the same latency as successful ones. Deterministic model: a period's percentiles are
 *   those of the request-weighted mixture of its seconds. Stochastic model: they are what CloudWatch computes from
 *   the period's n request latencies drawn from that mixture: up to STOCHASTIC_LATENCY_SAMPLE_LIMIT requests, the
 *   latencies themselves are drawn (so p50, p99, Minimum, Maximum and Average of one period agree); above it, the
 *   p-th percentile is the order statistic of rank ceil(p/100 * n), drawn exactly as F^-1(U(k)) with
 *   U(k) ~ Beta(k, n + 1 - k) (order statistics of uniforms), and Average the sample mean by the central limit
 *   theorem. Each (color, period, statistic) has its own stream, so a period reads the same every time.
 * - A regression is active while its conditions hold (time window since the rollout started, and the color's
 *   share of all requests at or above `minWeightPercent`). Its error rate replaces the baseline when higher; the
 *   blast radius counts only the requests failing above the color's baseline.
 * - CloudWatch availability: ALB publishes a datapoint for a period only when the count is not zero (RequestCount,
 *   HTTPCode_*), as AWS documents ("reported if there are nonzero values"); Sum is the count, SampleCount the
 *   count, Average / Minimum / Maximum 1. A period becomes readable (to the judge and the alarms alike) the
 *   fake CloudWatch's ingestion delay after it ends (rehearsal/simulation.ts METRIC_INGESTION_DELAY_SECONDS, 90 s);
 *   before that it is missing. Real CloudWatch returns a partial sum for a minute still arriving; the judge never
 *   reads one (it reads whole minutes older than its metricDelay), so the fake need not model partial sums.
 * - HealthyHostCount / UnHealthyHostCount are the target group's current counts (no history): the fake ALB only
 *   changes target health when the simulation says so.
 */
import type { Clock } from '../lambda/shared/clock';
import { Color, COLORS, Weights } from '../lambda/shared/contracts';
import { arnResourceSuffix, FakeAlb, MetricQuery, MetricSource, percentileOf } from './fakes';
import { checkSeed, Random } from './random';
import type { SeriesPoint } from './result';

export const ALB_NAMESPACE = 'AWS/ApplicationELB';
const MS_PER_SECOND = 1000;
const PERCENT = 100;
/** z-score of the 99th percentile of a standard normal distribution. */
const Z_P99 = 2.3263478740408408;
/** Bisection steps of a mixture quantile (relative precision ~1e-12 on the log scale). */
const QUANTILE_ITERATIONS = 60;
/** How far (in sigmas) the quantile search looks around the components' medians. */
const QUANTILE_SEARCH_SIGMAS = 8;
/** Percentiles used for the Minimum / Maximum statistics of TargetResponseTime (a log-normal has no bounds). */
const MIN_PERCENTILE = 0.01;
const MAX_PERCENTILE = 99.99;

/**
 * Periods with at most this many requests get their latencies drawn one by one (stochastic model); larger ones get
 * each statistic drawn from its exact sampling law. Small enough to cost little per read, large enough that every
 * period of a canary at low traffic is sampled whole.
 */
export const STOCHASTIC_LATENCY_SAMPLE_LIMIT = 2000;

/** Default healthy behaviour: 0.1% of requests fail, p50 40 ms, p99 180 ms. */
export const DEFAULT_BASELINE_ERROR_RATE_PERCENT = 0.1;
export const DEFAULT_LATENCY: LatencyProfile = { p50Ms: 40, p99Ms: 180 };
/** Default header of segment-first rollouts (BlueGreenRouting's default). */
export const DEFAULT_SEGMENT_HEADER = 'x-zdt-segment';

export interface LatencyProfile {
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** A change of behaviour of one color while its conditions hold. */
export interface Regression {
  /** Active from this many seconds after the rollout started (negative: before it). @default - from the start of traffic */
  readonly fromSeconds?: number;
  /** Active until this many seconds after the rollout started. @default - for ever */
  readonly untilSeconds?: number;
  /** Active only while the color serves at least this percent of all requests. @default 0 (whenever it serves any) */
  readonly minWeightPercent?: number;
  /** Percent of the color's requests that fail with a 5xx while active (when above the baseline). @default - unchanged */
  readonly errorRatePercent?: number;
  /** Latency multiplied by this while active (p50 and p99). @default 1 */
  readonly latencyFactor?: number;
}

/** How one color behaves. */
export interface BehaviourProfile {
  /** Percent of requests that fail with a 5xx when healthy. @default 0.1 */
  readonly baselineErrorRatePercent?: number;
  /** @default p50 40 ms, p99 180 ms */
  readonly latency?: LatencyProfile;
  /** @default - none */
  readonly regressions?: readonly Regression[];
}

/** A color's behaviour at one instant: its error rate and latency with the regressions active then. */
export interface BehaviourNow {
  /** The profile's baseline error rate, 0-1. */
  readonly baselineErrorRate: number;
  /** 0-1: the baseline, or an active regression's rate when higher. */
  readonly errorRate: number;
  /** The profile's latency times the active regressions' factors. */
  readonly latency: LatencyProfile;
  /** True when a regression is active. */
  readonly regressed: boolean;
}

/**
 * How a color behaves `sinceSeconds` after the rollout started, serving `weightPercent` of the requests: a regression
 * is active inside its time window and at or above its minWeightPercent. The traffic and the gates' probes
 * (simulation-probes.ts) both ask this.
 */
export function behaviourAt(profile: BehaviourProfile, sinceSeconds: number, weightPercent: number): BehaviourNow {
  const baselineErrorRate = (profile.baselineErrorRatePercent ?? DEFAULT_BASELINE_ERROR_RATE_PERCENT) / PERCENT;
  const latency = profile.latency ?? DEFAULT_LATENCY;
  let errorRate = baselineErrorRate;
  let factor = 1;
  let regressed = false;
  for (const r of profile.regressions ?? []) {
    if (r.fromSeconds !== undefined && sinceSeconds < r.fromSeconds) continue;
    if (r.untilSeconds !== undefined && sinceSeconds >= r.untilSeconds) continue;
    if (weightPercent < (r.minWeightPercent ?? 0)) continue;
    regressed = true;
    if (r.errorRatePercent !== undefined) errorRate = Math.max(errorRate, r.errorRatePercent / PERCENT);
    if (r.latencyFactor !== undefined) factor *= r.latencyFactor;
  }
  return { baselineErrorRate, errorRate, latency: { p50Ms: latency.p50Ms * factor, p99Ms: latency.p99Ms * factor }, regressed };
}

/** Sigma of the log-normal latency with this median and 99th percentile: ln(p99/p50) / z(0.99). */
export function logNormalSigma(latency: LatencyProfile): number {
  return Math.max(0, Math.log(latency.p99Ms / latency.p50Ms) / Z_P99);
}

/** Requests per second: a constant, or a function of the seconds since the rollout started (negative before). */
export type RequestRate = number | ((secondsSinceRolloutStart: number) => number);

export interface TrafficModelOptions {
  readonly clock: Clock;
  readonly alb: FakeAlb;
  readonly listenerArn: string;
  readonly loadBalancerArn: string;
  /** Target group ARN of each color. */
  readonly targetGroupArns: Record<Color, string>;
  /** Epoch ms at which the rollout starts: regressions' and series' times count from here. */
  readonly originMs: number;
  /** Epoch ms at which traffic starts (metrics before it are empty). @default - clock.now() at construction */
  readonly startMs?: number;
  readonly requestsPerSecond: RequestRate;
  readonly profiles: Partial<Record<Color, BehaviourProfile>>;
  /** Share of users (0-1) sending each segment header value. @default - none */
  readonly segments?: Readonly<Record<string, number>>;
  /** @default 'x-zdt-segment' */
  readonly segmentHeader?: string;
  /**
   * Seed of the stochastic model (Poisson requests, binomial errors, sampled latencies; see the header): the same
   * seed gives the same traffic. A whole number; each run of `zdt rehearse --runs N --seed S` uses S, S + 1, ...
   * @default - the deterministic model (expected counts, no randomness)
   */
  readonly seed?: number;
}

/** The routing of all traffic from one instant on. */
interface RoutingSnapshot {
  readonly time: number;
  /** Share (0-1) of all requests each color serves. */
  readonly share: Record<Color, number>;
  /** Share of all requests the load balancer fails itself (no healthy target in the chosen group, or no route). */
  readonly elbFailure: number;
  readonly healthy: Record<Color, number>;
  readonly unhealthy: Record<Color, number>;
}

interface ColorSecond {
  readonly requests: number;
  readonly baselineErrors: number;
  readonly regressionErrors: number;
  readonly latency: LatencyProfile;
}

interface Second {
  readonly colors: Record<Color, ColorSecond>;
  readonly elb5xx: number;
  readonly total: number;
  /** Regression active on a color that had traffic in this second. */
  readonly regressionActive: boolean;
}

type CarryKey = `${Color}:${'requests' | 'baseline' | 'regression'}` | 'elb';

/** The simulated service: a MetricSource for AWS/ApplicationELB and the source of series and blast radius. */
export class TrafficModel implements MetricSource {
  readonly originMs: number;
  readonly startMs: number;
  private readonly snapshots: RoutingSnapshot[] = [];
  private readonly seconds: Second[] = [];
  private readonly expected = new Map<CarryKey, number>();
  /** Drawn latencies of small periods (stochastic model), by color/from/to. */
  private readonly latencySamples = new Map<string, number[]>();
  private readonly lbFullName: string;
  private readonly tgFullNames: Record<Color, string>;

  constructor(private readonly options: TrafficModelOptions) {
    this.originMs = options.originMs;
    this.startMs = options.startMs ?? options.clock.now();
    this.lbFullName = arnResourceSuffix(options.loadBalancerArn);
    this.tgFullNames = { blue: arnResourceSuffix(options.targetGroupArns.blue), green: arnResourceSuffix(options.targetGroupArns.green) };
    checkSeed(options.seed, 'TrafficModel');
    for (const [value, share] of Object.entries(options.segments ?? {})) {
      if (!(share >= 0 && share <= 1)) throw new Error(`TrafficModel: segment "${value}" must be a share of users from 0 to 1, got ${share}`);
    }
    this.observe();
  }

  /** The seed of the stochastic model, or undefined for the deterministic one. */
  get seed(): number | undefined {
    return this.options.seed;
  }

  /** Re-reads the routing and target health from the fake ALB (call after every write to it). */
  observe(): void {
    const now = this.options.clock.now();
    const snapshot = this.readRouting(now);
    const last = this.snapshots[this.snapshots.length - 1];
    if (last && sameRouting(last, snapshot)) return;
    // Buckets already computed past this instant would be stale: the routing only changes at "now", which is at
    // or after every computed bucket's end (buckets are computed only once they have ended).
    if (last && last.time === now) this.snapshots[this.snapshots.length - 1] = snapshot;
    else this.snapshots.push(snapshot);
  }

  /** The effective weights (share of all production requests, percent, rounded to sum 100) at an instant. */
  weightsAt(epochMs: number): Weights {
    return roundedWeights(this.snapshotAt(epochMs).share);
  }

  // -- MetricSource ---------------------------------------------------------------------------------------------

  value(query: MetricQuery): number | null {
    if (query.namespace !== ALB_NAMESPACE) return null;
    const dims = query.dimensions;
    const keys = Object.keys(dims).sort().join(',');
    if (dims.LoadBalancer !== this.lbFullName) return null;
    let color: Color | undefined;
    if (keys === 'LoadBalancer,TargetGroup') {
      color = COLORS.find((c) => this.tgFullNames[c] === dims.TargetGroup);
      if (!color) return null;
    } else if (keys !== 'LoadBalancer') {
      return null;
    }
    const from = query.periodStart;
    const to = query.periodStart + query.periodSeconds * MS_PER_SECOND;
    switch (query.metricName) {
      case 'RequestCount':
        return countStatistic(this.sum(from, to, (s) => (color ? s.colors[color].requests : s.total)), query.statistic);
      case 'HTTPCode_Target_5XX_Count':
        return countStatistic(this.sum(from, to, (s) => (color ? errorsOf(s.colors[color]) : errorsOf(s.colors.blue) + errorsOf(s.colors.green))), query.statistic);
      case 'HTTPCode_ELB_5XX_Count':
        return color ? null : countStatistic(this.sum(from, to, (s) => s.elb5xx), query.statistic);
      case 'TargetResponseTime':
        return this.latencyStatistic(from, to, color, query.statistic);
      case 'HealthyHostCount':
      case 'UnHealthyHostCount': {
        if (!color) return null;
        const snap = this.snapshotAt(Math.min(to, this.options.clock.now()) - 1);
        return query.metricName === 'HealthyHostCount' ? snap.healthy[color] : snap.unhealthy[color];
      }
      default:
        return null;
    }
  }

  // -- results --------------------------------------------------------------------------------------------------

  /** Samples of the service every `stepMs` from `fromMs` to `toMs` (epoch ms), times relative to the origin. */
  series(fromMs: number, toMs: number, stepMs: number): SeriesPoint[] {
    const points: SeriesPoint[] = [];
    for (let t = fromMs; t < toMs; t += stepMs) {
      const end = Math.min(t + stepMs, toMs);
      const requests = { blue: this.sum(t, end, (s) => s.colors.blue.requests), green: this.sum(t, end, (s) => s.colors.green.requests) };
      const errors = { blue: this.sum(t, end, (s) => errorsOf(s.colors.blue)), green: this.sum(t, end, (s) => errorsOf(s.colors.green)) };
      const rate = (c: Color) => (requests[c] > 0 ? (errors[c] * PERCENT) / requests[c] : null);
      const p99 = (c: Color) => {
        const v = this.latencyPercentileMs(t, end, c, 99);
        return v === null ? null : Math.round(v);
      };
      points.push({
        atMs: t - this.originMs,
        weights: this.weightsAt(end - 1),
        requests,
        errors,
        errorRatePercent: { blue: rate('blue'), green: rate('green') },
        latencyP99Ms: { blue: p99('blue'), green: p99('green') },
      });
    }
    return points;
  }

  /** Requests that failed because of a regression (above each color's baseline) between two instants. */
  failedRequests(fromMs: number, toMs: number): number {
    return this.sum(fromMs, toMs, (s) => s.colors.blue.regressionErrors + s.colors.green.regressionErrors);
  }

  /** Every request served or failed between two instants. */
  totalRequests(fromMs: number, toMs: number): number {
    return this.sum(fromMs, toMs, (s) => s.total);
  }

  /** The first instant (epoch ms) a regression was active on a color that served requests, or undefined. */
  regressionStartedAt(toMs: number): number | undefined {
    const last = this.secondIndex(toMs);
    for (let i = 0; i < last; i++) if (this.second(i).regressionActive) return this.startMs + i * MS_PER_SECOND;
    return undefined;
  }

  // -- internals ------------------------------------------------------------------------------------------------

  private readRouting(now: number): RoutingSnapshot {
    const { alb, listenerArn, targetGroupArns } = this.options;
    const healthy = { blue: 0, green: 0 };
    const unhealthy = { blue: 0, green: 0 };
    for (const color of COLORS) {
      const states = (alb.describeTargetHealth({ TargetGroupArn: targetGroupArns[color] }).TargetHealthDescriptions ?? [])
        .map((d) => d.TargetHealth?.State);
      healthy[color] = states.filter((s) => s === 'healthy').length;
      unhealthy[color] = states.filter((s) => s === 'unhealthy').length;
    }
    const segments = Object.entries(this.options.segments ?? {});
    const unsegmented = Math.max(0, 1 - segments.reduce((a, [, s]) => a + s, 0));
    const classes: Array<{ share: number; headers?: Record<string, string> }> = [
      { share: unsegmented },
      ...segments.map(([value, share]) => ({ share, headers: { [this.options.segmentHeader ?? DEFAULT_SEGMENT_HEADER]: value } })),
    ];
    const share = { blue: 0, green: 0 };
    let elbFailure = 0;
    for (const cls of classes) {
      if (cls.share === 0) continue;
      const weights = alb.forwardWeights(listenerArn, { headers: cls.headers, path: '/' });
      let routed = 0;
      for (const color of COLORS) {
        const fraction = weights[targetGroupArns[color]] ?? 0;
        routed += fraction;
        if (healthy[color] > 0) share[color] += cls.share * fraction;
        else elbFailure += cls.share * fraction;
      }
      elbFailure += cls.share * Math.max(0, 1 - routed);
    }
    return { time: now, share, elbFailure, healthy, unhealthy };
  }

  private snapshotAt(epochMs: number): RoutingSnapshot {
    let lo = 0;
    let hi = this.snapshots.length - 1;
    if (epochMs < this.snapshots[0].time) return this.snapshots[0];
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.snapshots[mid].time <= epochMs) lo = mid;
      else hi = mid - 1;
    }
    return this.snapshots[lo];
  }

  /** Time-weighted shares over [from, to). */
  private routingOver(from: number, to: number): { share: Record<Color, number>; elbFailure: number } {
    const share = { blue: 0, green: 0 };
    let elbFailure = 0;
    let t = from;
    while (t < to) {
      const snap = this.snapshotAt(t);
      const index = this.snapshots.indexOf(snap);
      const next = this.snapshots[index + 1];
      const end = next && next.time < to && next.time > t ? next.time : to;
      const w = (end - t) / (to - from);
      share.blue += snap.share.blue * w;
      share.green += snap.share.green * w;
      elbFailure += snap.elbFailure * w;
      t = end;
    }
    return { share, elbFailure };
  }

  private secondIndex(epochMs: number): number {
    return Math.max(0, Math.floor((epochMs - this.startMs) / MS_PER_SECOND));
  }

  /** Second i (computed once it has ended; a second not yet ended is computed from the routing so far, uncached). */
  private second(i: number): Second {
    const cached = this.seconds[i];
    if (cached) return cached;
    const now = this.options.clock.now();
    const from = this.startMs + i * MS_PER_SECOND;
    if (from + MS_PER_SECOND > now) return this.computeSecond(i, false);
    while (this.seconds.length <= i) this.seconds.push(this.computeSecond(this.seconds.length, true));
    return this.seconds[i];
  }

  private computeSecond(i: number, commit: boolean): Second {
    const from = this.startMs + i * MS_PER_SECOND;
    const to = from + MS_PER_SECOND;
    const sinceOrigin = (from + MS_PER_SECOND / 2 - this.originMs) / MS_PER_SECOND;
    const rate = this.options.requestsPerSecond;
    const rps = Math.max(0, typeof rate === 'number' ? rate : rate(sinceOrigin));
    const routing = this.routingOver(from, to);
    const pending = new Map<CarryKey, number>();
    const take = (key: CarryKey, amount: number): number => {
      const before = this.expected.get(key) ?? 0;
      const after = before + amount;
      pending.set(key, after);
      return Math.floor(after + 1e-9) - Math.floor(before + 1e-9);
    };
    // Stochastic model: this second's own stream, so it draws the same numbers whenever it is computed.
    const random = this.options.seed === undefined ? undefined : Random.seeded(this.options.seed, 'second', i);
    const arrivals = (key: CarryKey, expected: number): number => (random ? random.poisson(expected) : take(key, expected));
    let regressionActive = false;
    const colors = {} as Record<Color, ColorSecond>;
    for (const color of COLORS) {
      const profile = this.options.profiles[color] ?? {};
      const expectedRequests = rps * routing.share[color];
      // A color that serves no traffic is not regressed in it (its probes may still see the regression).
      const now = routing.share[color] > 0 ? behaviourAt(profile, sinceOrigin, routing.share[color] * PERCENT) : behaviourAt({ ...profile, regressions: [] }, sinceOrigin, 0);
      const { baselineErrorRate: baseline, errorRate, latency } = now;
      if (now.regressed && expectedRequests > 0) regressionActive = true;
      const requests = arrivals(`${color}:requests`, expectedRequests);
      let baselineErrors: number;
      let regressionErrors: number;
      if (random) {
        baselineErrors = random.binomial(requests, baseline);
        regressionErrors = baseline >= 1 ? 0 : random.binomial(requests - baselineErrors, Math.max(0, errorRate - baseline) / (1 - baseline));
      } else {
        baselineErrors = take(`${color}:baseline`, requests * baseline);
        regressionErrors = take(`${color}:regression`, requests * Math.max(0, errorRate - baseline));
      }
      colors[color] = {
        requests,
        baselineErrors,
        regressionErrors,
        latency,
      };
    }
    const elb5xx = arrivals('elb', rps * routing.elbFailure);
    if (commit) for (const [key, value] of pending) this.expected.set(key, value);
    return { colors, elb5xx, total: colors.blue.requests + colors.green.requests + elb5xx, regressionActive };
  }

  private sum(from: number, to: number, pick: (s: Second) => number): number {
    const first = Math.max(0, Math.ceil((from - this.startMs) / MS_PER_SECOND));
    const last = Math.ceil((to - this.startMs) / MS_PER_SECOND);
    let total = 0;
    for (let i = first; i < last; i++) total += pick(this.second(i));
    return total;
  }

  private components(from: number, to: number, color: Color | undefined): LatencyComponent[] {
    const groups = new Map<string, LatencyComponent>();
    const first = Math.max(0, Math.ceil((from - this.startMs) / MS_PER_SECOND));
    const last = Math.ceil((to - this.startMs) / MS_PER_SECOND);
    for (let i = first; i < last; i++) {
      const s = this.second(i);
      for (const c of color ? [color] : COLORS) {
        const { requests, latency } = s.colors[c];
        if (requests === 0) continue;
        const key = `${latency.p50Ms}/${latency.p99Ms}`;
        const group = groups.get(key) ?? { weight: 0, mu: Math.log(latency.p50Ms), sigma: logNormalSigma(latency) };
        group.weight += requests;
        groups.set(key, group);
      }
    }
    return [...groups.values()];
  }

  private latencyPercentileMs(from: number, to: number, color: Color | undefined, p: number): number | null {
    const parts = this.components(from, to, color);
    if (parts.length === 0) return null;
    if (this.options.seed !== undefined) return this.sampledLatencyMs(parts, from, to, color, `p${p}`);
    return mixtureQuantile(parts, p / PERCENT);
  }

  private latencyStatistic(from: number, to: number, color: Color | undefined, statistic: string): number | null {
    const parts = this.components(from, to, color);
    if (parts.length === 0) return null;
    if (this.options.seed !== undefined) {
      if (statistic === 'SampleCount') return parts.reduce((a, c) => a + c.weight, 0);
      const ms = this.sampledLatencyMs(parts, from, to, color, statistic);
      return ms === null ? null : ms / MS_PER_SECOND;
    }
    const total = parts.reduce((a, c) => a + c.weight, 0);
    const toSeconds = (ms: number) => ms / MS_PER_SECOND;
    switch (statistic) {
      case 'SampleCount': return total;
      case 'Average': return toSeconds(parts.reduce((a, c) => a + c.weight * Math.exp(c.mu + (c.sigma * c.sigma) / 2), 0) / total);
      case 'Sum': return toSeconds(parts.reduce((a, c) => a + c.weight * Math.exp(c.mu + (c.sigma * c.sigma) / 2), 0));
      case 'Minimum': return toSeconds(mixtureQuantile(parts, MIN_PERCENTILE / PERCENT));
      case 'Maximum': return toSeconds(mixtureQuantile(parts, MAX_PERCENTILE / PERCENT));
      default: {
        const p = percentileOf(statistic);
        return p === undefined ? null : toSeconds(mixtureQuantile(parts, Math.min(p, MAX_PERCENTILE) / PERCENT));
      }
    }
  }

  /**
   * A latency statistic (ms; Sum is the total) of the period's n requests drawn from the mixture (stochastic model):
   * small periods draw every latency, large ones draw the statistic from its exact sampling law (see the header).
   */
  private sampledLatencyMs(parts: readonly LatencyComponent[], from: number, to: number, color: Color | undefined, statistic: string): number | null {
    const n = parts.reduce((a, c) => a + c.weight, 0);
    const p = statistic === 'Minimum' ? 0 : statistic === 'Maximum' ? PERCENT : percentileOf(statistic);
    if (p === undefined && statistic !== 'Average' && statistic !== 'Sum') return null;
    const who = color ?? 'all';
    if (n <= STOCHASTIC_LATENCY_SAMPLE_LIMIT) {
      const sample = this.latencySample(parts, n, from, to, who);
      if (p === undefined) {
        const total = sample.reduce((a, v) => a + v, 0);
        return statistic === 'Sum' ? total : total / n;
      }
      return sample[Math.max(1, Math.ceil((p / PERCENT) * n)) - 1];
    }
    const random = Random.seeded(this.options.seed!, 'latency', who, from, to, sampledStatisticKey(statistic));
    if (p === undefined) {
      const mean = parts.reduce((a, c) => a + c.weight * Math.exp(c.mu + (c.sigma * c.sigma) / 2), 0) / n;
      const meanOfSquares = parts.reduce((a, c) => a + c.weight * Math.exp(2 * c.mu + 2 * c.sigma * c.sigma), 0) / n;
      const sampleMean = Math.max(0, mean + random.normal() * Math.sqrt(Math.max(0, meanOfSquares - mean * mean) / n));
      return statistic === 'Sum' ? sampleMean * n : sampleMean;
    }
    const k = Math.max(1, Math.ceil((p / PERCENT) * n));
    return mixtureQuantile(parts, random.beta(k, n + 1 - k));
  }

  /** The period's n request latencies (ms, sorted), drawn from the mixture in its own stream. */
  private latencySample(parts: readonly LatencyComponent[], n: number, from: number, to: number, who: string): number[] {
    const key = `${who}/${from}/${to}`;
    const cached = this.latencySamples.get(key);
    if (cached && cached.length === n) return cached;
    const random = Random.seeded(this.options.seed!, 'latency-sample', who, from, to);
    const sample: number[] = [];
    for (const part of parts) {
      for (let j = 0; j < part.weight; j++) sample.push(Math.exp(part.mu + part.sigma * random.normal()));
    }
    sample.sort((a, b) => a - b);
    // Only periods that have ended are final; a period still filling may be read again with more requests.
    if (to <= this.options.clock.now()) this.latencySamples.set(key, sample);
    return sample;
  }
}

type LatencyComponent = { weight: number; mu: number; sigma: number };

/** Statistic key of a sampled latency: the sample mean serves Average and Sum, so both read the same draw. */
function sampledStatisticKey(statistic: string): string {
  return statistic === 'Sum' ? 'Average' : statistic;
}

function errorsOf(c: ColorSecond): number {
  return c.baselineErrors + c.regressionErrors;
}

/** ALB count metrics: no datapoint when zero; Sum and SampleCount are the count, the others 1 per request. */
function countStatistic(count: number, statistic: string): number | null {
  if (count === 0) return null;
  switch (statistic) {
    case 'Sum':
    case 'SampleCount':
      return count;
    case 'Average':
    case 'Minimum':
    case 'Maximum':
      return 1;
    default:
      return null;
  }
}

function sameRouting(a: RoutingSnapshot, b: RoutingSnapshot): boolean {
  return COLORS.every((c) => a.share[c] === b.share[c] && a.healthy[c] === b.healthy[c] && a.unhealthy[c] === b.unhealthy[c])
    && a.elbFailure === b.elbFailure;
}

/** Shares of the served requests as integer percents summing to 100 (0 / 0 when no color serves anything). */
export function roundedWeights(share: Record<Color, number>): Weights {
  const total = share.blue + share.green;
  if (total <= 0) return { blue: 0, green: 0 };
  const blue = Math.round((share.blue / total) * PERCENT);
  return { blue, green: PERCENT - blue };
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 via erf, absolute error < 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

function mixtureCdf(parts: ReadonlyArray<{ weight: number; mu: number; sigma: number }>, logX: number): number {
  const total = parts.reduce((a, c) => a + c.weight, 0);
  let acc = 0;
  for (const c of parts) {
    const p = c.sigma === 0 ? (logX >= c.mu ? 1 : 0) : normalCdf((logX - c.mu) / c.sigma);
    acc += c.weight * p;
  }
  return acc / total;
}

/** Quantile q (0-1) of a weighted mixture of log-normals, in the components' unit (ms). Also the flag traffic's (flag-traffic.ts). */
export function mixtureQuantile(parts: ReadonlyArray<{ weight: number; mu: number; sigma: number }>, q: number): number {
  const maxSigma = Math.max(...parts.map((c) => c.sigma));
  let lo = Math.min(...parts.map((c) => c.mu)) - QUANTILE_SEARCH_SIGMAS * maxSigma - 1;
  let hi = Math.max(...parts.map((c) => c.mu)) + QUANTILE_SEARCH_SIGMAS * maxSigma + 1;
  for (let i = 0; i < QUANTILE_ITERATIONS; i++) {
    const mid = (lo + hi) / 2;
    if (mixtureCdf(parts, mid) < q) lo = mid;
    else hi = mid;
  }
  return Math.exp(hi);
}
