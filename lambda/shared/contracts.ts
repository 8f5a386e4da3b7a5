/**
 * Typed contracts between the synth-time constructs (lib/) and the runtime handlers (lambda/).
 *
 * This module is the only thing both sides import. It holds types and plain constants only:
 * no AWS SDK, no aws-cdk-lib. The constructs render these shapes into Lambda environment
 * variables and state-machine payloads; the handlers parse and act on them.
 */

/** The two colors of a blue/green pair. */
export type Color = 'blue' | 'green';
export const COLORS: readonly Color[] = ['blue', 'green'];
export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}
export function isColor(value: unknown): value is Color {
  return value === 'blue' || value === 'green';
}

/** Production weights by color, integers 0-100 summing to 100. */
export interface Weights {
  readonly blue: number;
  readonly green: number;
}

/** Limits of Application Load Balancer listener rules, checked at synth (lib/) and at runtime (lambda/) alike. */
export const AlbLimits = {
  /** Listener rule priorities run from 1 to this. */
  MAX_RULE_PRIORITY: 50000,
  /** Values (match evaluations) in one rule condition. */
  MAX_VALUES_PER_CONDITION: 3,
  /** Values (match evaluations) across the conditions of one rule. */
  MAX_VALUES_PER_RULE: 5,
  /** Characters of one condition value. */
  MAX_CONDITION_VALUE_LENGTH: 128,
  /** Longest target-group stickiness of a weighted forward, seconds (7 days). */
  MAX_STICKINESS_SECONDS: 604800,
} as const;

/** Every handler reads its configuration from this environment variable (JSON). */
export const CONFIG_ENV = 'ZDT_CONFIG';

/** CloudFormation Metadata key on a Lambda function naming the pre-bundled handler it runs (read by the rehearsal). */
export const HANDLER_METADATA_KEY = 'cdk-zero-downtime:handler';

/**
 * Namespace of the CloudWatch metrics the library publishes: Rollbacks and RollbackFailures (the rollout state
 * machine, dimension Service) and TrafficWeight (the router, dimensions Service and Color).
 */
export const METRIC_NAMESPACE = 'CdkZeroDowntime';
/**
 * ALB metrics have one-minute resolution: the judge reads whole periods of this length, and a step's first counted
 * judgement can wait up to one period more than the metric delay (lib/rollout/rollout-plan.ts).
 */
export const METRIC_PERIOD_SECONDS = 60;

/** The production weight of one color in percent (0-100), published by the router after every verified shift or rollback. */
export const TRAFFIC_WEIGHT_METRIC = 'TrafficWeight';
/**
 * Failed attempts of an execution guard to restore traffic (namespace METRIC_NAMESPACE, dimension Service) or a flag
 * (dimensions Service and Flag).
 */
export const GUARD_FAILURES_METRIC = 'GuardFailures';

/** A rollout event or notification that failed after its retries (dimension Service): subscribers did not hear it. */
export const NOTIFICATION_FAILURES_METRIC = 'NotificationFailures';

/** Dimension names of the library's metrics. */
export const MetricDimension = {
  /** The rollout's service name. */
  SERVICE: 'Service',
  /** `blue` or `green`. */
  COLOR: 'Color',
  /** The flag of a guarded flag rollout (its guard's GuardFailures). */
  FLAG: 'Flag',
} as const;

/** Source of every event the library puts on EventBridge. */
export const EVENT_SOURCE = 'cdk-zero-downtime';

/** detail-type of the rollout events (EventBridge) and subjects of the notifications (SNS). */
export const RolloutEvent = {
  STARTED: 'Rollout Started',
  STEP_COMPLETED: 'Rollout Step Completed',
  PAUSED: 'Rollout Paused',
  ROLLBACK_TRIGGERED: 'Rollout Rollback Triggered',
  ROLLED_BACK: 'Rollout Rolled Back',
  ROLLBACK_FAILED: 'Rollout Rollback Failed',
  COMPLETED: 'Rollout Completed',
  /** Sent with COMPLETED when every judgement was INCONCLUSIVE and onInconclusive is PROCEED: nothing judged the release. */
  RELEASED_UNJUDGED: 'Rollout Released Unjudged',
  /**
   * The stable color breaks its own limits (its alarms, or its 5xx rate above the absolute limit) while a step bakes:
   * the step holds (its judgements do not count toward the bake), then follows the rollout's baseline policy.
   */
  BASELINE_DEGRADED: 'Rollout Baseline Degraded',
  /**
   * The execution guard could not restore traffic after an execution ended holding the lock (an attempt failed;
   * it is retried): traffic may still be split. Sent by the guard at each failed attempt.
   */
  GUARD_FAILED: 'Rollout Guard Failed',
  /**
   * The operator promoted the rollout to full (`zdt promote --full`): the remaining steps are skipped, the new color
   * gets 100% next, and that step's bake is still judged (a bad release still rolls back).
   */
  PROMOTED_FULL: 'Rollout Promoted Full',
} as const;
export type RolloutEventType = (typeof RolloutEvent)[keyof typeof RolloutEvent];

