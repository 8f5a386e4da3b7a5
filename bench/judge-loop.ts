/**
 * A light rollout loop for the judge benchmark: the real judge decision (lambda/judge/verdict.ts `decide`, with the
 * real window and bake rules of lambda/judge/judge.ts and the plan of RolloutStrategy + planRollout) over seeded,
 * sampled traffic, thousands of times a second. What it exercises and what it does not is in BENCHMARKS.md.
 *
 * The loop, per run (times in minutes from the first shift's minute):
 * - The first shift lands at a random offset u in [0, 1) of minute 0; each bake waits one judge interval (1 min)
 *   before each judgement, so judgements run at u + 1, u + 2, ...; a PASS shifts to the next step at once.
 * - A minute is readable by a judgement at t once it ended at least metricDelay (2 min) before t.
 * - Requests per color and minute: Poisson(rps x 60 x the color's time-weighted share of that minute). 5xx:
 *   Binomial(requests, the color's rate). Latency: log-normal (p50 40 ms, p99 180 ms by default; a regression
 *   multiplies it). Draws from rehearsal/random.ts (the rehearsal's seeded sampler: exact Poisson / binomial).
 * - What each judgement reads (step span, window, or nothing yet) is lambda/judge/judge.ts `planRead`, as in the Lambda.
 * - FAIL rolls back; INCONCLUSIVE follows onInconclusive ROLLBACK (the default); BASELINE_DEGRADED pauses (counted).
 * - A step's bake starts with the evidence the last one ended with (the state machine's Start Bake carries it).
 */
import { Duration } from 'aws-cdk-lib';
import { AnalysisConfig, Color, ColorMetrics, JudgeConfig, JudgeResult, PlannedStep, sequentialBudget, StepEvidence } from '../lambda/shared/contracts';
import { planRead } from '../lambda/judge/judge';
import { MinuteCounts, StepData } from '../lambda/judge/sequential-analysis';
import { observeTraffic } from '../lambda/judge/sequential-sizing';
import { decide, Observation } from '../lambda/judge/verdict';
import { planRollout } from '../lib/rollout/rollout-plan';
import { RolloutStrategy } from '../lib/rollout/rollout-strategy';
import { Random } from '../rehearsal/random';

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

export type JudgeMethod = 'SEQUENTIAL' | 'THRESHOLDS';

/** One color's behaviour in a run. */
export interface ColorBehaviour {
  /** 5xx rate, 0-1. */
  readonly errorRate: number;
  /**
   * Overdispersion of the 5xx: the coefficient of variation of the rate from minute to minute, per color (a sick
   * host, a retry storm). Each color's rate in each minute is errorRate x G, G ~ Gamma(1/cv², scale cv²) (mean 1),
   * drawn independently per color, so the 5xx counts are negative-binomial-like instead of binomial. @default 0
   */
  readonly burstiness?: number;
  /** Latency multiplied by this. @default 1 */
  readonly latencyFactor?: number;
}

/**
 * The threshold judge's settings a calibration may raise (bench/judge.bench.ts: the fair comparison, the thresholds
 * tuned per traffic level to the same false-rollback target). Absent fields: LOOP_PLAN's.
 */
export interface ThresholdSettings {
  readonly minRequests?: number;
  readonly errorRateBaselineFactor?: number;
  readonly latencyBaselineFactor?: number;
}

export interface LoopOptions {
  readonly method: JudgeMethod;
  /** THRESHOLDS only: settings other than LOOP_PLAN's. */
  readonly thresholds?: ThresholdSettings;
  readonly requestsPerSecond: number;
  readonly stable: ColorBehaviour;
  readonly release: ColorBehaviour;
  /** Absolute 5xx limit, percent. @default 1 */
  readonly maxErrorRatePercent?: number;
  readonly seed: number;
}

export type LoopOutcome = 'RELEASED' | 'ROLLED_BACK' | 'INCONCLUSIVE' | 'PAUSED';

export interface LoopResult {
  readonly outcome: LoopOutcome;
  /** Minutes from the first shift to the FAIL (ROLLED_BACK only). */
  readonly detectMinutes?: number;
  /** Some judgement held for a degraded baseline. */
  readonly held: boolean;
  /** The step (1-based) the run ended in. */
  readonly step: number;
  readonly reasons: readonly string[];
}

/** The example app's rollout: canary 1, 5, 25, 50, 100 percent, 5-minute bakes, judged every minute, 2 min metric delay. */
export const LOOP_PLAN = {
  strategy: () => RolloutStrategy.canary({ bake: Duration.minutes(5) }),
  judgeInterval: Duration.minutes(1),
  metricDelaySeconds: 120,
  latency: logNormal(40, 180),
  falseRollbackRatePercent: 1,
  minRequests: 50,
  latencyMinRequests: 1000,
  errorRateBaselineFactor: 2,
  latencyBaselineFactor: 1.5,
  maxLatencyP99Ms: 2000,
  baselineHoldSeconds: 900,
} as const;

