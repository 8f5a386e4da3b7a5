/**
 * What the validation gates see in a rehearsal: the HTTP gates' requests and the database gate's checks answered by
 * the simulated world instead of a network.
 *
 * An HTTP request is routed by the fake load balancer exactly as the real one routes it: the URL's host must be the
 * deployed load balancer's DNS name, its port one of its listeners, and the listener's rules (the test route's header
 * rule, the live rule...) pick the target group, hence the color. The answer is the color's:
 * - its target group has no healthy target: 503 from the load balancer (the traffic model's assumption,
 *   rehearsal/traffic-model.ts);
 * - the scenario's `probes` for that role and path, when given (status and latency, or no answer at all);
 * - else the color's behaviour profile, the one the traffic model uses: a 500 with the probability of its error rate
 *   (baseline, or an active regression's), otherwise 200; latency drawn from its log-normal (p50, p99) times the
 *   active regressions' latency factors, both from the traffic model (behaviourAt, logNormalSigma). A regression is
 *   active for a probe as for traffic: inside its time window, and when the color's production weight is at least
 *   its minWeightPercent (a release that is bad from its first request is bad for the probe too, although it serves
 *   no production traffic yet). Draws come from a seeded stream (rehearsal/random.ts): a rehearsal is repeatable.
 * The request takes its latency on the virtual clock; one slower than the request's timeout has no answer.
 *
 * The database gate's check (connect and SELECT 1) answers from the scenario's `database`: reachable (default) in
 * `latencyMs` (default 5 ms), or no answer until the check's deadline.
 */
import type { DatabaseProbe, DatabaseProbeRequest, DatabaseProbeResult } from '../lambda/gates/database-probe';
import type { HttpTransport, ProbeRequest, ProbeResponse } from '../lambda/gates/http-probe';
import type { Clock } from '../lambda/shared/clock';
import { Color, COLORS } from '../lambda/shared/contracts';
import type { FakeAlb } from './fakes';
import type { Random } from './random';
import { behaviourAt, BehaviourProfile, logNormalSigma } from './traffic-model';

const MS_PER_SECOND = 1000;
/** What a load balancer answers when the chosen target group has no healthy target (traffic-model.ts). */
const NO_HEALTHY_TARGET_STATUS = 503;
const SERVER_ERROR_STATUS = 500;
const OK_STATUS = 200;
/** Time a simulated database takes for connect + SELECT 1 when the scenario does not say. */
export const DEFAULT_DATABASE_LATENCY_MS = 5;

/** How one path of one role answers a probe (scenario `probes`). */
export interface ProbeAnswer {
  /** @default - from the color's behaviour profile */
  readonly status?: number;
  /** @default - drawn from the color's behaviour profile */
  readonly latencyMs?: number;
  /** No answer at all (the request times out). @default false */
  readonly noAnswer?: boolean;
}

/** The simulated database the database gate checks (scenario `database`). */
export interface SimulatedDatabase {
  /** @default true */
  readonly reachable?: boolean;
  /** @default 5 */
  readonly latencyMs?: number;
}

export interface SimulatedProbesOptions {
  readonly clock: Clock;
  readonly alb: FakeAlb;
  /** The deployed load balancer's ARN (its DNS name and listeners are read from the fake). */
  readonly loadBalancerArn: string;
  readonly targetGroupArns: Record<Color, string>;
  /** Each color's behaviour (the traffic model's profiles). */
  readonly profiles: Partial<Record<Color, BehaviourProfile>>;
  /** Scenario answers by color and path. */
  readonly answers: Partial<Record<Color, Readonly<Record<string, ProbeAnswer>>>>;
  /** A color's production weight now, percent (for regressions with minWeightPercent). */
  readonly weightOf: (color: Color) => number;
  /** Epoch ms at which the rollout starts (regression windows count from it). */
  readonly originMs: number;
  /** The gates' own stream (rehearsal/random.ts). */
  readonly random: Random;
  readonly database?: SimulatedDatabase;
}

/** The HTTP transport and database probe of a rehearsal. */
export class SimulatedProbes implements HttpTransport, DatabaseProbe {
  constructor(private readonly options: SimulatedProbesOptions) {}