/**
 * What a traffic hook receives (ProgressiveRollout `preTrafficHooks`, before any production traffic moves, and
 * `postTrafficHooks`, once the new color has 100%, before the final record): the user's own smoke tests or
 * validation gates, as Lambda functions.
 */
export interface TrafficHookEvent {
  readonly hook: 'preTraffic' | 'postTraffic';
  readonly service: string;
  /** ARN of the rollout execution. */
  readonly execution: string;
  readonly targetColor: Color;
  readonly stableColor: Color;
  /** Requests with this header reach the target color only (BlueGreenRouting's test route); absent without one. */
  readonly testRoute?: { readonly header: string; readonly value: Color };
}

/** What a traffic hook returns: 'Succeeded' lets the rollout go on; anything else, an error or a timeout rolls it back. */
export interface TrafficHookResult {
  readonly status: 'Succeeded' | 'Failed';
  /** Why, for the rollback's cause. */
  readonly reason?: string;
}

/**
 * Error names the handlers throw (Error.name). Step Functions sees them as the error of the
 * task, so the state machine retries and catches by these names.
 */
export const ErrorName = {
  /** Throttling, 5xx, timeouts, network faults: safe to retry. */
  RETRYABLE: 'ZdtRetryableError',
  /** The read-back after a write does not show the desired state. Retryable. */
  WEIGHT_VERIFICATION_FAILED: 'ZdtWeightVerificationFailed',
  /** Another rollout of the same service holds the lock. */
  ROLLOUT_IN_PROGRESS: 'ZdtRolloutInProgress',
  /** The target group of the color about to receive traffic has no registered healthy targets. */
  TARGETS_UNHEALTHY: 'ZdtTargetsUnhealthy',
  /** An alarm the judge must watch does not exist. */
  ALARM_NOT_FOUND: 'ZdtAlarmNotFound',
  /** The live route is not in a shape the router understands (rule missing, foreign target groups). */
  ROUTE_INVALID: 'ZdtRouteInvalid',
  /** The requested target color already carries all production traffic. */
  ALREADY_LIVE: 'ZdtAlreadyLive',
  /** A request payload or configuration is malformed (a bug or a hand-edited input). */
  INVALID_REQUEST: 'ZdtInvalidRequest',
  /** The operator aborted a paused rollout. */
  ABORTED: 'ZdtAborted',
  /** Error of a rollout execution that rolled back: traffic is 100% on the stable color, verified. */
  ROLLED_BACK: 'ZdtRolledBack',
  /** Error of a rollout execution whose rollback could not restore traffic: it may still be split. */
  ROLLBACK_FAILED: 'ZdtRollbackFailed',
  /** A high-resolution alarm of the new color went to ALARM during a bake: the bake ends at once and rolls back. */
  HIGH_RESOLUTION_ALARM: 'ZdtHighResolutionAlarm',
} as const;
export type ErrorNameType = (typeof ErrorName)[keyof typeof ErrorName];

// ---------------------------------------------------------------------------------------------
// Router (lambda/routing/router-handler.ts)
// ---------------------------------------------------------------------------------------------

/** ZDT_CONFIG of the router Lambda. */
export interface RouterConfig {
  /** ARN of the listener that holds the live rule. */
  readonly listenerArn: string;
  /** ARN of the listener rule that carries production traffic (owned by the live-route custom resource). */
  readonly liveRuleArn: string;
  /** Target group ARN of each color. */
  readonly targetGroupArns: Record<Color, string>;
  /** Header whose values select a user segment, for segment-first rollouts (e.g. x-zdt-segment). */
  readonly segmentHeader: string;
  /** Priority of the segment rule the router creates at runtime (just before the live rule). */
  readonly segmentRulePriority: number;
  /**
   * Publish the live weights as metric TRAFFIC_WEIGHT_METRIC (namespace METRIC_NAMESPACE, dimensions Service and
   * Color) after every verified shift or rollback. Absent: nothing is published.
   */
  readonly metrics?: { readonly service: string };
}