/** The sequential tests per step (as ProgressiveRollout counts them: 5xx vs stable, 5xx limit, p99 vs stable, p99 limit). */
const MS_PER_MINUTE = 60_000;
const PERCENT = 100;
/** Minutes a run may last before it counts as stuck (never, with these plans: a guard against a loop bug). */
const MAX_MINUTES = 24 * 60;
/** Small samples' p99 is drawn request by request (nearest rank, as CloudWatch); larger ones by the Bahadur approximation. */
const EXACT_SAMPLE_MAX = 200;
/** Epoch of the loop's minute 0 (any whole minute). */
const EPOCH_MS = Date.UTC(2026, 0, 1);

let planned: readonly PlannedStep[] | undefined;
/** The example app's planned steps (RolloutStrategy + planRollout). */
export function plannedSteps(): readonly PlannedStep[] {
  if (planned) return planned;
  const strategy = LOOP_PLAN.strategy().bind({ path: 'Bench/Rollout', judgeInterval: LOOP_PLAN.judgeInterval });
  planned = planRollout(strategy, {
    service: 'bench', judgeIntervalSeconds: LOOP_PLAN.judgeInterval.toSeconds(), metricDelaySeconds: LOOP_PLAN.metricDelaySeconds,
    onInconclusive: 'ROLLBACK', maxJudgeErrors: 5, pauseTimeoutSeconds: 86400,
  }).steps;
  return planned;
}

export function judgeConfig(method: JudgeMethod, maxErrorRatePercent: number, steps: number, thresholds: ThresholdSettings = {}): JudgeConfig {
  const tuned = method === 'THRESHOLDS' ? thresholds : {};
  const analysis: AnalysisConfig = {
    loadBalancer: 'app/bench/1', targetGroups: { blue: 'targetgroup/blue/1', green: 'targetgroup/green/2' },
    windowSeconds: LOOP_PLAN.judgeInterval.toSeconds(),
    minRequests: tuned.minRequests ?? LOOP_PLAN.minRequests,
    maxErrorRatePercent,
    errorRateBaselineFactor: tuned.errorRateBaselineFactor ?? LOOP_PLAN.errorRateBaselineFactor,
    maxLatencyP99Ms: LOOP_PLAN.maxLatencyP99Ms,
    latencyBaselineFactor: tuned.latencyBaselineFactor ?? LOOP_PLAN.latencyBaselineFactor,
    method,
    ...(method === 'SEQUENTIAL' ? {
      sequential: sequentialBudget(LOOP_PLAN.falseRollbackRatePercent, steps, LOOP_PLAN.latencyMinRequests),
    } : {}),
  };
  return { alarmsByColor: { blue: [], green: [] }, sharedAlarms: [], analysis, metricDelaySeconds: LOOP_PLAN.metricDelaySeconds, baselineHoldSeconds: LOOP_PLAN.baselineHoldSeconds };
}

/** One color's sampled minute: counts and how many requests were above its true p98.5 / p99 / p99.5. */
interface ColorMinute {
  readonly requests: number;
  readonly errors: number;
  readonly above: { readonly p985: number; readonly p99: number; readonly p995: number; readonly p45: number; readonly p50: number; readonly p55: number };
  readonly dist: LogNormal;
  /** Nearest-rank sample p99 of a small minute, ms. */
  readonly exactP99Ms?: number;
}

const Z = {
  p985: 2.1700903775845606, p99: 2.3263478740408408, p995: 2.5758293035489004, p45: -0.12566134685507402, p50: 0, p55: 0.12566134685507402,
} as const;
const TAIL = { p985: 0.015, p99: 0.01, p995: 0.005, p45: 0.55, p50: 0.5, p55: 0.45 } as const;
const phi = (z: number) => Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI);

/** Bahadur: ln q̂ = ln q + (share above q - tail) / g. */
function percentileMs(dist: LogNormal, k: keyof typeof Z, above: number, n: number): number {
  const g = phi(Z[k]) / dist.sigma;
  return Math.exp(Math.log(dist.p50Ms) + dist.sigma * Z[k] + (above / n - TAIL[k]) / g);
}

