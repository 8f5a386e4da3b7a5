/**
 * Hand-made RehearsalResults for the presentation tests: a canary (1, 5, 25, 50, 100; bake 5 min; 1,000 req/s)
 * that either releases or meets a 20% error-rate regression on green and rolls back.
 */
import type { Color, Verdict, Weights } from '../../lambda/shared/contracts';
import type { RehearsalOutcome, RehearsalResult, SeriesPoint, TimelineEntry } from '../../rehearsal/result';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const RPS = 1000;
const BASELINE_ERROR_RATE = 0.001;

interface FixtureOptions {
  readonly scenario: string;
  /** When green starts failing (ms), and how much. */
  readonly regression?: { atMs: number; errorRate: number };
  /** When the rollout detects it and when 100% blue is verified. */
  readonly detectedAtMs?: number;
  readonly safeAtMs?: number;
}

const PLAN = [1, 5, 25, 50, 100];
const PREFLIGHT_MS = 5 * SECOND;
const BAKE_MS = 5 * MINUTE;

export function canaryFixture(options: FixtureOptions): RehearsalResult {
  const timeline: TimelineEntry[] = [];
  const weightChanges: { atMs: number; weights: Weights }[] = [{ atMs: 0, weights: { blue: 100, green: 0 } }];
  timeline.push({ atMs: 0, kind: 'state', text: 'entered Preflight', state: 'Preflight' });
  timeline.push({ atMs: 0, kind: 'event', text: 'Rollout Started: green' });
  timeline.push({ atMs: 0, kind: 'weights', text: 'live weights', weights: { blue: 100, green: 0 } });
  let t = PREFLIGHT_MS;
  const rolledBack = options.detectedAtMs !== undefined;
  const end = rolledBack ? options.safeAtMs! + 2 * SECOND : PREFLIGHT_MS + PLAN.length * BAKE_MS + 10 * SECOND;
  for (const [i, percent] of PLAN.entries()) {
    if (rolledBack && t >= options.detectedAtMs!) break;
    const weights = { blue: 100 - percent, green: percent };
    weightChanges.push({ atMs: t, weights });
    timeline.push({ atMs: t, kind: 'state', text: `entered SetWeight (step ${i + 1})`, state: 'SetWeight' });
    timeline.push({ atMs: t, kind: 'weights', text: `step ${i + 1}: ${percent}% to green`, weights });
    for (let j = 1; j <= 5; j++) {
      const at = t + j * MINUTE;
      if (rolledBack && at >= options.detectedAtMs!) break;
      const verdict: Verdict = j === 5 ? 'PASS' : 'WAIT';
      timeline.push({ atMs: at, kind: 'verdict', text: `healthy, bake ${j}/5`, verdict });
    }
    t += BAKE_MS;
  }
  if (options.regression) timeline.push({ atMs: options.regression.atMs, kind: 'note', text: `regression: green fails ${options.regression.errorRate * 100}% of requests` });
  if (rolledBack) {
    timeline.push({ atMs: options.detectedAtMs! - 30 * SECOND, kind: 'alarm', text: 'EverJust-green-5xx OK -> ALARM' });
    timeline.push({ atMs: options.detectedAtMs!, kind: 'verdict', text: 'green 5xx 20% > 1%', verdict: 'FAIL' });
    timeline.push({ atMs: options.detectedAtMs!, kind: 'state', text: 'entered Rollback', state: 'Rollback' });
    timeline.push({ atMs: options.detectedAtMs!, kind: 'event', text: 'Rollout Rollback Triggered' });
    timeline.push({ atMs: options.safeAtMs!, kind: 'weights', text: 'rollback: 100% to blue, verified', weights: { blue: 100, green: 0 } });
    weightChanges.push({ atMs: options.safeAtMs!, weights: { blue: 100, green: 0 } });
    timeline.push({ atMs: options.safeAtMs! + SECOND, kind: 'event', text: 'Rollout Rolled Back' });
  } else {
    timeline.push({ atMs: end, kind: 'event', text: 'Rollout Completed: green is live' });
  }
  timeline.sort((a, b) => a.atMs - b.atMs);

  const series: SeriesPoint[] = [];
  let failed = 0;
  let total = 0;
  for (let at = 0; at < end; at += SECOND) {
    const weights = [...weightChanges].reverse().find((w) => w.atMs <= at)!.weights;
    const requests: Record<Color, number> = { blue: (RPS * weights.blue) / 100, green: (RPS * weights.green) / 100 };
    const regressed = options.regression && at >= options.regression.atMs;
    const greenRate = regressed ? options.regression!.errorRate : BASELINE_ERROR_RATE;
    const errors: Record<Color, number> = { blue: Math.round(requests.blue * BASELINE_ERROR_RATE), green: Math.round(requests.green * greenRate) };
    if (regressed) failed += Math.round(requests.green * (greenRate - BASELINE_ERROR_RATE));
    total += RPS;
    series.push({
      atMs: at, weights, requests, errors,
      errorRatePercent: {
        blue: requests.blue > 0 ? (100 * errors.blue) / requests.blue : null,
        green: requests.green > 0 ? (100 * errors.green) / requests.green : null,
      },
      latencyP99Ms: { blue: requests.blue > 0 ? 120 : null, green: requests.green > 0 ? 130 : null },
    });
  }
  const outcome: RehearsalOutcome = rolledBack ? 'ROLLED_BACK' : 'RELEASED';
  return {
    summary: {
      scenario: options.scenario,
      strategy: 'canary 1, 5, 25, 50, 100 (bake 5 min)',
      outcome,
      executionStatus: rolledBack ? 'FAILED' : 'SUCCEEDED',
      ...(rolledBack ? { error: 'ZdtRolledBack', cause: 'judge: green 5xx rate 20% > 1% (stable 0.1%); traffic restored to 100% blue' } : {}),
      durationMs: end,
      regressionStartedAtMs: options.regression?.atMs,
      detectedAtMs: options.detectedAtMs,
      safeAtMs: options.safeAtMs,
      timeToDetectMs: options.detectedAtMs !== undefined && options.regression ? options.detectedAtMs - options.regression.atMs : undefined,
      timeToSafeMs: options.safeAtMs !== undefined && options.detectedAtMs !== undefined ? options.safeAtMs - options.detectedAtMs : undefined,
      failedRequests: failed,
      totalRequests: total,
      finalWeights: rolledBack ? { blue: 100, green: 0 } : { blue: 0, green: 100 },
      liveColor: rolledBack ? 'blue' : 'green',
      stateTransitions: rolledBack ? 41 : 187,
      lambdaInvocations: rolledBack ? 12 : 58,
      estimatedCostUsd: rolledBack ? 0.001025 : 0.004675,
      events: rolledBack
        ? [
          { atMs: 0, detailType: 'Rollout Started', detail: { targetColor: 'green', stableColor: 'blue' } },
          { atMs: options.detectedAtMs!, detailType: 'Rollout Rollback Triggered', detail: { step: 1, reason: 'judge FAIL' } },
          { atMs: options.safeAtMs! + SECOND, detailType: 'Rollout Rolled Back', detail: { stableColor: 'blue' } },
        ]
        : [
          { atMs: 0, detailType: 'Rollout Started', detail: { targetColor: 'green', stableColor: 'blue' } },
          ...PLAN.map((percent, i) => ({ atMs: PREFLIGHT_MS + (i + 1) * BAKE_MS, detailType: 'Rollout Step Completed', detail: { step: i + 1, percent } })),
          { atMs: end, detailType: 'Rollout Completed', detail: { targetColor: 'green' } },
        ],
    },
    timeline,
    series,
  };
}

export const healthyRelease = (): RehearsalResult => canaryFixture({ scenario: 'healthy-release' });

export const badRelease = (): RehearsalResult => canaryFixture({
  scenario: 'error-rate-regression',
  regression: { atMs: PREFLIGHT_MS, errorRate: 0.2 },
  detectedAtMs: PREFLIGHT_MS + MINUTE,
  safeAtMs: PREFLIGHT_MS + MINUTE + 2 * SECOND,
});