export type RouterRequest =
  /** Read the live weights and any segment route. */
  | { readonly action: 'describe' }
  /** Fail with TARGETS_UNHEALTHY unless the color's target group has registered, healthy targets. */
  | { readonly action: 'checkTargets'; readonly color: Color; readonly minHealthyPercent?: number }
  /**
   * Move production traffic so that `targetColor` gets `percent` and the other color the rest,
   * and route the listed segments (header values) wholly to `targetColor` (empty: no segment route).
   * Idempotent; verified by reading back.
   */
  | { readonly action: 'shift'; readonly targetColor: Color; readonly percent: number; readonly segments: readonly string[] }
  /** 100% to `stableColor`, segment route removed, verified. */
  | { readonly action: 'rollback'; readonly stableColor: Color };

export interface SegmentRoute {
  readonly ruleArn: string;
  readonly color: Color;
  readonly segments: readonly string[];
}

export interface RouterDescribeResult {
  readonly weights: Weights;
  /** The color holding 100% of production traffic, or null while traffic is split. */
  readonly liveColor: Color | null;
  readonly segmentRoute: SegmentRoute | null;
}

export interface RouterCheckTargetsResult {
  readonly color: Color;
  readonly healthy: number;
  readonly registered: number;
}

export interface RouterShiftResult {
  readonly before: Weights;
  /** What the listener holds after the write, as read back. */
  readonly after: Weights;
  /** False when nothing had to be written (the desired state was already live). */
  readonly changed: boolean;
  readonly segmentRoute: SegmentRoute | null;
}

// ---------------------------------------------------------------------------------------------
// Judge (lambda/judge/judge-handler.ts)
// ---------------------------------------------------------------------------------------------

/** Metric analysis of the new color against the stable color, from ALB target-group metrics. */
export interface AnalysisConfig {
  /** LoadBalancer dimension value (app/name/id). */
  readonly loadBalancer: string;
  /** TargetGroup dimension value (targetgroup/name/id) of each color. */
  readonly targetGroups: Record<Color, string>;
  /** Window of data each judgement reads, seconds (the judge interval, whole minutes). */
  readonly windowSeconds: number;
  /** Fewer requests than this on the new color in the window: INCONCLUSIVE. */
  readonly minRequests: number;
  /** Fail when the new color's 5xx rate (percent) exceeds this... */
  readonly maxErrorRatePercent: number;
  /** ...and also exceeds the stable color's rate times this factor. */
  readonly errorRateBaselineFactor: number;
  /** Fail when the new color's p99 latency (ms) exceeds this... (absent: no absolute latency check) */
  readonly maxLatencyP99Ms?: number;
  /** ...or exceeds the stable color's p99 times this factor (absent: no relative latency check). */
  readonly latencyBaselineFactor?: number;
  /**
   * How the analysis decides. THRESHOLDS: the limits above on each judge interval's counts alone. SEQUENTIAL: the
   * factors above are the smallest regressions worth catching and the limits are tested with anytime-valid likelihood
   * ratios accumulated over the step (lambda/judge/sequential-analysis.ts). Absent: THRESHOLDS.
   */
  readonly method?: AnalysisMethodName;
  /** Settings of the SEQUENTIAL method (required by it). */
  readonly sequential?: SequentialConfig;
  /**
   * Read the application's release signal (its own Requests / Errors5xx / Latency per Service and Color, high
   * resolution) instead of the ALB's one-minute metrics, which stay the fallback (lambda/judge/signal-read.ts): in its
   * 10-second periods (SEQUENTIAL), or over the judge interval's whole minutes (THRESHOLDS).
   * Absent: ALB metrics only.
   */
  readonly signal?: SignalReadConfig;
}

/** The release signal the judge reads (ProgressiveRollout.highResolutionSignal). */
export interface SignalReadConfig {
  /** CloudWatch namespace of the signal. */
  readonly namespace: string;
  /** Its Service dimension (the rollout's service name). */
  readonly service: string;
  /** Period of the counts the judge reads, seconds (10: a high-resolution period GetMetricData accepts). */
  readonly periodSeconds: number;
  /** How late a period's datapoint may reach CloudWatch, seconds: the judge reads periods that ended this long ago. */
  readonly delaySeconds: number;
  /** How often the judge looks, seconds (the rollout's judge interval; may be under a minute). */
  readonly judgeIntervalSeconds: number;
}

