import { ArnFormat, Duration, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import {
  AnalysisConfig, GuardConfig, GUARD_FAILURES_METRIC, InconclusiveAction as WireInconclusiveAction, JudgeConfig, LockConfig, METRIC_NAMESPACE,
  NOTIFICATION_FAILURES_METRIC, RolloutPlan, RouterConfig, sequentialBudget, DEFAULT_BAKE_EXTENSION_SECONDS, DEFAULT_MISS_RATE,
} from '../../lambda/shared/contracts';
import { addExecutionGuard, grantPutLibraryMetrics } from '../private/execution-guard';
import { ALL_COLORS, colorId, wireColor } from '../private/colors';
import { grantTaskTokenResponse } from '../private/task-response';
import { HandlerFunction } from '../private/handler-function';
import { routerConfigOf } from '../private/route-control';
import { rolloutMetric, trafficWeightMetric } from '../private/rollout-metrics';
import { standardStateMachine } from '../private/standard-state-machine';
import { acknowledge, iam5FunctionVersions, iam5Resource } from '../private/nag';
import { buildRolloutDefinition } from '../private/rollout-definition';
import { PropChecks, propError } from '../private/validation';
import { IBlueGreenRouting } from '../routing/blue-green-routing';
import { Color } from '../routing/color';
import { AnalysisMethod } from './analysis-method';
import { BaselineDegradedAction } from './baseline-policy';
import { GatePhase, GateTestBuild, IValidationGate } from '../gates/validation-gate-binding';
import { ColorHealthAlarms, HealthAlarmOptions } from './health-alarms';
import { ColorHighResolutionAlarms, HighResolutionSignalOptions } from './high-resolution-alarms';
import { HighResolutionRollback } from './high-resolution-rollback';
import { DEFAULT_RELEASE_SIGNAL_NAMESPACE } from '../../lambda/metrics/release-signal-contract';
import { InconclusiveAction } from './inconclusive-action';
import { planRollout } from './rollout-plan';
import { RolloutStrategy } from './rollout-strategy';

/** Metric analysis of the new color against the stable color, run by the judge at every judgement. */
export interface MetricAnalysisOptions {
  /**
   * `false` turns the metric analysis off: the judge reads alarms only.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How the analysis decides: anytime-valid sequential tests over each step (bounded false-rollback rate), or the
   * fixed per-interval thresholds of earlier versions.
   * @default AnalysisMethod.SEQUENTIAL
   */
  readonly method?: AnalysisMethod;
  /**
   * SEQUENTIAL: a step whose bake ends with fewer requests than this served by the new color in all is INCONCLUSIVE
   * (it cannot be cleared on less). THRESHOLDS: fewer than this many in one judge interval make that judgement
   * INCONCLUSIVE.
   * @default 50
   */
  readonly minRequests?: number;
  /**
   * The absolute 5xx limit, percent. SEQUENTIAL: FAIL once the evidence that the new color's rate is above this
   * (against `errorRateBaselineFactor` times it) is strong; also the limit the stable color is held to (a stable color
   * above it is a degraded baseline). THRESHOLDS: FAIL when one interval's rate exceeds this and
   * `errorRateBaselineFactor` times the stable rate.
   * @default 1
   */
  readonly maxErrorRatePercent?: number;
  /**
   * The smallest 5xx regression worth catching, as a factor of the stable color's rate (SEQUENTIAL: the alternative
   * hypothesis of the comparison with the stable color). THRESHOLDS: the relative limit.
   * @default 2
   */
  readonly errorRateBaselineFactor?: number;
  /**
   * The absolute p99 latency limit (SEQUENTIAL: tested like the 5xx limit, against `latencyBaselineFactor` times it).
   * @default Duration.seconds(2)
   */
  readonly maxLatencyP99?: Duration;
  /**
   * The smallest latency regression worth catching, as a factor of the stable color's latency: SEQUENTIAL compares
   * both the p50 (from 50 requests of each color) and the p99 (from `latencyMinRequests`) against this factor;
   * THRESHOLDS: the relative limit on the p99.
   * @default 1.5
   */
  readonly latencyBaselineFactor?: number;
  /**
   * SEQUENTIAL: the bound on the chance of rolling back a healthy release, percent per rollout. Half of it goes to
   * the rollout's two 5xx tests (vs stable, limit), half is split evenly across the steps' latency tests (vs stable,
   * its share split between p50 and p99; p99 limit), and each test decides when its likelihood ratio reaches 1 / its
   * share.
   * @default 1
   */
  readonly falseRollbackRatePercent?: number;
  /**
   * SEQUENTIAL: requests the new color must have served in a step before its p99 is compared (a sample p99 of fewer
   * requests is little more than their maximum).
   * @default 1000
   */
  readonly latencyMinRequests?: number;
  /**
   * SEQUENTIAL: the miss rate β of the acceptance boundary, percent. A step clears only once the evidence rules out
   * the smallest regression (`errorRateBaselineFactor` x the stable rate or the limit; `latencyBaselineFactor` for
   * p99): the likelihood ratio of exactly that regression at β or below, so a release with it clears a test with
   * probability at most β. Lower is safer and slower to clear.
   * @default 10
   */
  readonly missRatePercent?: number;
  /**
   * SEQUENTIAL: how long past its bake a step may run while its evidence reaches neither boundary.
   * With no regression found and none ruled out by then, the step is INCONCLUSIVE (`onInconclusive` decides).
   * Rounded up to whole judge intervals, from 0 to 1 day; counted, per step, in the lock's lifetime.
   * @default Duration.minutes(10)
   */
  readonly maxBakeExtension?: Duration;
}

/** The built-in health alarms of each color, as a rollout creates them. */
export interface RolloutHealthAlarmOptions extends HealthAlarmOptions {
  /**
   * `false`: no built-in health alarms (the rollout is judged by `alarms` and the metric analysis only).
   * @default true
   */
  readonly enabled?: boolean;
}

/** Options of ProgressiveRollout other than the routing it drives (BlueGreenStacks builds that). */
export interface ProgressiveRolloutOptions {
  /**
   * How traffic moves.
   * @default RolloutStrategy.canary() (1, 5, 25, 50, 100 percent, 5 minutes each)
   */
  readonly strategy?: RolloutStrategy;
  /**
   * Name of the service: the key of the one-rollout-at-a-time lock, and `detail.service` of every event.
   * @default - a name unique in the app, derived from the construct path
   */
  readonly serviceName?: string;
  /**
   * Built-in health alarms of each color (5xx rate, rate relative to the stable color, p99 latency absolute and
   * relative, unhealthy hosts); `{ enabled: false }` turns them off. With `AnalysisMethod.SEQUENTIAL` (the default)
   * the judge watches only the unhealthy-hosts alarm (it fails the new color, or holds for the stable one, at once)
   * and judges the 5xx and p99 limits and the comparison with the stable color by its sequential tests, whose
   * false-rollback rate is bounded (per-minute alarms on a rate fire on noise at low traffic); the other alarms stay
   * for dashboards and your own actions. With THRESHOLDS it watches the composite.
   * @default - on, with the defaults of HealthAlarmOptions
   */
  readonly healthAlarms?: RolloutHealthAlarmOptions;
  /**
   * Detect in seconds: high-resolution alarms (10-second periods) per color on the release signal the application
   * emits with `ReleaseMetrics` (cdk-zero-downtime-runtime/metrics: requests, 5xx and latency per service and color,
   * through CloudWatch Embedded Metric Format log lines). The judge watches them with the other alarms of the new
   * color, and with `eventDriven` (the default) an alarm that fires ends the current bake at once and rolls back.
   * The judge also reads the signal itself, instead of the ALB's whole minutes that ended `metricDelay` ago: with the
   * SEQUENTIAL analysis (the default) each color's requests and 5xx in 10-second periods that ended
   * `highResolutionSignal.metricDelay` ago, every `judgeInterval` (30 seconds by default); with THRESHOLDS each
   * color's requests, 5xx and p99 over the judge interval's whole minutes that ended that long ago. An application that
   * emits nothing leaves the alarms OK, and the judge reads the ALB's metrics for a color the signal has no datapoint
   * of while the ALB shows it serving requests in minutes the signal's periods read cover, saying so in its reasons:
   * ALB metrics (healthAlarms, analysis) remain the backstop.
   * @default - off: the rollout is judged on ALB metrics only
   */
  readonly highResolutionSignal?: HighResolutionSignalOptions;
  /**
   * Further alarms that fail the rollout when they fire, whatever the color (e.g. a business KPI alarm).
   * More can be added later with `addAlarm()`.
   * @default - none
   */
  readonly alarms?: cloudwatch.IAlarm[];
  /**
   * Your validation gates before any production traffic moves (after the Started event): Lambda functions run in
   * order, each with a TrafficHookEvent (the colors, and the test-route header that reaches the new color only),
   * returning a TrafficHookResult. An error, a timeout (`hookTimeout`) or a status other than 'Succeeded' rolls the
   * rollout back with that reason; Lambda's own throttling and service errors are retried.
   * @default - none
   */
  readonly preTrafficHooks?: lambda.IFunction[];
  /**
   * The same, once the last step has given the new color its share and before its live color is recorded: a
   * failure rolls traffic back to the stable color.
   * @default - none
   */
  readonly postTrafficHooks?: lambda.IFunction[];
  /**
   * Ready-made validation gates (ValidationGate.http, .database...) run before any production traffic moves, in order
   * and before `preTrafficHooks`. A gate that fails rolls the rollout back; the cause names the gate and what it saw.
   * @default - none
   */
  readonly preTrafficGates?: IValidationGate[];
  /**
   * Ready-made validation gates run once the new color has its full share, before `postTrafficHooks`.
   * @default - none
   */
  readonly postTrafficGates?: IValidationGate[];
  /**
   * Longest run of one traffic hook (1 second to 15 minutes, Lambda's limit), counted in the lock's lifetime. It does
   * not raise the function's own timeout (3 seconds by default in CDK): set that on the function.
   * @default Duration.minutes(5)
   */
  readonly hookTimeout?: Duration;
  /**
   * Metric analysis of the new color against the stable color at every judgement; `{ enabled: false }` turns it off
   * (alarms only).
   * @default - on, with the defaults of MetricAnalysisOptions
   */
  readonly analysis?: MetricAnalysisOptions;
  /**
   * How often the judge looks, from 1 to 60 minutes in whole minutes (ALB metrics have one-minute resolution); with
   * `highResolutionSignal` and the SEQUENTIAL analysis, from 10 seconds to 60 minutes in multiples of 10 seconds (the
   * judge then reads the signal's 10-second periods). Every step bakes for at least one interval.
   * @default - Duration.minutes(1); Duration.seconds(30) with `highResolutionSignal` and the SEQUENTIAL analysis
   */
  readonly judgeInterval?: Duration;
  /**
   * How late CloudWatch data may arrive (ALB metrics usually within a minute or two; a minute still arriving reads
   * as a partial sum). Each judgement reads whole minutes that ended at least this long ago, and counts toward a
   * step's bake only once the data it reads began after that step's traffic shift; so each step lasts about this
   * much, plus up to a minute, longer than its bake. Alarms in ALARM fail the judgement at once whatever the delay.
   * From 0 to 15 minutes.
   * @default Duration.minutes(2)
   */
  readonly metricDelay?: Duration;
  /**
   * What an INCONCLUSIVE judgement (too little traffic to decide) does: ROLLBACK, PROCEED (counts as healthy)
   * or PAUSE (waits for an operator: promote continues, abort rolls back).
   * @default InconclusiveAction.ROLLBACK
   */
  readonly onInconclusive?: InconclusiveAction;
  /**
   * How long a step holds while the stable color is degraded (one of its own alarms in ALARM, or its 5xx rate above
   * the analysis's `maxErrorRatePercent`) before `onBaselineDegraded` applies. While it holds, judgements do not
   * count toward the bake and a "Rollout Baseline Degraded" event is emitted once. From 1 minute to 1 day.
   * @default Duration.minutes(15)
   */
  readonly baselineHoldTimeout?: Duration;
  /**
   * What happens once the stable color has been degraded for longer than `baselineHoldTimeout`.
   * @default BaselineDegradedAction.PAUSE
   */
  readonly onBaselineDegraded?: BaselineDegradedAction;
  /**
   * Consecutive judge errors (the judge itself failing, after retries) that trip the circuit breaker and roll back.
   * @default 5
   */
  readonly maxConsecutiveJudgeErrors?: number;
  /**
   * Judge errors among the last `judgeErrorWindow` judgements that trip the circuit breaker and roll back, whether
   * in a row or not: a judge that fails 4 times in 5 never reaches `maxConsecutiveJudgeErrors`, but is broken.
   * At most 20 and at most `judgeErrorWindow`.
   * @default 5
   */
  readonly maxJudgeErrorsInWindow?: number;
  /**
   * How many of the most recent judgements `maxJudgeErrorsInWindow` is counted over, 2 to 100.
   * @default 10
   */
  readonly judgeErrorWindow?: number;
  /**
   * How long a manual pause waits for promote or abort before it rolls back, 1 minute to 7 days.
   * @default Duration.hours(24)
   */
  readonly pauseTimeout?: Duration;
  /**
   * Percent of the new color's registered targets that must be healthy before traffic moves to it, 1 to 100.
   * @default 100
   */
  readonly minHealthyTargetsPercent?: number;
  /**
   * Topic that receives a notification for every rollout event. The state machine is granted sns:Publish on it
   * and, when its KMS key is known, kms:GenerateDataKey* and kms:Decrypt on the key (publishing to an encrypted
   * topic needs both): import an encrypted topic with its key, `Topic.fromTopicAttributes(this, 'T', { topicArn, keyArn })`,
   * or allow the state machine's role in the key's policy yourself. Failed notifications are counted in
   * `metricNotificationFailures()`.
   * @default - a new topic encrypted with a new KMS key
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * Event bus the rollout events go to.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Table that holds the lock and the live color (partition key `service`, string). Share one table between services.
   * @default - a new table (on-demand, point-in-time recovery, retained on stack deletion)
   */
  readonly stateTable?: dynamodb.ITable;
  /**
   * Retention of the state machine's and the handlers' logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The circuit breaker keeps one state field per error it counts in its window (judge-circuit-breaker.ts). */
const MAX_JUDGE_ERRORS_IN_WINDOW = 20;

/** Props of ProgressiveRollout. */
export interface ProgressiveRolloutProps extends ProgressiveRolloutOptions {
  /** The blue/green routing the rollout moves traffic on (a BlueGreenRouting, or one imported from its attributes). */
  readonly routing: IBlueGreenRouting;
}

/**
 * A progressive rollout: a ProgressiveRollout of this app, or one imported with
 * `ProgressiveRollout.fromProgressiveRolloutAttributes()`. What pipelines, dashboards, migrations and grants need.
 */
export interface IProgressiveRollout extends IConstruct {
  /** The state machine that runs the rollouts: StartExecution starts one. */
  readonly stateMachine: sfn.IStateMachine;
  /** Name of the service: the key of the lock and `detail.service` of every rollout event. */
  readonly serviceName: string;
  /** Table that holds the lock, the live color, a pause's task token and the abort flag. */
  readonly stateTable: dynamodb.ITable;
  /**
   * Event bus the rollout events go to.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /** The alarms the judge watches, read when asked (alarms added later included); empty for an imported rollout without `alarms`. */
  readonly alarms: cloudwatch.IAlarm[];
  /** Lets `grantee` start rollouts. */
  grantStartRollout(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` watch, promote and abort rollouts (the operator CLI). */
  grantOperate(grantee: iam.IGrantable): iam.Grant;
  /** Rollouts that rolled back (traffic restored to the stable color), per period. */
  metricRollbacks(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Rollouts whose rollback failed: traffic may be on an unhealthy color. Alarm on this. */
  metricRollbackFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Failed attempts of the execution guard to restore traffic after an execution ended holding the lock. */
  metricGuardFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Rollout events and notifications that failed after their retries (subscribers did not hear of the rollout). */
  metricNotificationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** The production weight of `trafficColor` in percent (0-100), published by the router after every verified shift or rollback. */
  metricTrafficWeight(trafficColor: Color, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Rollouts that ended with the new color live. */
  metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Rollouts that ended without the new color live (rolled back, refused, or failed). */
  metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Rollouts started. */
  metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Execution time of rollouts. */
  metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** What `ProgressiveRollout.fromProgressiveRolloutAttributes()` needs: a rollout as another app or stack built it. */
export interface ProgressiveRolloutAttributes {
  /** ARN of the rollout's state machine (`rollout.stateMachine.stateMachineArn`). */
  readonly stateMachineArn: string;
  /** The rollout's service name (`rollout.serviceName`). */
  readonly serviceName: string;
  /** The rollout's state table (`rollout.stateTable`, e.g. imported with `dynamodb.Table.fromTableName()`). */
  readonly stateTable: dynamodb.ITable;
  /**
   * Alarms the rollout's judge watches, for a dashboard's alarm widget.
   * @default - none known
   */
  readonly alarms?: cloudwatch.IAlarm[];
  /**
   * Event bus the rollout sends its events to (`rollout.eventBus`), for rules on them such as RolloutNotifications.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
}

const DEFAULTS = {
  judgeInterval: Duration.minutes(1),
  /** With highResolutionSignal and SEQUENTIAL: judgements twice a minute keep a healthy canary within 2x the cost of one a minute. */
  signalJudgeInterval: Duration.seconds(30),
  /** The release signal's delay: its pipeline's stated 11 s (rehearsal/release-signal-source.ts) with a margin. */
  signalDelay: Duration.seconds(20),
  metricDelay: Duration.minutes(2),
  maxConsecutiveJudgeErrors: 5,
  maxJudgeErrorsInWindow: 5,
  judgeErrorWindow: 10,
  pauseTimeout: Duration.hours(24),
  minHealthyTargetsPercent: 100,
  hookTimeout: Duration.minutes(5),
  onInconclusive: InconclusiveAction.ROLLBACK,
  analysis: {
    method: AnalysisMethod.SEQUENTIAL, minRequests: 50, maxErrorRatePercent: 1, errorRateBaselineFactor: 2, maxLatencyP99: Duration.seconds(2),
    latencyBaselineFactor: 1.5, falseRollbackRatePercent: 1, latencyMinRequests: 1000,
    missRatePercent: DEFAULT_MISS_RATE * 100, maxBakeExtension: Duration.seconds(DEFAULT_BAKE_EXTENSION_SECONDS),
  },
  baselineHoldTimeout: Duration.minutes(15),
  onBaselineDegraded: BaselineDegradedAction.PAUSE,
};
/** ProgressiveRolloutProps with the defaults applied, checked. */
interface RolloutSettings {
  readonly judgeInterval: Duration;
  /** The sequential judge reads the release signal (highResolutionSignal with the SEQUENTIAL analysis). */
  readonly signalJudged: boolean;
  readonly metricDelay: Duration;
  readonly pauseTimeout: Duration;
  readonly hookTimeout: Duration;
  readonly maxJudgeErrors: number;
  readonly judgeErrorWindow: number;
  readonly maxJudgeErrorsInWindow: number;
  readonly onInconclusive: InconclusiveAction;
  readonly healthAlarmsOn: boolean;
  /** The metric analysis with its defaults; undefined when it is off. */
  readonly analysis?: typeof DEFAULTS.analysis;
  readonly baselineHoldTimeout: Duration;
  readonly onBaselineDegraded: BaselineDegradedAction;
  readonly logRetention: logs.RetentionDays;
}

/** The hook functions of each phase (bound gates first, then the user's), and the builds that run before some. */
interface BoundHooks {
  readonly pre: lambda.IFunction[];
  readonly post: lambda.IFunction[];
  readonly builds: Map<lambda.IFunction, GateTestBuild>;
}

/**
 * Lets a handler publish the library's metrics. PutMetricData has no resources; the condition limits it to the
 * library's namespace.
 */
const SERVICE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** A Standard execution lasts at most one year (Step Functions Developer Guide, "Service quotas"). */
const MAX_STANDARD_EXECUTION_SECONDS = 365 * 86_400;
/**
 * Period of the release signal the sequential judge reads, seconds: high-resolution periods GetMetricData accepts
 * are 1, 5, 10, 30 (CloudWatch API Reference, MetricStat); 10 is what the high-resolution alarms evaluate.
 */
const SIGNAL_PERIOD_SECONDS = 10;

/**
 * What every rollout offers from its state machine, service name and state table alone: grants and metrics. Shared by
 * ProgressiveRollout and the rollouts imported with `fromProgressiveRolloutAttributes()`.
 */
abstract class ProgressiveRolloutBase extends Construct implements IProgressiveRollout {
  public abstract readonly stateMachine: sfn.IStateMachine;
  public abstract readonly serviceName: string;
  public abstract readonly stateTable: dynamodb.ITable;
  public abstract get alarms(): cloudwatch.IAlarm[];

  /** Lets `grantee` start rollouts. */
  public grantStartRollout(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  /**
   * Lets `grantee` watch, promote and abort rollouts (the operator CLI): read executions and their history, answer a
   * pause's task token, and set the abort flag on the service's state item (`zdt abort` while baking).
   */
  public grantOperate(grantee: iam.IGrantable): iam.Grant {
    return grantOperate(this, grantee);
  }

  /** Rollouts that rolled back (traffic restored to the stable color), per period. */
  public metricRollbacks(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rolloutMetric(this.serviceName, 'Rollbacks', props);
  }

  /**
   * Failed attempts of the execution guard to restore traffic after an execution ended holding the lock (each is
   * retried; each also sends a "Rollout Guard Failed" event). Above 0: traffic may be split right now.
   */
  public metricGuardFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rolloutMetric(this.serviceName, GUARD_FAILURES_METRIC, props);
  }

  /** Rollouts whose rollback failed: traffic may be on an unhealthy color. Alarm on this. */
  public metricRollbackFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rolloutMetric(this.serviceName, 'RollbackFailures', props);
  }

  /**
   * Rollout events (EventBridge) and notifications (SNS) that failed after their retries: the rollout went on,
   * but subscribers did not hear of it. Alarm on this. Statistic Sum, unless `props` say otherwise.
   */
  public metricNotificationFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return rolloutMetric(this.serviceName, NOTIFICATION_FAILURES_METRIC, props);
  }

  /**
   * The production weight of `trafficColor` in percent (0-100), published by the router after every verified shift or
   * rollback (and by the guard when it restores traffic). Published only then, not continuously, so a graph of it
   * has gaps between rollout steps: `FILL(m, REPEAT)` draws the weight as held in between (RolloutDashboard does).
   * Statistic Maximum, period 1 minute, unless `props` say otherwise.
   */
  public metricTrafficWeight(trafficColor: Color, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return trafficWeightMetric(this.serviceName, wireColor(trafficColor), props);
  }

  /** Rollouts that ended with the new color live. */
  public metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded(props);
  }

  /** Rollouts that ended without the new color live (rolled back, refused, or failed). */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed(props);
  }

  /** Rollouts started. */
  public metricStarted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricStarted(props);
  }

  /** Execution time of rollouts. */
  public metricTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricTime(props);
  }
}

/**
 * A progressive rollout of a blue/green service: a Standard Step Functions state machine whose Lambdas move
 * traffic step by step, judge the new color from CloudWatch alarms and metric analysis against the stable color,
 * and roll back automatically (traffic first, verified, then events, then a failed execution with a clear cause).
 *
 * Start a rollout with `StartExecution` (input `{"targetColor": "green", "reason": "release 42"}`, both optional:
 * the target defaults to the color without production traffic). One rollout runs at a time per service.
 */
export class ProgressiveRollout extends ProgressiveRolloutBase {
  /**
   * A rollout built elsewhere (another stack or app), for a pipeline step or action, a dashboard, a migration's gate
   * or grants of this one.
   */
  public static fromProgressiveRolloutAttributes(scope: Construct, id: string, attrs: ProgressiveRolloutAttributes): IProgressiveRollout {
    return new ImportedProgressiveRollout(scope, id, attrs);
  }

  /** The state machine that runs the rollouts. */
  public readonly stateMachine: sfn.IStateMachine;
  /** Name of the service: the key of the lock and `detail.service` of every rollout event. */
  public readonly serviceName: string;
  /** Table that holds the lock, the live color, a pause's task token and the abort flag. */
  public readonly stateTable: dynamodb.ITable;
  /** Topic that receives a notification for every rollout event. */
  public readonly notificationTopic: sns.ITopic;
  /**
   * Event bus the rollout events go to.
   * @default - the account's default event bus
   */
  public readonly eventBus?: events.IEventBus;
  /** Reads, moves and verifies the production weights. */
  public readonly routerFunction: lambda.IFunction;
  /** Judges the new color from alarms and metrics. */
  public readonly judgeFunction: lambda.IFunction;
  /** Holds the one-rollout-at-a-time lock. */
  public readonly lockFunction: lambda.IFunction;
  /** Restores traffic when an execution ends without cleaning up (stopped by hand, timed out, failed unexpectedly). */
  public readonly guardFunction: lambda.IFunction;
  /**
   * In ALARM when the execution guard gave up restoring traffic after an execution ended holding the lock (it keeps
   * trying for the lock's time to live first): traffic may still be split. Give it an action.
   */
  public readonly guardGaveUpAlarm: cloudwatch.IAlarm;
  /** The validation gates run before traffic moves (`preTrafficGates`), bound to this rollout. */
  public readonly preTrafficGates: IValidationGate[];
  /** The validation gates run once the new color has its full share (`postTrafficGates`), bound to this rollout. */
  public readonly postTrafficGates: IValidationGate[];
  /**
   * The plan the state machine runs, as rendered from the strategy (the handlers' contract; TypeScript only).
   * @jsii ignore
   */
  public readonly plan: RolloutPlan;
  /**
   * The longest the rollout can wait for operators: every pause it can make (a step's `pause`, each step with
   * onInconclusive PAUSE, a degraded baseline with PAUSE) for pauseTimeout. A ReleasePlan counts it in its gate check.
   * @internal
   */
  public readonly _pauseAllowance: Duration;
  private readonly healthAlarmsByColor = new Map<Color, ColorHealthAlarms>();
  private readonly highResolution?: HighResolutionRollback;
  private readonly sharedAlarms: cloudwatch.IAlarm[] = [];
  /** The judge runs AnalysisMethod.SEQUENTIAL (it then watches only the unhealthy-hosts health alarm). */
  private readonly sequentialAnalysis: boolean;
  /** The routing this rollout moves traffic on (one rollout per routing: sameRoutingElsewhere). */
  private readonly routing: IBlueGreenRouting;

  constructor(scope: Construct, id: string, props: ProgressiveRolloutProps) {
    super(scope, id);
    this.serviceName = props.serviceName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    const settings = this.settingsOf(props);
    this.sequentialAnalysis = settings.analysis?.method === AnalysisMethod.SEQUENTIAL;
    const hooks = this.trafficHooksOf(props, settings);
    this.preTrafficGates = [...props.preTrafficGates ?? []];
    this.postTrafficGates = [...props.postTrafficGates ?? []];
    this.plan = this.planOf(props, settings, hooks);
    this.routing = props.routing;
    const pauses = this.plan.steps.filter((step) => step.pause).length
      + (settings.onInconclusive === InconclusiveAction.PAUSE ? this.plan.steps.length : 0)
      + (settings.onBaselineDegraded === BaselineDegradedAction.PAUSE ? 1 : 0);
    this._pauseAllowance = Duration.seconds(pauses * settings.pauseTimeout.toSeconds());
    this.node.addValidation({ validate: () => [...this.sameServiceElsewhere(), ...this.sameRoutingElsewhere()] });

    this.stateTable = props.stateTable ?? this.createStateTable();
    this.notificationTopic = props.notificationTopic ?? this.createNotificationTopic();
    this.eventBus = props.eventBus;
    this.addHealthAlarms(props, settings);
    for (const alarm of props.alarms ?? []) this.addAlarm(alarm);
    // Detect in seconds: high-resolution alarms on the application's release signal, judged with the color's alarms.
    this.highResolution = props.highResolutionSignal && new HighResolutionRollback(this, 'HighResolution', {
      ...props.highResolutionSignal, serviceName: this.serviceName, stateTable: this.stateTable, logRetention: settings.logRetention,
    });

    const router = this.createRouter(props, settings);
    this.routerFunction = router.fn;
    this.judgeFunction = this.createJudge(props, settings);
    const lock = this.createLock(props, settings);
    this.lockFunction = lock.fn;
    const stateMachine = this.createStateMachine(props, settings, hooks);
    this.stateMachine = stateMachine;
    const guard = this.createGuard(props, settings, { router: router.config, lock: lock.config, eventBusName: this.eventBus?.eventBusName });
    this.guardFunction = guard.fn;
    this.guardGaveUpAlarm = guard.gaveUpAlarm;
    this.grantStateMachine(stateMachine, hooks);
  }

  /** Fails the rollout when `alarm` fires, whatever the color. Alarms added after construction are included. */
  public addAlarm(alarm: cloudwatch.IAlarm): void {
    this.sharedAlarms.push(alarm);
  }

  /**
   * Every alarm the judge watches: the health composite of each color (when `healthAlarms` is on) and the alarms
   * given in `alarms` or added with `addAlarm()`. A new array on every read; alarms added later are included.
   */
  public get alarms(): cloudwatch.IAlarm[] {
    return [...ALL_COLORS.flatMap((c) => this.healthAlarmsByColor.get(c)?.composite ?? []), ...this.sharedAlarms];
  }

  /**
   * The built-in health alarms of a color.
   * @returns undefined when `healthAlarms` is off
   */
  public healthAlarmsOf(color: Color): ColorHealthAlarms | undefined {
    return this.healthAlarmsByColor.get(color);
  }

  /** The props with their defaults, every value checked (range errors at synth, contradictions at once). */
  private settingsOf(props: ProgressiveRolloutProps): RolloutSettings {
    const judgeErrorWindow = props.judgeErrorWindow ?? DEFAULTS.judgeErrorWindow;
    const healthAlarmsOn = props.healthAlarms?.enabled !== false;
    const analysisOn = props.analysis?.enabled !== false;
    const analysis = analysisOn ? { ...DEFAULTS.analysis, ...props.analysis } : undefined;
    const signalJudged = props.highResolutionSignal !== undefined && analysis?.method === AnalysisMethod.SEQUENTIAL;
    const intervalStep = signalJudged ? Duration.seconds(SIGNAL_PERIOD_SECONDS) : Duration.minutes(1);
    new PropChecks(this)
      .duration('judgeInterval', props.judgeInterval, intervalStep, Duration.minutes(60), intervalStep)
      .duration('highResolutionSignal.metricDelay', props.highResolutionSignal?.metricDelay, Duration.seconds(0), Duration.minutes(5))
      .duration('metricDelay', props.metricDelay, Duration.seconds(0), Duration.minutes(15))
      .duration('pauseTimeout', props.pauseTimeout, Duration.minutes(1), Duration.days(7))
      .duration('hookTimeout', props.hookTimeout, Duration.seconds(1), Duration.minutes(15))
      .number('maxConsecutiveJudgeErrors', props.maxConsecutiveJudgeErrors, 1, 100)
      .number('judgeErrorWindow', props.judgeErrorWindow, 2, 100)
      .number('maxJudgeErrorsInWindow', props.maxJudgeErrorsInWindow, 1, Math.min(MAX_JUDGE_ERRORS_IN_WINDOW, judgeErrorWindow))
      .number('minHealthyTargetsPercent', props.minHealthyTargetsPercent, 1, 100)
      .pattern('serviceName', props.serviceName, SERVICE_NAME, '1-64 letters, digits, ".", "_" or "-"')
      .oneOf('onInconclusive', props.onInconclusive, Object.values(InconclusiveAction));
    if (props.analysis && analysisOn) {
      new PropChecks(this)
        .number('analysis.minRequests', props.analysis.minRequests, 1, 10_000_000)
        .number('analysis.maxErrorRatePercent', props.analysis.maxErrorRatePercent, 0.01, 100, { integer: false })
        .number('analysis.errorRateBaselineFactor', props.analysis.errorRateBaselineFactor, 1, 1000, { integer: false })
        .number('analysis.latencyBaselineFactor', props.analysis.latencyBaselineFactor, 1, 1000, { integer: false })
        .duration('analysis.maxLatencyP99', props.analysis.maxLatencyP99, Duration.millis(1), Duration.minutes(15))
        .number('analysis.falseRollbackRatePercent', props.analysis.falseRollbackRatePercent, 0.0001, 50, { integer: false })
        .number('analysis.latencyMinRequests', props.analysis.latencyMinRequests, 1, 10_000_000)
        .number('analysis.missRatePercent', props.analysis.missRatePercent, 0.01, 50, { integer: false })
        .duration('analysis.maxBakeExtension', props.analysis.maxBakeExtension, Duration.seconds(0), Duration.days(1))
        .oneOf('analysis.method', props.analysis.method, [AnalysisMethod.SEQUENTIAL, AnalysisMethod.THRESHOLDS]);
    }
    if (analysis?.method === AnalysisMethod.SEQUENTIAL) {
      for (const field of ['errorRateBaselineFactor', 'latencyBaselineFactor'] as const) {
        const value = analysis[field];
        // Below 1 is a range error PropChecks reports at synth; exactly 1 is valid for THRESHOLDS only.
        if (value === 1) {
          throw propError(this, `analysis.${field} must be above 1 with AnalysisMethod.SEQUENTIAL (it is the smallest regression worth catching: 1 would test no regression at all), got ${value}`);
        }
      }
    }
    new PropChecks(this)
      .duration('baselineHoldTimeout', props.baselineHoldTimeout, Duration.minutes(1), Duration.days(1))
      .oneOf('onBaselineDegraded', props.onBaselineDegraded, [BaselineDegradedAction.PAUSE, BaselineDegradedAction.ROLLBACK]);
    if (!healthAlarmsOn && !analysisOn && (props.alarms ?? []).length === 0 && !props.highResolutionSignal) {
      throw propError(this, 'healthAlarms, analysis, alarms and highResolutionSignal are all off: the rollout would have nothing to judge the new color by. Keep at least one.');
    }
    return {
      judgeInterval: props.judgeInterval ?? (signalJudged ? DEFAULTS.signalJudgeInterval : DEFAULTS.judgeInterval),
      signalJudged,
      metricDelay: props.metricDelay ?? DEFAULTS.metricDelay,
      pauseTimeout: props.pauseTimeout ?? DEFAULTS.pauseTimeout,
      hookTimeout: props.hookTimeout ?? DEFAULTS.hookTimeout,
      maxJudgeErrors: props.maxConsecutiveJudgeErrors ?? DEFAULTS.maxConsecutiveJudgeErrors,
      judgeErrorWindow,
      maxJudgeErrorsInWindow: props.maxJudgeErrorsInWindow ?? Math.min(DEFAULTS.maxJudgeErrorsInWindow, judgeErrorWindow),
      onInconclusive: props.onInconclusive ?? DEFAULTS.onInconclusive,
      healthAlarmsOn,
      analysis,
      baselineHoldTimeout: props.baselineHoldTimeout ?? DEFAULTS.baselineHoldTimeout,
      onBaselineDegraded: props.onBaselineDegraded ?? DEFAULTS.onBaselineDegraded,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    };
  }

  /**
   * The hook functions of each phase: the gates' functions first (bound to this rollout), then the user's own; a
   * functional-test gate's build runs before its hook.
   */
  private trafficHooksOf(props: ProgressiveRolloutProps, settings: RolloutSettings): BoundHooks {
    const builds = new Map<lambda.IFunction, GateTestBuild>();
    const bindGates = (gates: IValidationGate[] | undefined, phase: GatePhase, label: string): lambda.IFunction[] => (gates ?? []).map((gate, i) => {
      const binding = gate.bind(new Construct(this, `${label}Gate${i + 1}`), {
        routing: props.routing, serviceName: this.serviceName, phase, hookTimeout: settings.hookTimeout, logRetention: settings.logRetention,
      });
      if (binding.testBuild) builds.set(binding.hook, binding.testBuild);
      return binding.hook;
    });
    const pre = [...bindGates(props.preTrafficGates, GatePhase.PRE_TRAFFIC, 'PreTraffic'), ...props.preTrafficHooks ?? []];
    const post = [...bindGates(props.postTrafficGates, GatePhase.POST_TRAFFIC, 'PostTraffic'), ...props.postTrafficHooks ?? []];
    return { pre, post, builds };
  }

  /** The plan the state machine runs, from the strategy; its length (the execution timeout and lock) checked. */
  private planOf(props: ProgressiveRolloutProps, settings: RolloutSettings, hooks: BoundHooks): RolloutPlan {
    const buildSeconds = [...hooks.builds.values()].reduce((sum, b) => sum + b.timeout.toSeconds(), 0);
    const strategy = (props.strategy ?? RolloutStrategy.canary()).bind({ path: this.node.path, judgeInterval: settings.judgeInterval });
    const plan = planRollout(strategy, {
      service: this.serviceName,
      judgeIntervalSeconds: settings.judgeInterval.toSeconds(),
      metricDelaySeconds: settings.metricDelay.toSeconds(),
      onInconclusive: settings.onInconclusive as string as WireInconclusiveAction,
      maxJudgeErrors: settings.maxJudgeErrors,
      maxJudgeErrorsInWindow: settings.maxJudgeErrorsInWindow,
      judgeErrorWindow: settings.judgeErrorWindow,
      pauseTimeoutSeconds: settings.pauseTimeout.toSeconds(),
      baselineHoldSeconds: settings.baselineHoldTimeout.toSeconds()
        + (settings.onBaselineDegraded === BaselineDegradedAction.PAUSE ? settings.pauseTimeout.toSeconds() : 0),
      hookSeconds: (hooks.pre.length + hooks.post.length) * settings.hookTimeout.toSeconds() + buildSeconds,
      bakeExtensionSeconds: settings.analysis?.method === AnalysisMethod.SEQUENTIAL ? settings.analysis.maxBakeExtension.toSeconds() : 0,
    });
    new PropChecks(this).that(plan.lockTtlSeconds <= MAX_STANDARD_EXECUTION_SECONDS,
      `strategy: the rollout's plan may last ${(plan.lockTtlSeconds / 86_400).toFixed(1)} days (its bakes with half again for WAIT and `
      + 'INCONCLUSIVE judgements, each step\'s wait for its data, every pause for pauseTimeout, the hooks\' timeouts, 30 minutes of slack), '
      + 'which is its execution timeout and lock; a Standard Step Functions execution lasts at most 365 days: shorten the bakes (strategy) or pauseTimeout');
    return plan;
  }

  /** The table of the lock, the live color, a pause's task token and the abort flag (retained: it holds the live color). */
  private createStateTable(): dynamodb.ITable {
    return new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'service', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The notification topic, encrypted with its own key. */
  private createNotificationTopic(): sns.ITopic {
    return new sns.Topic(this, 'Notifications', {
      displayName: `cdk-zero-downtime rollouts of ${this.serviceName}`,
      masterKey: new kms.Key(this, 'NotificationsKey', {
        enableKeyRotation: true,
        description: `Encrypts the rollout notifications of ${this.serviceName}`,
      }),
      enforceSSL: true,
    });
  }

  /** The built-in health alarms of each color (when `healthAlarms` is on). */
  private addHealthAlarms(props: ProgressiveRolloutProps, settings: RolloutSettings): void {
    if (!settings.healthAlarmsOn) return;
    const { enabled: _enabled, ...thresholds } = props.healthAlarms ?? {};
    for (const color of ALL_COLORS) {
      this.healthAlarmsByColor.set(color, new ColorHealthAlarms(this, `${colorId(color)}Health`, {
        ...thresholds,
        routing: props.routing,
        color,
      }));
    }
  }

  /** The router: reads, moves and verifies the weights, and publishes them as TrafficWeight. */
  private createRouter(props: ProgressiveRolloutProps, settings: RolloutSettings): { fn: lambda.IFunction; config: RouterConfig } {
    // The router (and the guard, which restores traffic with the same code) publish the weights as TrafficWeight.
    const config: RouterConfig = { ...routerConfigOf(props.routing), metrics: { service: this.serviceName } };
    const fn = new HandlerFunction(this, 'Router', {
      handler: 'router',
      description: `cdk-zero-downtime: reads, moves and verifies the production weights of ${this.serviceName}`,
      config,
      timeout: Duration.minutes(1),
      logRetention: settings.logRetention,
    });
    props.routing.grantRouteControl(fn);
    grantPutLibraryMetrics(fn);
    return { fn, config };
  }

  /**
   * The judge: the alarms it reads (late-bound: alarms added after construction land) and the metric analysis of
   * the new color against the stable color.
   */
  private createJudge(props: ProgressiveRolloutProps, settings: RolloutSettings): lambda.IFunction {
    const options = settings.analysis;
    const analysis: AnalysisConfig | undefined = options && {
      loadBalancer: props.routing.loadBalancerFullName,
      targetGroups: { blue: props.routing.targetGroupFullName(Color.BLUE), green: props.routing.targetGroupFullName(Color.GREEN) },
      // ALB metrics come in whole minutes: a sub-minute judge interval (with the signal) reads at least one.
      windowSeconds: Math.max(1, Math.ceil(settings.judgeInterval.toSeconds() / 60)) * 60,
      minRequests: options.minRequests,
      maxErrorRatePercent: options.maxErrorRatePercent,
      errorRateBaselineFactor: options.errorRateBaselineFactor,
      maxLatencyP99Ms: options.maxLatencyP99.toMilliseconds(),
      latencyBaselineFactor: options.latencyBaselineFactor,
      method: options.method,
      ...(options.method === AnalysisMethod.SEQUENTIAL ? {
        sequential: sequentialBudget(options.falseRollbackRatePercent, this.plan.stepCount, options.latencyMinRequests,
          options.missRatePercent, options.maxBakeExtension.toSeconds()),
      } : {}),
      // Both methods read the signal; only the sequential one at its 10-second cadence (signalJudged).
      ...(props.highResolutionSignal ? {
        signal: {
          namespace: props.highResolutionSignal.metricNamespace ?? DEFAULT_RELEASE_SIGNAL_NAMESPACE,
          service: this.serviceName,
          periodSeconds: SIGNAL_PERIOD_SECONDS,
          delaySeconds: (props.highResolutionSignal.metricDelay ?? DEFAULTS.signalDelay).toSeconds(),
          judgeIntervalSeconds: settings.judgeInterval.toSeconds(),
        },
      } : {}),
    };
    const judgeConfig = Lazy.any({
      produce: (): JudgeConfig => ({
        alarmsByColor: {
          blue: this.judgedHealthAlarms(Color.BLUE).map((a) => a.alarmName),
          green: this.judgedHealthAlarms(Color.GREEN).map((a) => a.alarmName),
        },
        sharedAlarms: this.sharedAlarms.map((a) => a.alarmName),
        analysis,
        metricDelaySeconds: settings.metricDelay.toSeconds(),
        baselineHoldSeconds: settings.baselineHoldTimeout.toSeconds(),
      }),
    });
    const fn = new HandlerFunction(this, 'Judge', {
      handler: 'judge',
      description: `cdk-zero-downtime: judges the new color of ${this.serviceName} from alarms and metrics`,
      config: judgeConfig,
      configGrowsWith: 'alarms (and addAlarm): the judge\'s configuration names every alarm it watches; combine alarms into a composite alarm (cloudwatch.CompositeAlarm) and give that',
      timeout: Duration.minutes(1),
      logRetention: settings.logRetention,
    });
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: Lazy.list({ produce: () => this.watchedAlarmArns() }),
    }));
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:GetMetricData'],
      resources: ['*'], // GetMetricData does not support resource-level permissions.
    }));
    return fn;
  }

  /** The one-rollout-at-a-time lock on the state table. */
  private createLock(props: ProgressiveRolloutProps, settings: RolloutSettings): { fn: lambda.IFunction; config: LockConfig } {
    const config: LockConfig = { tableName: this.stateTable.tableName, service: this.serviceName, initialLiveColor: wireColor(props.routing.initialColor) };
    const fn = new HandlerFunction(this, 'Lock', {
      handler: 'lock',
      description: `cdk-zero-downtime: the one-rollout-at-a-time lock of ${this.serviceName}`,
      config,
      logRetention: settings.logRetention,
    });
    this.stateTable.grant(fn, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    return { fn, config };
  }

  /** The Standard state machine that runs the plan (lib/private/rollout-definition.ts); its timeout is the lock's. */
  private createStateMachine(props: ProgressiveRolloutProps, settings: RolloutSettings, hooks: BoundHooks): sfn.StateMachine {
    const definition = buildRolloutDefinition(new Construct(this, 'States'), {
      plan: this.plan,
      routerFunction: this.routerFunction,
      judgeFunction: this.judgeFunction,
      lockFunction: this.lockFunction,
      stateTable: this.stateTable,
      topic: this.notificationTopic,
      eventBus: this.eventBus,
      pauseTimeout: settings.pauseTimeout,
      minHealthyTargetsPercent: props.minHealthyTargetsPercent ?? DEFAULTS.minHealthyTargetsPercent,
      preTrafficHooks: hooks.pre,
      postTrafficHooks: hooks.post,
      hookTimeout: settings.hookTimeout,
      testRouteHeader: props.routing.testRouteHeader,
      onBaselineDegraded: settings.onBaselineDegraded,
      hookBuilds: hooks.builds,
      eventDrivenBake: this.highResolution?.eventDriven ?? false,
      judgeSetsWait: settings.signalJudged,
    });
    return standardStateMachine(this, {
      definition,
      comment: `cdk-zero-downtime progressive rollout of ${this.serviceName}`,
      logRetention: settings.logRetention,
      timeout: Duration.seconds(this.plan.lockTtlSeconds),
      wildcardReason: 'cloudwatch:PutMetricData (limited to the library namespace by condition) and X-Ray have no resource-level permissions',
    });
  }

  /**
   * The safety net: an execution that ends while still holding the lock (StopExecution, timeout, a failure its own
   * Catch could not handle) may have left traffic split; the guard restores the recorded live color, retried until
   * the lock expires, with an alarm when it gives up.
   */
  private createGuard(props: ProgressiveRolloutProps, settings: RolloutSettings, config: GuardConfig): { fn: lambda.IFunction; gaveUpAlarm: cloudwatch.IAlarm } {
    const guard = addExecutionGuard(this, {
      handler: 'guard',
      description: `cdk-zero-downtime: restores the live color of ${this.serviceName} when a rollout execution ends without cleaning up`,
      config,
      stateMachine: this.stateMachine,
      keepTrying: Duration.seconds(this.plan.lockTtlSeconds),
      rolloutName: `a rollout execution of ${this.serviceName}`,
      risk: 'traffic may still be split: check the listener',
      eventBus: this.eventBus,
      logRetention: settings.logRetention,
    });
    props.routing.grantRouteControl(guard.fn);
    this.stateTable.grant(guard.fn, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    return guard;
  }

  /** What the state machine's role needs beyond what its tasks grant, and the cdk-nag findings it acknowledges. */
  private grantStateMachine(stateMachine: sfn.StateMachine, hooks: BoundHooks): void {
    // SnsPublish grants sns:Publish only; publishing to a topic encrypted with a customer managed key also needs
    // kms:GenerateDataKey* and kms:Decrypt on the key (SNS docs, "Encryption at rest": AWS service and publisher
    // permissions). grantPublish grants both when the topic's key is known (an owned topic, or one imported with it).
    this.notificationTopic.grantPublish(stateMachine);
    acknowledge(this.stateMachine, 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'SNS publishes to the encrypted notification topic with kms:GenerateDataKey (and its WithoutPlaintext variant), on the topic\'s key only');
    stateMachine.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'], // PutMetricData has no resources; the condition limits it to the library's namespace.
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    }));
    for (const fn of [this.routerFunction, this.judgeFunction, this.lockFunction]) {
      acknowledge(this.stateMachine, iam5FunctionVersions(fn), 'Step Functions invokes the handler function and its versions');
    }
    for (const fn of [...hooks.pre, ...hooks.post]) {
      const id = fn.node.defaultChild instanceof lambda.CfnFunction ? iam5FunctionVersions(fn) : iam5Resource(this, `${fn.functionArn}:*`);
      acknowledge(this.stateMachine, id, 'Step Functions invokes the traffic hook function and its versions');
    }
  }
  /**
   * The high-resolution alarms of a color on the application's release signal (`highResolutionSignal`).
   * @returns undefined when `highResolutionSignal` is not set
   */
  public highResolutionAlarmsOf(color: Color): ColorHighResolutionAlarms | undefined {
    return this.highResolution?.alarmsByColor.get(color);
  }

  /**
   * The health alarms of `color` the judge reads: its composite; or, under the sequential analysis, only its absolute
   * alarms (5xx rate, p99, unhealthy hosts). The relative alarms compare one minute's rates on fixed factors, which at
   * moderate traffic fire on a handful of requests (2 of 3 minutes with one 5xx in 60 requests at a 0.5% baseline);
   * the sequential analysis makes that comparison with a bounded false-rollback rate instead. The composite stays
   * (dashboards, feature-flag rollbacks).
   */
  private judgedHealthAlarms(color: Color): cloudwatch.IAlarm[] {
    // The high-resolution alarms too: the judge's look at them is the backstop of their events (a missed event).
    const highResolution = this.highResolution?.alarmsOf(color) ?? [];
    const health = this.healthAlarmsByColor.get(color);
    if (!health) return highResolution;
    // SEQUENTIAL: the 5xx and p99 limits are the analysis's own anytime-valid tests (budgeted false rollbacks, and the
    // stable color held to the same limits as a baseline); the per-minute alarms on them would fail healthy releases
    // on noise. Unhealthy hosts are not a statistic: that alarm still fails (or, on the stable color, holds) at once.
    // The high-resolution alarms are the user's opt-in fast path (their thresholds are theirs, outside the budget).
    return [...(this.sequentialAnalysis ? [health.unhealthyHosts] : [health.composite]), ...highResolution];
  }

  /**
   * Two rollouts of one service name in one account and region share the lock item's key, the metrics' Service
   * dimension and the events' service: each would refuse, count and release the other's rollouts.
   */
  private sameServiceElsewhere(): string[] {
    if (Token.isUnresolved(this.serviceName)) return [];
    const env = (c: Construct) => `${Stack.of(c).account}/${Stack.of(c).region}`;
    const others = this.node.root.node.findAll()
      .filter((c): c is ProgressiveRollout => c instanceof ProgressiveRollout && c !== this && c.serviceName === this.serviceName && env(c) === env(this));
    return others.map((other) => `serviceName "${this.serviceName}" is also the serviceName of the rollout ${other.node.path} in the same account and region: `
      + 'their locks, metrics and events would collide. Give each rollout its own serviceName');
  }

  /**
   * Two rollouts of one routing (the same construct, or imports of the same production rule) would each hold their own
   * lock and live color: both could move the same weights at once, and each would restore "its" live color over the
   * other's release. The other is named; the first of the two in the tree reports nothing, so the error is said once.
   */
  private sameRoutingElsewhere(): string[] {
    const sameRule = (other: IBlueGreenRouting) => other === this.routing || other.liveRuleArn === this.routing.liveRuleArn;
    const rollouts = this.node.root.node.findAll().filter((c): c is ProgressiveRollout => c instanceof ProgressiveRollout);
    const earlier = rollouts.slice(0, rollouts.indexOf(this)).filter((other) => sameRule(other.routing));
    return earlier.map((other) => {
      const what = other.routing === this.routing ? `the routing ${this.routing.node.path}`
        : `the routing ${this.routing.node.path} (the production rule of ${other.routing.node.path})`;
      return `routing: ${what} is also driven by the rollout ${other.node.path}: each rollout holds its own one-rollout-at-a-time `
        + 'lock and live color, so both could move the same weights at once. Drive each routing with one ProgressiveRollout (for a hotfix '
        + 'that cannot wait for every step: zdt promote --full)';
    });
  }

  /** ARNs of every alarm the judge reads (or, before any exists, the account's alarms: the judge then reads none). */
  private watchedAlarmArns(): string[] {
    const arns = [
      ...ALL_COLORS.flatMap((c) => this.judgedHealthAlarms(c).map((a) => a.alarmArn)),
      ...this.sharedAlarms.map((a) => a.alarmArn),
    ];
    return arns.length > 0 ? arns : [Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })];
  }
}