export function runRollout(options: LoopOptions): LoopResult {
  const rng = Random.seeded(options.seed, 'judge-bench');
  const steps = plannedSteps();
  const config = judgeConfig(options.method, options.maxErrorRatePercent ?? 1, steps.length, options.thresholds);
  const target: Color = 'green';
  const stable: Color = 'blue';
  const base = LOOP_PLAN.latency;
  const distOf = (b: ColorBehaviour): LogNormal => ({ p50Ms: base.p50Ms * (b.latencyFactor ?? 1), sigma: base.sigma });
  const behaviour = { [target]: options.release, [stable]: options.stable } as Record<Color, ColorBehaviour>;

  const u = rng.uniform();
  /** Weight (0-1) of the new color from each shift time (minutes) on. */
  const shifts: Array<{ at: number; weight: number }> = [];
  const weightAt = (t: number) => {
    let w = 0;
    for (const s of shifts) if (s.at <= t) w = s.weight;
    return w;
  };
  const minutes: Array<Record<Color, ColorMinute>> = [];
  const sampleMinute = (m: number): Record<Color, ColorMinute> => {
    // The only shifts are at u + whole minutes: a minute's share is the time-weighted mix around its offset u.
    const share = u * weightAt(m) + (1 - u) * weightAt(m + u);
    const out = {} as Record<Color, ColorMinute>;
    for (const c of [target, stable]) {
      const s = c === target ? share : 1 - share;
      const requests = rng.poisson(options.requestsPerSecond * 60 * s);
      const dist = distOf(behaviour[c]);
      const over995 = rng.binomial(requests, 0.005);
      const over99 = over995 + rng.binomial(requests - over995, 0.005 / 0.995);
      const over985 = over99 + rng.binomial(requests - over99, 0.005 / 0.99);
      // Around the median, from a stream of their own (the runs of both judges stay the same draw for draw).
      const over55 = medianRng.binomial(requests, 0.45);
      const over50 = over55 + medianRng.binomial(requests - over55, 0.05 / 0.55);
      const over45 = over50 + medianRng.binomial(requests - over50, 0.05 / 0.5);
      let exactP99Ms: number | undefined;
      if (options.method === 'THRESHOLDS' && requests > 0 && requests <= EXACT_SAMPLE_MAX) {
        const draws = Array.from({ length: requests }, () => dist.p50Ms * Math.exp(dist.sigma * rng.normal())).sort((a, b) => a - b);
        exactP99Ms = draws[Math.ceil(0.99 * requests) - 1];
      }
      out[c] = { requests, errors: rng.binomial(requests, rateOf(behaviour[c])), above: { p985: over985, p99: over99, p995: over995, p45: over45, p50: over50, p55: over55 }, dist, ...(exactP99Ms !== undefined ? { exactP99Ms } : {}) };
    }
    return out;
  };
  const medianRng = Random.seeded(options.seed, 'judge-bench-median');
  const burstRng = Random.seeded(options.seed, 'judge-bench-burst');
  /** The color's 5xx rate in one minute: constant, or with its burstiness. */
  const rateOf = (b: ColorBehaviour): number => {
    const cv = b.burstiness ?? 0;
    if (!(cv > 0)) return b.errorRate;
    const shape = 1 / (cv * cv);
    return Math.min(1, b.errorRate * burstRng.gamma(shape) / shape);
  };
  /** Minutes before the first shift (m < 0): the stable color alone, from their own stream (the runs stay comparable). */
  const beforeRng = Random.seeded(options.seed, 'judge-bench-before');
  const before = new Map<number, MinuteCounts>();
  const beforeMinute = (m: number): MinuteCounts => {
    let mc = before.get(m);
    if (!mc) {
      const requests = beforeRng.poisson(options.requestsPerSecond * 60);
      const errors = beforeRng.binomial(requests, rateOf(behaviour[stable]));
      mc = { startMs: EPOCH_MS + m * MS_PER_MINUTE, counts: { [stable]: { requests, errors }, [target]: { requests: 0, errors: 0 } } as MinuteCounts['counts'] };
      before.set(m, mc);
    }
    return mc;
  };
  const trafficBefore = (fromMinute: number, toMinute: number) => {
    const list: MinuteCounts[] = [];
    for (let m = fromMinute; m < Math.min(0, toMinute); m++) list.push(beforeMinute(m));
    return observeTraffic(list, EPOCH_MS + fromMinute * MS_PER_MINUTE, EPOCH_MS + toMinute * MS_PER_MINUTE, stable);
  };
  const minute = (m: number) => {
    while (minutes.length <= m) minutes.push(sampleMinute(minutes.length));
    return minutes[m];
  };
  const windowMetrics = (fromMinute: number, toMinute: number): Record<Color, ColorMetrics> => {
    const of = (c: Color): ColorMetrics => {
      let requests = 0;
      let errors = 0;
      let p99: number | null = null;
      for (let m = Math.max(0, fromMinute); m < toMinute; m++) {
        const cm = minute(m)[c];
        requests += cm.requests;
        errors += cm.errors;
        if (cm.requests > 0) {
          const value = cm.exactP99Ms ?? percentileMs(cm.dist, 'p99', cm.above.p99, cm.requests);
          p99 = p99 === null ? value : Math.max(p99, value);
        }
      }
      return { requests, errors, errorRatePercent: requests > 0 ? (errors * PERCENT) / requests : 0, latencyP99Ms: p99 };
    };
    return { blue: of('blue'), green: of('green') };
  };
  const stepData = (fromMinute: number, toMinute: number): StepData => {
    const list: MinuteCounts[] = [];
    const latency = {} as StepData['latency'];
    const zero = () => ({ n: 0, p985: 0, p99: 0, p995: 0, p45: 0, p50: 0, p55: 0 });
    const sums = { blue: zero(), green: zero() };
    for (let m = Math.max(0, fromMinute); m < toMinute; m++) {
      const mm = minute(m);
      list.push({ startMs: EPOCH_MS + m * MS_PER_MINUTE, counts: { blue: { requests: mm.blue.requests, errors: mm.blue.errors }, green: { requests: mm.green.requests, errors: mm.green.errors } } });
      for (const c of ['blue', 'green'] as const) {
        sums[c].n += mm[c].requests;
        sums[c].p985 += mm[c].above.p985;
        sums[c].p99 += mm[c].above.p99;
        sums[c].p995 += mm[c].above.p995;
        sums[c].p45 += mm[c].above.p45;
        sums[c].p50 += mm[c].above.p50;
        sums[c].p55 += mm[c].above.p55;
      }
    }
    for (const c of ['blue', 'green'] as const) {
      const d = distOf(behaviour[c]);
      const n = sums[c].n;
      latency[c] = n === 0
        ? { p985Ms: null, p99Ms: null, p995Ms: null }
        : {
          p985Ms: percentileMs(d, 'p985', sums[c].p985, n), p99Ms: percentileMs(d, 'p99', sums[c].p99, n), p995Ms: percentileMs(d, 'p995', sums[c].p995, n),
          p45Ms: percentileMs(d, 'p45', sums[c].p45, n), p50Ms: percentileMs(d, 'p50', sums[c].p50, n), p55Ms: percentileMs(d, 'p55', sums[c].p55, n),
        };
    }
    return { startMs: EPOCH_MS + fromMinute * MS_PER_MINUTE, endMs: EPOCH_MS + toMinute * MS_PER_MINUTE, minutes: list, latency };
  };

  let held = false;
  /** Judge intervals since the first shift (whole numbers: no drift from repeated float addition). */
  let k = 0;
  let t = u;
  /** The judge's evidence, carried from step to step as the state machine's Start Bake does. */
  let evidence: StepEvidence = {};
  /** The reasons of the last PASS (a released run's: what cleared its last step). */
  let lastPass: readonly string[] = [];
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index];
    shifts.push({ at: t, weight: step.percent / PERCENT });
    let bake: JudgeResult['bake'] = { passes: 0, required: step.bakeIntervals, startedAt: new Date(EPOCH_MS + t * MS_PER_MINUTE).toISOString(), evidence };
    for (;;) {
      k += 1;
      t = u + k * LOOP_PLAN.judgeInterval.toMinutes();
      if (t > MAX_MINUTES) throw new Error(`run ${options.seed} did not end within ${MAX_MINUTES} minutes`);
      const nowMs = EPOCH_MS + t * MS_PER_MINUTE;
      const read = planRead(config, bake, nowMs);
      const minuteOf = (ms: number) => (ms - EPOCH_MS) / MS_PER_MINUTE;
      const traffic = read.traffic ? trafficBefore(minuteOf(read.traffic.startMs), minuteOf(read.traffic.endMs)) : null;
      const seen: Observation = {
        ...(traffic ? { traffic } : {}),
        nowMs, alarms: [], failingAlarms: [], stableAlarms: [], notYet: read.notYet,
        ...(read.step ? { step: stepData(minuteOf(read.step.startMs), minuteOf(read.step.endMs)) } : {}),
        ...(read.window ? { windowMetrics: windowMetrics(minuteOf(read.window.startMs), minuteOf(read.window.endMs)) } : {}),
      };
      const result = decide(config, { targetColor: target, stableColor: stable, bake, percent: step.percent }, seen);
      bake = result.bake;
      if (result.verdict === 'HOLD') held = true;
      if (result.verdict === 'FAIL') return { outcome: 'ROLLED_BACK', detectMinutes: t - u, held, step: step.number, reasons: result.reasons };
      if (result.verdict === 'INCONCLUSIVE') return { outcome: 'INCONCLUSIVE', held, step: step.number, reasons: result.reasons };
      if (result.verdict === 'BASELINE_DEGRADED') return { outcome: 'PAUSED', held: true, step: step.number, reasons: result.reasons };
      if (result.verdict === 'PASS') {
        lastPass = result.reasons;
        evidence = result.bake.evidence ?? {};
        break;
      }
    }
  }
  return { outcome: 'RELEASED', held, step: steps.length, reasons: lastPass };
}