/** The analysis methods (lib's AnalysisMethod enum renders to these). */
export type AnalysisMethodName = 'SEQUENTIAL' | 'THRESHOLDS';

/** Error-rate budget of the sequential judge, rendered at synth time from the rollout's plan. */
export interface SequentialConfig {
  /** The user's bound on the chance of rolling back a healthy release, per rollout (0-1). */
  readonly falseRollbackRate: number;
  /**
   * The share of it each test may spend: falseRollbackRate / (rolloutTests + steps x testsPerStep). Each test decides
   * at ln(1/alphaPerTest).
   */
  readonly alphaPerTest: number;
  /**
   * The share each of the rollout's 5xx tests spends (sequentialBudget: ERROR_BUDGET_SHARE of the budget between
   * the two), deciding at ln(1/errorAlphaPerTest). Absent (a configuration from before): alphaPerTest.
   */
  readonly errorAlphaPerTest?: number;
  /** Steps the budget is split across. */
  readonly steps: number;
  /** Tests of each step the budget is split across (the p99 tests: p99 vs stable, p99 limit). */
  readonly testsPerStep: number;
  /**
   * Tests that run once over the whole rollout, their evidence carried from step to step (5xx vs stable, 5xx limit).
   * Absent (a configuration from before they were carried): 0, every test counted in testsPerStep.
   */
  readonly rolloutTests?: number;
  /**
   * Requests the new color must serve in a step before its p99 is compared (cumulative over the step): below this
   * the sample p99 is too close to the maximum for the normal approximation the latency tests rest on.
   */
  readonly latencyMinRequests: number;
  /**
   * β of the acceptance boundary: a step is cleared only once a test's likelihood ratio of the smallest regression
   * has fallen to this or below, so a new color with exactly that regression clears a given test with probability at
   * most β (Wald's SPRT lower boundary, anytime-valid by Ville's inequality under H1). Absent: DEFAULT_MISS_RATE.
   */
  readonly missRate?: number;
  /**
   * How long a step may run past its bake while neither boundary is reached, seconds (then INCONCLUSIVE).
   * Absent: DEFAULT_BAKE_EXTENSION_SECONDS.
   */
  readonly bakeExtensionSeconds?: number;
}

/** The sequential judge's default miss rate at the smallest regression, per test and step (β). */
export const DEFAULT_MISS_RATE = 0.1;
/** How long past its bake a step may run, by default, for its evidence to reach a boundary: 10 minutes. */
export const DEFAULT_BAKE_EXTENSION_SECONDS = 600;

/**
 * Tests of each step the sequential judge runs afresh: p99 against the stable color, p99 limit (the construct always
 * sets both latency limits; a step's p99 is CloudWatch's percentile over that step).
 */
export const SEQUENTIAL_TESTS_PER_STEP = 2;
/**
 * Tests whose evidence the sequential judge carries over the whole rollout: 5xx against the stable color (per minute,
 * whatever each color's share) and 5xx limit (the new color's counts).
 */
export const SEQUENTIAL_ROLLOUT_TESTS = 2;

/**
 * The share of the false-rollback budget the rollout's two 5xx tests spend together (each half of it); the per-step
 * latency tests split the rest. Their need differs: the 5xx tests run over the whole rollout and decide on a few
 * errors of the new color (every nat of threshold is one more minute at a small step's weight), while the latency
 * tests are ten (two per step) and each gains little from a lower threshold (the p50 comparison decides within a few
 * dozen requests anyway). Half and half: each 5xx test at 1/4 of the budget instead of 1/12.
 */
export const ERROR_BUDGET_SHARE = 0.5;

/**
 * The sequential judge's budget (a union bound: each test spends its share and decides at a likelihood ratio of
 * 1/share): ERROR_BUDGET_SHARE of `falseRollbackRatePercent` to the rollout's two 5xx tests (errorAlphaPerTest each),
 * the rest evenly across each step's two latency tests (alphaPerTest each; the relative one splits its share between
 * its p50 and p99 comparisons).
 */