/** A ProgressiveRollout built elsewhere, from its attributes. */
class ImportedProgressiveRollout extends ProgressiveRolloutBase {
  public readonly stateMachine: sfn.IStateMachine;
  public readonly serviceName: string;
  public readonly stateTable: dynamodb.ITable;
  public readonly eventBus?: events.IEventBus;
  private readonly knownAlarms: cloudwatch.IAlarm[];

  constructor(scope: Construct, id: string, attrs: ProgressiveRolloutAttributes) {
    super(scope, id);
    new PropChecks(this).pattern('serviceName', attrs.serviceName, SERVICE_NAME, '1-64 letters, digits, ".", "_" or "-"');
    this.stateMachine = sfn.StateMachine.fromStateMachineArn(this, 'StateMachine', attrs.stateMachineArn);
    this.serviceName = attrs.serviceName;
    this.stateTable = attrs.stateTable;
    this.knownAlarms = [...attrs.alarms ?? []];
    this.eventBus = attrs.eventBus;
  }

  public get alarms(): cloudwatch.IAlarm[] {
    return [...this.knownAlarms];
  }
}

/**
 * What the operator CLI needs: read executions and their history, answer a pause's task token, and set the abort
 * flag on the service's state item.
 */
function grantOperate(rollout: IProgressiveRollout, grantee: iam.IGrantable): iam.Grant {
  rollout.stateMachine.grantRead(grantee);
  grantTaskTokenResponse(grantee);
  return rollout.stateTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
}
