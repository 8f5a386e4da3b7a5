import { AnalysisConfig, Color, ColorMetrics } from '../shared/contracts';

/**
 * The metric analysis of a release: the new color's metrics against fixed thresholds and
 * against the stable color (the baseline). A pure function of the numbers.
 *
 * - Fewer requests on the new color than `minRequests`: INCONCLUSIVE. Missing data is a policy,
 *   not an accident: the state machine decides what an inconclusive judgement does. No rate or
 *   latency check runs on so few requests.
 * - 5xx rate above `maxErrorRatePercent` AND above the stable rate x `errorRateBaselineFactor`:
 *   FAIL. When the stable color has fewer than `minRequests` itself (at 100%, or early), it is
 *   no baseline and the absolute threshold alone decides.
 * - p99 above `maxLatencyP99Ms`: FAIL.
 * - p99 above the stable p99 x `latencyBaselineFactor`, when the stable color is a baseline
 *   (at least `minRequests` and a p99): FAIL.
 */

export type AnalysisOutcome = 'HEALTHY' | 'INCONCLUSIVE' | 'FAIL';

export interface Analysis {
  readonly outcome: AnalysisOutcome;
  /** One sentence per finding, with the numbers (empty when healthy). */
  readonly reasons: readonly string[];
}

/** Decimals shown for rates and latencies in reasons. */
const SHOWN_DECIMALS = 2;

function num(value: number): string {
  return String(Number(value.toFixed(SHOWN_DECIMALS)));
}

export function analyse(
  config: AnalysisConfig, metrics: Record<Color, ColorMetrics>, targetColor: Color, stableColor: Color,
): Analysis {
  const fresh = metrics[targetColor];
  const stable = metrics[stableColor];
  const window = `${config.windowSeconds} s of data`;
  if (fresh.requests < config.minRequests) {
    return {
      outcome: 'INCONCLUSIVE',
      reasons: [`${targetColor} served ${fresh.requests} request(s) in ${window}; at least ${config.minRequests} are needed to judge it.`],
    };
  }
  const stableIsBaseline = stable.requests >= config.minRequests;
  const reasons: string[] = [];

  if (fresh.errorRatePercent > config.maxErrorRatePercent) {
    const baselineLimit = stable.errorRatePercent * config.errorRateBaselineFactor;
    if (!stableIsBaseline) {
      reasons.push(`${targetColor} answered ${num(fresh.errorRatePercent)}% of ${fresh.requests} requests with a 5xx in ${window}, above the ${num(config.maxErrorRatePercent)}% limit (${stableColor} served ${stable.requests} request(s), too few to be a baseline).`);
    } else if (fresh.errorRatePercent > baselineLimit) {
      reasons.push(`${targetColor} answered ${num(fresh.errorRatePercent)}% of ${fresh.requests} requests with a 5xx in ${window}, above the ${num(config.maxErrorRatePercent)}% limit and above ${num(config.errorRateBaselineFactor)} x ${stableColor}'s ${num(stable.errorRatePercent)}% (${num(baselineLimit)}%).`);
    }
  }

  const p99 = fresh.latencyP99Ms;
  if (p99 !== null && config.maxLatencyP99Ms !== undefined && p99 > config.maxLatencyP99Ms) {
    reasons.push(`${targetColor}'s p99 latency is ${num(p99)} ms in ${window}, above the ${num(config.maxLatencyP99Ms)} ms limit.`);
  }
  const stableP99 = stable.latencyP99Ms;
  if (p99 !== null && stableP99 !== null && stableIsBaseline && config.latencyBaselineFactor !== undefined) {
    const baselineLimit = stableP99 * config.latencyBaselineFactor;
    if (p99 > baselineLimit) {
      reasons.push(`${targetColor}'s p99 latency is ${num(p99)} ms in ${window}, above ${num(config.latencyBaselineFactor)} x ${stableColor}'s ${num(stableP99)} ms (${num(baselineLimit)} ms).`);
    }
  }
  return { outcome: reasons.length > 0 ? 'FAIL' : 'HEALTHY', reasons };
}