export function sequentialBudget(
  falseRollbackRatePercent: number, steps: number, latencyMinRequests: number,
  missRatePercent = DEFAULT_MISS_RATE * 100, bakeExtensionSeconds = DEFAULT_BAKE_EXTENSION_SECONDS,
): SequentialConfig {
  const falseRollbackRate = falseRollbackRatePercent / 100;
  return {
    falseRollbackRate,
    alphaPerTest: (falseRollbackRate * (1 - ERROR_BUDGET_SHARE)) / (steps * SEQUENTIAL_TESTS_PER_STEP),
    errorAlphaPerTest: (falseRollbackRate * ERROR_BUDGET_SHARE) / SEQUENTIAL_ROLLOUT_TESTS,
    steps,
    rolloutTests: SEQUENTIAL_ROLLOUT_TESTS,
    testsPerStep: SEQUENTIAL_TESTS_PER_STEP,
    latencyMinRequests,
    missRate: missRatePercent / 100,
    bakeExtensionSeconds,
  };
}

/** ZDT_CONFIG of the judge Lambda. */
export interface JudgeConfig {
  /** Alarms that watch one color (its target group), by color. */
  readonly alarmsByColor: Record<Color, readonly string[]>;
  /** Alarms that watch the whole service, whatever the color. */
  readonly sharedAlarms: readonly string[];
  readonly analysis?: AnalysisConfig;
  /**
   * How late CloudWatch data may arrive, seconds: a judgement reads whole minutes that ended at least this long
   * ago, and counts toward the bake only once the data it reads began after the step's traffic shift. @default 0
   */
  readonly metricDelaySeconds?: number;
  /**
   * How long a step holds while the stable color is degraded before the judge says BASELINE_DEGRADED (and the state
   * machine follows its baseline policy), seconds. Absent: it holds until the stable color recovers.
   */
  readonly baselineHoldSeconds?: number;
}

/**
 * HOLD: the stable color is degraded; the judgement does not count toward the bake. BASELINE_DEGRADED: it has been
 * degraded for longer than the hold allows; the state machine follows its baseline policy.
 */
export type Verdict = 'PASS' | 'WAIT' | 'INCONCLUSIVE' | 'FAIL' | 'HOLD' | 'BASELINE_DEGRADED';

/**
 * Running sums of the stable color's per-minute requests n and 5xx e, for the judge's overdispersion estimate (how
 * much the 5xx rate varies from minute to minute beyond Poisson noise: lambda/judge/sequential.ts extraVariance).
 */
export interface DispersionSums {
  /** Minutes summed. */
  readonly minutes: number;
  /** Σ n. */
  readonly requests: number;
  /** Σ e. */
  readonly errors: number;
  /** Σ e². */
  readonly errorsSquared: number;
  /** Σ n·e. */
  readonly cross: number;
  /** Σ n². */
  readonly requestsSquared: number;
}

/**
 * What the sequential judge carries from one judgement to the next (in $.bake, JSON): the sufficient statistics of the
 * tests that accumulate minute by minute. The state machine carries it from step to step too (Start Bake): the 5xx
 * tests run over the whole rollout. Every field absent at the start of a rollout.
 */
export interface StepEvidence {
  /** End (epoch ms) of the last whole minute counted in this step: the next judgement counts only later minutes. */
  readonly throughMs?: number;
  /**
   * Per alternative of the mixture (the smallest regression and its powers), the sum over the step's minutes of the
   * log-likelihood ratio of the new color's 5xx against the stable color's.
   */
  readonly errorLlrs?: readonly number[];
  /** Page's CUSUM of the stable color's 5xx rate against the absolute limit (baseline health). */
  readonly baselineCusum?: number;
  /** When the step began holding for a degraded baseline (ISO 8601); absent while not holding. */
  readonly heldSince?: string;
  /** The new color's requests in the minutes counted (those of a degraded baseline are not): the 5xx limit test's. */
  readonly newRequests?: number;
  /** The new color's 5xx in the minutes counted. */
  readonly newErrors?: number;
  /**
   * End (epoch ms) of the last minute not counted for a degraded baseline: the step's data is read from here on (its
   * latency percentiles start again after the hold). Absent: from the step's start.
   */
  readonly restartMs?: number;
  /**
   * The service's traffic as the judge observed it once per rollout (before the first shift, or early in a step):
   * both colors' requests per minute. It sizes the steps (lambda/judge/sequential-sizing.ts). Absent: not yet known.
   */
  readonly trafficPerMinute?: number;
  /** The stable color's 5xx rate (0-1) in the same observation. */
  readonly stableErrorRate?: number;
  /**
   * Per alternative of the mixture, the 5xx limit test's log-likelihood ratio over the counted minutes (each minute
   * tempered by its overdispersion). Absent (evidence from before): computed from newRequests / newErrors.
   */
  readonly limitLlrs?: readonly number[];
  /**
   * The stable color's per-minute requests and 5xx, summed for the overdispersion estimate
   * (lambda/judge/sequential.ts DispersionSums). Absent: none yet.
   */
  readonly dispersion?: DispersionSums;
  /**
   * Per bet of the sign test (lambda/judge/sequential.ts SIGN_BETS), the ln of its product of per-minute e-values over
   * the counted minutes: the distribution-free guard of the 5xx comparison (while the overdispersion estimate is above
   * 0, the comparison FAILs only when this agrees). Absent: none yet.
   */
  readonly signLlrs?: readonly number[];
}

