import { DEFAULT_BAKE_EXTENSION_SECONDS, InconclusiveAction, METRIC_PERIOD_SECONDS, RolloutPlan } from '../../lambda/shared/contracts';
import { RolloutStrategyConfig } from './rollout-strategy';

/** The circuit breaker's error rate: 5 errors among the last 10 judgements (ProgressiveRolloutProps documents them). */
export const DEFAULT_MAX_JUDGE_ERRORS_IN_WINDOW = 5;
export const DEFAULT_JUDGE_ERROR_WINDOW = 10;
/** Slack on top of the planned duration before the lock (and the execution) expires: retries, slow API calls. */
const LOCK_SLACK_SECONDS = 30 * 60;
/** The lock outlives the planned duration by half again: bakes extended by WAIT and INCONCLUSIVE judgements. */
const LOCK_TTL_FACTOR = 1.5;

export interface RolloutPlanOptions {
  readonly service: string;
  readonly judgeIntervalSeconds: number;
  /** How late CloudWatch data may arrive: every step waits this long, and up to a minute more, for its own data. @default 0 */
  readonly metricDelaySeconds?: number;
  readonly onInconclusive: InconclusiveAction;
  readonly maxJudgeErrors: number;
  /** Judge errors among the last `judgeErrorWindow` judgements that trip the circuit breaker. @default 5 (at most judgeErrorWindow) */
  readonly maxJudgeErrorsInWindow?: number;
  /** Judgements the judge's error rate is counted over. @default 10 */
  readonly judgeErrorWindow?: number;
  /** How long a manual pause waits for promote or abort. */
  readonly pauseTimeoutSeconds: number;
  /** The longest the traffic hooks can run in all (their count × hookTimeout). @default 0 */
  readonly hookSeconds?: number;
  /** The longest one degraded-baseline episode can hold a rollout (the hold, and the pause that may follow). @default 0 */
  readonly baselineHoldSeconds?: number;
  /**
   * How long past its bake each step may run while the sequential judge's evidence reaches neither boundary.
   * @default DEFAULT_BAKE_EXTENSION_SECONDS (the sequential judge's default)
   */
  readonly bakeExtensionSeconds?: number;
}

/**
 * The plan the rollout state machine carries, from a bound strategy. The lock's time to live (which is also the
 * execution's timeout, so an execution never outlives its lock) covers the planned bakes and judgements, each
 * step's wait for its own metrics and its longest bake extension, with slack, plus every pause the plan can make and every traffic hook's timeout.
 */
export function planRollout(strategy: RolloutStrategyConfig, options: RolloutPlanOptions): RolloutPlan {
  const { steps } = strategy;
  const pauses = steps.filter((s) => s.pause).length + (options.onInconclusive === 'PAUSE' ? steps.length : 0);
  const waitForDataSeconds = (options.metricDelaySeconds ?? 0) + METRIC_PERIOD_SECONDS;
  const extensionSeconds = options.bakeExtensionSeconds ?? DEFAULT_BAKE_EXTENSION_SECONDS;
  const plannedSeconds = strategy.totalBakeSeconds + steps.length * (options.judgeIntervalSeconds + waitForDataSeconds);
  return {
    service: options.service,
    strategy: strategy.kind,
    steps,
    stepCount: steps.length,
    judgeIntervalSeconds: options.judgeIntervalSeconds,
    onInconclusive: options.onInconclusive,
    maxJudgeErrors: options.maxJudgeErrors,
    maxJudgeErrorsInWindow: options.maxJudgeErrorsInWindow ?? Math.min(DEFAULT_MAX_JUDGE_ERRORS_IN_WINDOW, options.judgeErrorWindow ?? DEFAULT_JUDGE_ERROR_WINDOW),
    judgeErrorWindow: options.judgeErrorWindow ?? DEFAULT_JUDGE_ERROR_WINDOW,
    ...(options.hookSeconds ? { hookSeconds: options.hookSeconds } : {}),
    ...(options.metricDelaySeconds ? { metricDelaySeconds: options.metricDelaySeconds } : {}),
    ...(options.baselineHoldSeconds ? { baselineHoldSeconds: options.baselineHoldSeconds } : {}),
    bakeExtensionSeconds: extensionSeconds,
    lockTtlSeconds: Math.ceil(plannedSeconds * LOCK_TTL_FACTOR) + pauses * options.pauseTimeoutSeconds + (options.hookSeconds ?? 0)
      + (options.baselineHoldSeconds ?? 0) + steps.length * extensionSeconds + LOCK_SLACK_SECONDS,
  };
}