  async send(request: ProbeRequest): Promise<ProbeResponse> {
    const { alb, loadBalancerArn } = this.options;
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { latencyMs: 0, error: `invalid URL ${request.url}` };
    }
    const lb = alb.describeLoadBalancers({ LoadBalancerArns: [loadBalancerArn] }).LoadBalancers![0];
    if (url.hostname.toLowerCase() !== (lb.DNSName ?? '').toLowerCase()) return { latencyMs: 0, error: `ENOTFOUND ${url.hostname} (the rehearsal knows only ${lb.DNSName})` };
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const listener = (alb.describeListeners({ LoadBalancerArn: loadBalancerArn }).Listeners ?? []).find((l) => l.Port === port);
    if (!listener) return this.noAnswer(request, `ECONNREFUSED (no listener on port ${port})`);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const weights = alb.forwardWeights(listener.ListenerArn!, { headers, path: url.pathname, host: url.host, method: request.method });
    const color = this.colorOf(weights);
    if (!color) return this.answer(request, { status: 404 }, undefined);
    const healthy = (alb.describeTargetHealth({ TargetGroupArn: this.options.targetGroupArns[color] }).TargetHealthDescriptions ?? [])
      .some((d) => d.TargetHealth?.State === 'healthy');
    if (!healthy) return this.answer(request, { status: NO_HEALTHY_TARGET_STATUS }, undefined);
    const path = `${url.pathname}${url.search}`;
    const scripted = this.options.answers[color]?.[path] ?? this.options.answers[color]?.[url.pathname];
    return this.answer(request, scripted ?? {}, color);
  }

  async check(request: DatabaseProbeRequest): Promise<DatabaseProbeResult> {
    const db = this.options.database ?? {};
    const target = 'simulated database';
    if (db.reachable === false) {
      await this.options.clock.sleep(request.timeoutMs);
      return { ok: false, target, latencyMs: request.timeoutMs, error: `no answer within ${request.timeoutMs} ms` };
    }
    const latencyMs = db.latencyMs ?? DEFAULT_DATABASE_LATENCY_MS;
    if (latencyMs > request.timeoutMs) {
      await this.options.clock.sleep(request.timeoutMs);
      return { ok: false, target, latencyMs: request.timeoutMs, error: `no answer within ${request.timeoutMs} ms` };
    }
    await this.options.clock.sleep(latencyMs);
    return { ok: true, target, latencyMs };
  }

  /** The color a request goes to: the target group that takes it (a test route sends all of it to one). */
  private colorOf(weights: Record<string, number>): Color | undefined {
    let best: Color | undefined;
    let bestShare = 0;
    for (const color of COLORS) {
      const share = weights[this.options.targetGroupArns[color]] ?? 0;
      // A weighted split: the request lands by chance, as on the real load balancer.
      if (share > 0 && (best === undefined || this.options.random.uniform() < share / (share + bestShare))) {
        best = color;
      }
      bestShare += share;
    }
    return best;
  }

  private async answer(request: ProbeRequest, answer: ProbeAnswer, color: Color | undefined): Promise<ProbeResponse> {
    if (answer.noAnswer) return this.noAnswer(request, `no answer within ${request.timeoutMs} ms`);
    const behaviour = color ? this.behaviour(color) : { errorRate: 0, p50Ms: 1, p99Ms: 1 };
    const latencyMs = answer.latencyMs ?? this.drawLatency(behaviour.p50Ms, behaviour.p99Ms);
    if (latencyMs > request.timeoutMs) return this.noAnswer(request, `no answer within ${request.timeoutMs} ms`);
    await this.options.clock.sleep(latencyMs);
    const status = answer.status ?? (this.options.random.uniform() < behaviour.errorRate ? SERVER_ERROR_STATUS : OK_STATUS);
    return { status, latencyMs };
  }

  private async noAnswer(request: ProbeRequest, error: string): Promise<ProbeResponse> {
    await this.options.clock.sleep(request.timeoutMs);
    return { latencyMs: request.timeoutMs, error };
  }

  /** The color's error rate (0-1) and latency now, with its active regressions (as the traffic model's). */
  private behaviour(color: Color): { errorRate: number; p50Ms: number; p99Ms: number } {
    const since = (this.options.clock.now() - this.options.originMs) / MS_PER_SECOND;
    const now = behaviourAt(this.options.profiles[color] ?? {}, since, this.options.weightOf(color));
    return { errorRate: now.errorRate, ...now.latency };
  }

  /** A log-normal draw with this median and 99th percentile (the traffic model's latency), ms to 0.1. */
  private drawLatency(p50Ms: number, p99Ms: number): number {
    const z = this.options.random.normal();
    return Math.round(Math.exp(Math.log(p50Ms) + logNormalSigma({ p50Ms, p99Ms }) * z) * 10) / 10;
  }
}