export interface BakeProgress {
  /** Healthy judgements so far in this step. */
  readonly passes: number;
  /** Healthy judgements the step needs (bake time / judge interval). */
  readonly required: number;
  /**
   * When the step's bake began, right after its traffic shift (ISO 8601, the state's EnteredTime). Judgements whose
   * data began before it do not count. Absent: every healthy judgement counts.
   */
  readonly startedAt?: string;
  /** The sequential judge's running evidence in this step. Absent: none yet. */
  readonly evidence?: StepEvidence;
  /**
   * Seconds the bake waits before the next judgement, when the judge reads a release signal (its judge interval on the
   * signal's periods; at least a minute on the ALB's minutes, when it falls back to them). Absent: the plan's judge
   * interval.
   */
  readonly waitSeconds?: number;
}

export type JudgeRequest =
  /** Fail with ALARM_NOT_FOUND unless every alarm the judge watches exists. */
  | { readonly action: 'checkAlarms'; readonly targetColor: Color }
  | {
    readonly action: 'judge';
    readonly targetColor: Color;
    readonly stableColor: Color;
    readonly bake: BakeProgress;
    /**
     * The step's weight of the new color, percent (the sequential judge merges a step too small to decide into the
     * next one). Absent: no step sizing.
     */
    readonly percent?: number;
    /** The step's header segments (they take traffic beyond the weight: such a step is not sized). Absent: none. */
    readonly segments?: readonly string[];
  };

export interface AlarmStatus {
  readonly name: string;
  readonly state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
}

export interface CheckAlarmsResult {
  readonly alarms: readonly AlarmStatus[];
}

export interface ColorMetrics {
  readonly requests: number;
  readonly errors: number;
  /** Percent of requests answered with a 5xx. */
  readonly errorRatePercent: number;
  /** p99 target response time, ms; null without data. */
  readonly latencyP99Ms: number | null;
}

export interface JudgeResult {
  /**
   * FAIL: an alarm fires or the analysis finds a regression. INCONCLUSIVE: too little data.
   * WAIT: healthy, bake not finished. PASS: healthy and the bake is done. HOLD: the stable color is degraded (not
   * counted). BASELINE_DEGRADED: it has been for longer than the hold allows.
   */
  readonly verdict: Verdict;
  /** Progress after this judgement (passes + 1 when healthy, and when INCONCLUSIVE: counted should onInconclusive PROCEED). */
  readonly bake: BakeProgress;
  /** Human-readable reasons, one per finding, or why a WAIT does not count toward the bake (empty when healthy). */
  readonly reasons: readonly string[];
  readonly alarms: readonly AlarmStatus[];
  readonly metrics?: Record<Color, ColorMetrics>;
  /** The stable color's own health. */
  readonly baseline?: BaselineStatus;
  /**
   * Where the sequential judge's counts came from: SIGNAL (the application's release signal) or ALB (target-group
   * metrics). Absent: no metric analysis, or ALB only.
   */
  readonly metricSource?: MetricSourceName;
}

/** The metrics a sequential judgement read (JudgeResult.metricSource). */
export type MetricSourceName = 'SIGNAL' | 'ALB';

/** The stable color's health as the judge saw it. */
export interface BaselineStatus {
  readonly color: Color;
  readonly degraded: boolean;
  /** True on the judgement that started a hold (the state machine emits BASELINE_DEGRADED then, once). */
  readonly holdStarted: boolean;
}

// ---------------------------------------------------------------------------------------------
// Lock and rollout state (lambda/rollout/lock-handler.ts + native DynamoDB writes)
// ---------------------------------------------------------------------------------------------

/** Attribute names of the rollout state table (one item per service, partition key `service`). */
export const StateTable = {
  PARTITION_KEY: 'service',
  LOCK_OWNER: 'lockOwner',
  /** Epoch seconds after which the lock is free again (a crashed execution's lock expires). */
  LOCK_EXPIRES_AT: 'lockExpiresAt',
  LIVE_COLOR: 'liveColor',
  PAUSE_TOKEN: 'pauseToken',
  PAUSED_STEP: 'pausedStep',
  /** Set by the operator (`zdt abort`): the running rollout rolls back at its next judgement. */
  ABORT_REQUESTED: 'abortRequested',
  ABORT_REASON: 'abortReason',
  /** Set by the operator (`zdt promote --full`): the running rollout skips to its last step at its next judgement. */
  PROMOTE_FULL_REQUESTED: 'promoteFullRequested',
  UPDATED_AT: 'updatedAt',
  /** The task token of the bake under way (BAKE_TOKEN_WRITE), its execution and the color it judges. */
  BAKE_TOKEN: 'bakeToken',
  BAKE_OWNER: 'bakeOwner',
  BAKE_COLOR: 'bakeColor',
  /**
   * Prefix of `<prefix><color>` (e.g. highResolutionAlarm_green): the lock owner during whose rollout a high-resolution
   * alarm of that color went to ALARM; `<reason prefix><color>` holds the alarm's reason.
   */
  HIGH_RESOLUTION_ALARM_OWNER_PREFIX: 'highResolutionAlarm_',
  HIGH_RESOLUTION_ALARM_REASON_PREFIX: 'highResolutionAlarmReason_',
} as const;

/**
 * The event-driven bake's write of its task token on the state item (lib/private/rollout-definition/bake.ts, an AWS SDK
 * UpdateItem task of the state machine): names #owner, #updated, #bakeToken, #bakeOwner, #bakeColor and #flag (the
 * new color's HIGH_RESOLUTION_ALARM_OWNER_PREFIX attribute); values :token, :owner (the execution), :color, :updated.
 * Stored only while the execution holds the lock and no high-resolution alarm flag names it: the release-alarm handler
 * (release-alarm.ts) writes the same item, so either the token is stored first (and the handler, reading it back,
 * fails it) or the flag is (and the write is refused): an alarm that fires between two bakes is never lost.
 */
export const BAKE_TOKEN_WRITE = {
  UPDATE: 'SET #bakeToken = :token, #bakeOwner = :owner, #bakeColor = :color, #updated = :updated',
  CONDITION: '#owner = :owner AND (attribute_not_exists(#flag) OR #flag <> :owner)',
} as const;

/** ZDT_CONFIG of the lock Lambda. */
export interface LockConfig {
  readonly tableName: string;
  readonly service: string;
  /** Live color when the table holds none yet (the first rollout). */
  readonly initialLiveColor: Color;
  /**
   * What the lock guards, in its messages ("Flag new-checkout of AppConfig application ..."). Absent: `Service <service>`.
   */
  readonly subject?: string;
}

export type LockRequest =
  /** Take the service's lock for `owner` (the execution ARN) for `ttlSeconds`, or fail with ROLLOUT_IN_PROGRESS. */
  | { readonly action: 'acquire'; readonly owner: string; readonly ttlSeconds: number }
  /** Store the task token of a paused step so that `promote` / `abort` can find it. */
  | { readonly action: 'pause'; readonly owner: string; readonly taskToken: string; readonly step: number };


export interface LockAcquireResult {
  readonly owner: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
  /** The live color the table records (initialLiveColor on the first rollout). */
  readonly recordedLiveColor: Color;
}

// ---------------------------------------------------------------------------------------------
// Execution guard (lambda/rollout/guard-handler.ts)
// ---------------------------------------------------------------------------------------------

/** ZDT_CONFIG of the execution guard. */
export interface GuardConfig {
  readonly router: RouterConfig;
  readonly lock: LockConfig;
  /** Event bus of the rollout events (absent: the default bus). */
  readonly eventBusName?: string;
}

/** What the guard did about an execution that ended. */
export interface GuardResult {
  readonly executionArn: string;
  readonly status: string;
  /** 'restored': traffic back to 100% on `liveColor`, verified, lock released. 'none': the execution had cleaned up. */
  readonly action: 'restored' | 'none';
  readonly liveColor?: Color;
  readonly weights?: Weights;
  readonly reason: string;
}

// ---------------------------------------------------------------------------------------------
// Live route custom resource (lambda/routing/live-route-handler.ts)
// ---------------------------------------------------------------------------------------------

/**
 * ResourceProperties of the Custom::ZdtLiveRoute resource. CloudFormation passes every value
 * as a string; numbers arrive as strings.
 */
export interface LiveRouteProperties {
  readonly ListenerArn: string;
  readonly Priority: string;
  readonly BlueTargetGroupArn: string;
  readonly GreenTargetGroupArn: string;
  /** Color that gets 100% when the rule is first created. */
  readonly InitialColor: Color;
  /** JSON array of ALB rule conditions (RuleCondition), e.g. path-pattern /*. */
  readonly Conditions: string;
  /** Stickiness during a split, seconds; "0" turns it off. */
  readonly StickinessSeconds: string;
}

// ---------------------------------------------------------------------------------------------
// State machine plan (rendered by RolloutStrategy at synth time, read by the state machine)
// ---------------------------------------------------------------------------------------------

/** What happens when the judge says INCONCLUSIVE (too little data to decide). */
export type InconclusiveAction = 'ROLLBACK' | 'PROCEED' | 'PAUSE';

export interface PlannedStep {
  /** 1-based. */
  readonly number: number;
  /** Weight of the new color, 0-100. */
  readonly percent: number;
  /** Header values routed wholly to the new color during this step (cumulative). */
  readonly segments: readonly string[];
  readonly bakeSeconds: number;
  /** Healthy judgements this step needs: ceil(bakeSeconds / judgeIntervalSeconds), at least 1. */
  readonly bakeIntervals: number;
  /** Wait for promote / abort (task token) after the bake. */
  readonly pause: boolean;
}

export interface RolloutPlan {
  readonly service: string;
  /** The RolloutStrategy factory the steps come from (canary, linear, allAtOnce, segmentFirst, steps). */
  readonly strategy: string;
  readonly steps: readonly PlannedStep[];
  readonly stepCount: number;
  readonly judgeIntervalSeconds: number;
  readonly onInconclusive: InconclusiveAction;
  /** Consecutive judge errors that trip the circuit breaker. */
  readonly maxJudgeErrors: number;
  /** Judge errors among the last `judgeErrorWindow` judgements that trip the circuit breaker too (an error rate). */
  readonly maxJudgeErrorsInWindow: number;
  /** Judgements the error rate is counted over. */
  readonly judgeErrorWindow: number;
  readonly lockTtlSeconds: number;
  /** The longest the traffic hooks can run in all (count × hookTimeout), counted in lockTtlSeconds. Absent: none. */
  readonly hookSeconds?: number;
  /** The judge's metric delay (each step waits for its own data), counted in lockTtlSeconds. Absent: none. */
  readonly metricDelaySeconds?: number;
  /**
   * The longest one degraded-baseline episode can hold the rollout (the hold, and the pause the PAUSE policy then
   * makes), counted once in lockTtlSeconds. Absent: none.
   */
  readonly baselineHoldSeconds?: number;
  /** How long past its bake each step may run (the sequential judge's extension), counted per step in lockTtlSeconds. */
  readonly bakeExtensionSeconds?: number;
}

/** Input a caller may give StartExecution (all optional). */
export interface RolloutInput {
  /** Color to release; defaults to the color that does not carry production traffic. */
  readonly targetColor?: Color;
  /** Free text that travels with every event (release id, commit). */
  readonly reason?: string;
}

// ---------------------------------------------------------------------------------------------
// High-resolution alarms -> bake (lambda/rollout/release-alarm-handler.ts)
// ---------------------------------------------------------------------------------------------

/** ZDT_CONFIG of the release-alarm Lambda: the state item to read and which alarm watches which color. */
export interface ReleaseAlarmConfig {
  readonly tableName: string;
  readonly service: string;
  /** The high-resolution alarms and the color each watches (a list: alarm names are deploy-time tokens, not keys). */
  readonly alarms: ReadonlyArray<{ readonly alarmName: string; readonly color: Color }>;
}

/** What the release-alarm handler did with one "CloudWatch Alarm State Change" event. */
export interface ReleaseAlarmResult {
  readonly alarm: string;
  /** ignored: not ALARM, not ours, or no rollout; recorded: the flag is set, no bake of that color waits; failed-bake: the bake's token was answered. */
  readonly outcome: 'ignored' | 'recorded' | 'failed-bake';
  readonly reason: string;
}
