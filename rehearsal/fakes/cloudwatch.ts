/**
 * FakeCloudWatch: metrics, metric math, metric and composite alarms on the virtual clock.
 *
 * Metric values come from pluggable MetricSources (the rehearsal's traffic model) with the
 * datapoints stored by PutMetricData as the last resort. Alarms are evaluated as the CloudWatch User Guide
 * documents ("Using Amazon CloudWatch alarms", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):
 * - When: "For any period of one minute or longer, an alarm is evaluated every minute [...] If the alarm period is
 *   10 seconds or 30 seconds, the alarm is evaluated every 10 seconds" (section "Evaluating an alarm"): ticks on
 *   the whole minute, or every 10 s. `evaluateAlarms()` catches up on every tick since it last ran, so the state
 *   history has the times a real alarm would have changed state; DescribeAlarms, DescribeAlarmHistory,
 *   SetAlarmState and Put*Alarm catch up first.
 * - On what: "the evaluation is based on the window of time defined by the Period and Evaluation Periods. For
 *   example, if the Period is 5 minutes [...] at the end of minute 5 the alarm evaluates based on data from minutes
 *   1 to 5. Then at the end of minute 6 [...] from minutes 2 to 6": the periods of the range end at the tick and
 *   slide with it. The range holds EvaluationPeriods + 2 periods (the evaluation range, alarm-evaluation.ts R1).
 * - Delayed data: a period becomes visible `ingestionDelaySeconds` after it ends; before that the alarm sees it as
 *   missing and, as the guide's "How alarm state is evaluated when data is missing" says, evaluates "the most
 *   recent real data points that were successfully retrieved, including the necessary extra data points from
 *   farther back in the evaluation range" (alarm-evaluation.ts R2). A period still arriving is missing as a whole
 *   (real CloudWatch may return a partial aggregate of it). A namespace may have its own delay
 *   (`setIngestionDelay`): an application's high-resolution custom metrics arrive through a path of their own (EMF log
 *   lines, rehearsal/release-signal-source.ts), not with ALB's one-minute reports.
 * - The decision (M out of N, TreatMissingData, premature alarms, low-sample percentiles): alarm-evaluation.ts.
 * - Composite alarms: "determine their alarm state by watching the alarm states of other alarms" (User Guide,
 *   "Create a composite alarm"): each one is evaluated right after its children at every tick, and at once when
 *   SetAlarmState changes a child, so it changes state at the instant its rule changes value.
 */
import type {
  CompositeAlarm, DeleteAlarmsInput, DescribeAlarmHistoryInput, DescribeAlarmHistoryOutput, DescribeAlarmsInput,
  DescribeAlarmsOutput, DisableAlarmActionsInput, EnableAlarmActionsInput, GetMetricDataInput, GetMetricDataOutput,
  GetMetricStatisticsInput, GetMetricStatisticsOutput, MetricAlarm, MetricDataQuery, MetricDataResult, PutCompositeAlarmInput,
  PutMetricAlarmInput, PutMetricDataInput, SetAlarmStateInput, Tag,
} from '@aws-sdk/client-cloudwatch';
import type { Clock } from '../../lambda/shared/clock';
import {
  COMPARISON_TEXT, Datapoint, EVALUATION_RANGE_EXTRA_PERIODS, evaluateAlarm, LOW_SAMPLE_COUNT_PERCENTILE_VALUES, LowSampleCountPercentile,
  TREAT_MISSING_DATA_VALUES, TreatMissingData,
} from './alarm-evaluation';
import { AlarmRule, AlarmRuleError, AlarmStateValue } from './alarm-rule';
import { awsError, HTTP_NOT_FOUND } from './aws-errors';
import { MathValue, MetricExpression, MetricMathError } from './metric-math';
import { dimensionRecord, isStandardStatistic, isValidStatistic, MetricQuery, MetricSource, percentileOf, StoredMetrics } from './metric-source';
import { InvalidTokenError, paginate } from './pagination';
import { deepClone } from './clone';

const MS_PER_SECOND = 1000;
const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 3600;
const SECONDS_PER_DAY = 86_400;
/**
 * Periods shorter than a minute CloudWatch accepts for metric queries (high resolution): "For high-resolution metrics
 * that are collected at intervals of less than one minute, the period can be 1, 5, 10, 30, 60, or any multiple of 60"
 * (CloudWatch API Reference, MetricStat).
 */
const HIGH_RESOLUTION_PERIODS = [1, 5, 10, 30];
/** Periods shorter than a minute CloudWatch accepts for alarms. */
const HIGH_RESOLUTION_ALARM_PERIODS = [10, 30];
/** CloudWatch evaluates alarms of a period of a minute or more once a minute ("Evaluating an alarm"). */
const EVALUATION_TICK_SECONDS = 60;
/** ...and high-resolution alarms (10 s or 30 s periods) every 10 seconds. */
const HIGH_RESOLUTION_EVALUATION_TICK_SECONDS = 10;
/** Alarms on this namespace always ignore missing data. */
const DYNAMODB_NAMESPACE = 'AWS/DynamoDB';
/** Evaluation ticks `evaluateAlarms()` replays per alarm at most (one day of minutes); older ones are skipped. */
export const MAX_CATCH_UP_EVALUATIONS = 1440;
/** Limits of the CloudWatch API. */
export const MAX_ALARM_NAME_LENGTH = 255;
export const MAX_ALARMS_PER_CALL = 100;
export const DEFAULT_MAX_RECORDS = 50;
export const MAX_RECORDS = 100;
export const MAX_METRICS_PER_ALARM = 10;
export const MAX_METRIC_DATA_QUERIES = 500;
export const MAX_DATAPOINTS_PER_STATISTICS_CALL = 1440;
export const MAX_STATISTICS_PER_CALL = 5;
export const MAX_EXTENDED_STATISTICS_PER_CALL = 10;
export const MAX_METRIC_DATA_PER_PUT = 1000;
export const MAX_VALUES_PER_DATUM = 150;
export const MAX_DIMENSIONS = 30;
/** How far in the future PutMetricData accepts timestamps, seconds. */
export const MAX_FUTURE_TIMESTAMP_SECONDS = 2 * SECONDS_PER_HOUR;
/** Longest evaluation range (Period x EvaluationPeriods) of an alarm: a day, or 7 days for periods of an hour or more. */
export const MAX_EVALUATION_RANGE_SECONDS = SECONDS_PER_DAY;
export const MAX_EVALUATION_RANGE_LONG_PERIOD_SECONDS = 7 * SECONDS_PER_DAY;
const METRIC_ID = /^[a-z][a-zA-Z0-9_]*$/;

export interface FakeCloudWatchOptions {
  readonly clock: Clock;
  /** @default us-east-1 */
  readonly region?: string;
  /** @default 123456789012 */
  readonly accountId?: string;
  /** Called for every alarm action (SNS topic ARN...) when an alarm with actions enabled changes state. */
  readonly onAlarmAction?: (event: AlarmActionEvent) => void;
  /**
   * How long after its period ends a datapoint becomes visible, to GetMetricData, GetMetricStatistics and alarm
   * evaluation alike (an alarm meanwhile sees it as missing). @default 0
   */
  readonly ingestionDelaySeconds?: number;
}

/** An alarm action CloudWatch would execute. */
export interface AlarmActionEvent {
  readonly actionArn: string;
  readonly alarmName: string;
  readonly alarmArn: string;
  readonly alarmDescription?: string;
  readonly alarmType: 'MetricAlarm' | 'CompositeAlarm';
  readonly oldState: AlarmStateValue;
  readonly newState: AlarmStateValue;
  readonly reason: string;
  /** Epoch ms. */
  readonly time: number;
}

/** One state change of an alarm (simulation view of DescribeAlarmHistory). */
export interface AlarmStateChange {
  readonly alarmName: string;
  readonly alarmType: 'MetricAlarm' | 'CompositeAlarm';
  /** Epoch ms. */
  readonly time: number;
  readonly from: AlarmStateValue;
  readonly to: AlarmStateValue;
  readonly reason: string;
}

interface ParsedQuery {
  readonly id: string;
  readonly label?: string;
  readonly returnData: boolean;
  readonly metric?: { readonly namespace: string; readonly metricName: string; readonly dimensions: Record<string, string>; readonly stat: string; readonly unit?: string };
  readonly expression?: MetricExpression;
  /** Period of the query, seconds (MetricStat.Period, the query's Period, or that of the metrics an expression reads). */
  readonly period: number;
}

interface AlarmStateFields {
  state: AlarmStateValue;
  reason: string;
  reasonData?: string;
  stateUpdatedAt: number;
  stateTransitionedAt: number;
  configUpdatedAt: number;
  actionsEnabled: boolean;
  lastEvaluatedAt: number;
  tags: Tag[];
}

interface MetricAlarmRecord extends AlarmStateFields {
  readonly name: string;
  readonly arn: string;
  input: PutMetricAlarmInput;
  queries?: ParsedQuery[];
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
  evaluateLowSampleCountPercentile: LowSampleCountPercentile;
}

interface CompositeAlarmRecord extends AlarmStateFields {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  input: PutCompositeAlarmInput;
  rule: AlarmRule;
}

interface HistoryRecord {
  readonly alarmName: string;
  readonly alarmType: 'MetricAlarm' | 'CompositeAlarm';
  readonly time: number;
  readonly type: 'ConfigurationUpdate' | 'StateUpdate' | 'Action';
  readonly summary: string;
  readonly data: string;
  readonly change?: AlarmStateChange;
}

function toMillis(value: Date | string | number | undefined, field: string): number {
  if (value === undefined) throw awsError('cloudwatch', 'MissingRequiredParameterException', `The parameter ${field} is required.`);
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? (value < 1e11 ? value * MS_PER_SECOND : value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw awsError('cloudwatch', 'InvalidParameterValueException', `The parameter ${field} must be a valid timestamp, got '${String(value)}'.`);
  return ms;
}

/** How often CloudWatch evaluates an alarm of this period, seconds ("Evaluating an alarm"). */
export function evaluationTickSeconds(periodSeconds: number): number {
  return periodSeconds < SECONDS_PER_MINUTE ? HIGH_RESOLUTION_EVALUATION_TICK_SECONDS : EVALUATION_TICK_SECONDS;
}

export class FakeCloudWatch {
  readonly region: string;
  readonly accountId: string;
  /** The datapoints PutMetricData stored (the last MetricSource consulted). */
  readonly storedMetrics = new StoredMetrics();
  private readonly clock: Clock;
  private readonly onAlarmAction?: (event: AlarmActionEvent) => void;
  private readonly ingestionDelayMs: number;
  private readonly ingestionDelayMsByNamespace = new Map<string, number>();
  private readonly sources: MetricSource[] = [];
  private readonly metricAlarms = new Map<string, MetricAlarmRecord>();
  private readonly compositeAlarms = new Map<string, CompositeAlarmRecord>();
  private readonly history: HistoryRecord[] = [];

  constructor(options: FakeCloudWatchOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.onAlarmAction = options.onAlarmAction;
    this.ingestionDelayMs = (options.ingestionDelaySeconds ?? 0) * MS_PER_SECOND;
  }

  /**
   * Adds a metric source, consulted before the ones added earlier and before the stored
   * datapoints (the first non-null answer wins). Returns a function that removes it.
   */
  addMetricSource(source: MetricSource): () => void {
    this.sources.unshift(source);
    return () => {
      const index = this.sources.indexOf(source);
      if (index >= 0) this.sources.splice(index, 1);
    };
  }

  /** Datapoints of `namespace` become visible `seconds` after their period ends (instead of `ingestionDelaySeconds`). */
  setIngestionDelay(namespace: string, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`FakeCloudWatch.setIngestionDelay(${namespace}): expected a non-negative number of seconds, got ${seconds}`);
    this.ingestionDelayMsByNamespace.set(namespace, seconds * MS_PER_SECOND);
  }

  /**
   * The value of one statistic of one metric over one period, from the sources; null while it is not yet ingested
   * at `asOf` (an alarm evaluation caught up later sees only what was visible at its tick). @default asOf now
   */
  metricValue(query: MetricQuery, asOf: number = this.clock.now()): number | null {
    const delayMs = this.ingestionDelayMsByNamespace.get(query.namespace) ?? this.ingestionDelayMs;
    if (query.periodStart + query.periodSeconds * MS_PER_SECOND + delayMs > asOf) return null;
    for (const source of this.sources) {
      const value = source.value(query);
      if (value !== null && value !== undefined) return value;
    }
    return this.storedMetrics.value(query);
  }

  // -------------------------------------------------------------------------------------------
  // Metrics
  // -------------------------------------------------------------------------------------------

  putMetricData(input: PutMetricDataInput): Record<string, never> {
    const namespace = input.Namespace;
    if (!namespace) throw this.missing('Namespace');
    if (namespace.startsWith('AWS/')) {
      throw this.invalid(`The value ${namespace} for parameter Namespace is invalid: namespaces beginning with 'AWS/' are reserved for AWS services.`);
    }
    const data = input.MetricData ?? [];
    if (data.length === 0) throw this.missing('MetricData');
    if (data.length > MAX_METRIC_DATA_PER_PUT) throw this.invalid(`The collection MetricData must not have a size greater than ${MAX_METRIC_DATA_PER_PUT}.`);
    const now = this.clock.now();
    data.forEach((datum, i) => {
      const at = `MetricData.member.${i + 1}`;
      if (!datum.MetricName) throw this.missing(`${at}.MetricName`);
      const kinds = [datum.Value !== undefined, datum.Values !== undefined, datum.StatisticValues !== undefined].filter(Boolean).length;
      if (kinds > 1) throw this.combination(`The parameters ${at}.Value, ${at}.Values and ${at}.StatisticValues are mutually exclusive.`);
      if (datum.Value !== undefined && !Number.isFinite(datum.Value)) throw this.invalid(`The value ${datum.Value} for parameter ${at}.Value is invalid.`);
      if (datum.Values) {
        if (datum.Values.length > MAX_VALUES_PER_DATUM) throw this.invalid(`The collection ${at}.Values must not have a size greater than ${MAX_VALUES_PER_DATUM}.`);
        if (datum.Counts && datum.Counts.length !== datum.Values.length) throw this.combination(`The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
        if (datum.Values.some((v) => !Number.isFinite(v))) throw this.invalid(`The parameter ${at}.Values contains a value that is not a finite number.`);
      }
      if ((datum.Dimensions?.length ?? 0) > MAX_DIMENSIONS) throw this.invalid(`The collection ${at}.Dimensions must not have a size greater than ${MAX_DIMENSIONS}.`);
      if (datum.Timestamp !== undefined && toMillis(datum.Timestamp, `${at}.Timestamp`) > now + MAX_FUTURE_TIMESTAMP_SECONDS * MS_PER_SECOND) {
        throw this.invalid(`The parameter ${at}.Timestamp must specify a time no more than two hours in the future.`);
      }
    });
    this.storedMetrics.putMetricData(namespace, data, now);
    return {};
  }

  getMetricData(input: GetMetricDataInput): GetMetricDataOutput {
    const start = toMillis(input.StartTime, 'StartTime');
    const end = toMillis(input.EndTime, 'EndTime');
    if (start >= end) throw this.invalid('The parameter StartTime must be less than the parameter EndTime.');
    if (input.NextToken !== undefined) throw awsError('cloudwatch', 'InvalidNextToken', `The service cannot process the NextToken '${input.NextToken}': this fake returns every datapoint in one page.`);
    const raw = input.MetricDataQueries ?? [];
    if (raw.length === 0) throw this.missing('MetricDataQueries');
    if (raw.length > MAX_METRIC_DATA_QUERIES) throw this.invalid(`The collection MetricDataQueries must not have a size greater than ${MAX_METRIC_DATA_QUERIES}.`);
    const queries = this.parseQueries(raw, false);
    const ascending = input.ScanBy === 'TimestampAscending';
    const results: MetricDataResult[] = [];
    for (const query of queries.filter((q) => q.returnData)) {
      const grid = this.retainedAt(start, query.period) ? this.queryGrid(start, end, query.period) : [];
      const series = this.seriesOf(query, queries, grid);
      const points = grid.map((t, i) => ({ t, v: series[i] })).filter((p): p is { t: number; v: number } => p.v !== null);
      if (!ascending) points.reverse();
      results.push({
        Id: query.id,
        Label: query.label ?? query.metric?.metricName ?? query.id,
        Timestamps: points.map((p) => new Date(p.t)),
        Values: points.map((p) => p.v),
        StatusCode: 'Complete',
      });
    }
    return { MetricDataResults: results, Messages: [] };
  }

  getMetricStatistics(input: GetMetricStatisticsInput): GetMetricStatisticsOutput {
    if (!input.Namespace) throw this.missing('Namespace');
    if (!input.MetricName) throw this.missing('MetricName');
    const start = toMillis(input.StartTime, 'StartTime');
    const end = toMillis(input.EndTime, 'EndTime');
    if (start >= end) throw this.invalid('The parameter StartTime must be less than the parameter EndTime.');
    const period = input.Period;
    if (period === undefined) throw this.missing('Period');
    this.checkPeriod(period, 'Period', false);
    const statistics = input.Statistics ?? [];
    const extended = input.ExtendedStatistics ?? [];
    if (statistics.length === 0 && extended.length === 0) throw this.combination('Must specify either Statistics or ExtendedStatistics.');
    if (statistics.length > MAX_STATISTICS_PER_CALL) throw this.invalid(`The collection Statistics must not have a size greater than ${MAX_STATISTICS_PER_CALL}.`);
    if (extended.length > MAX_EXTENDED_STATISTICS_PER_CALL) throw this.invalid(`The collection ExtendedStatistics must not have a size greater than ${MAX_EXTENDED_STATISTICS_PER_CALL}.`);
    for (const s of statistics) if (!isStandardStatistic(s)) throw this.invalid(`The value ${s} for parameter Statistics is invalid.`);
    for (const s of extended) if (isStandardStatistic(s) || !isValidStatistic(s)) throw this.invalid(`The value ${s} for parameter ExtendedStatistics is invalid.`);
    const requested = Math.ceil((end - start) / (period * MS_PER_SECOND));
    if (requested > MAX_DATAPOINTS_PER_STATISTICS_CALL) {
      throw this.combination(`You have requested up to ${requested} datapoints, which exceeds the limit of ${MAX_DATAPOINTS_PER_STATISTICS_CALL}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`);
    }
    const dimensions = dimensionRecord(input.Dimensions);
    const base = { namespace: input.Namespace, metricName: input.MetricName, dimensions, periodSeconds: period, unit: input.Unit };
    const datapoints = this.queryGrid(start, end, period).flatMap((t) => {
      const count = this.metricValue({ ...base, statistic: 'SampleCount', periodStart: t });
      const value = (s: string): number | null => this.metricValue({ ...base, statistic: s, periodStart: t });
      const point: Record<string, unknown> = { Timestamp: new Date(t) };
      let any = count !== null && count > 0;
      for (const s of statistics) {
        const v = value(s);
        if (v !== null) { point[s] = v; any = true; }
      }
      if (extended.length) {
        const ext: Record<string, number> = {};
        for (const s of extended) {
          const v = value(s);
          if (v !== null) { ext[s] = v; any = true; }
        }
        point.ExtendedStatistics = ext;
      }
      if (input.Unit) point.Unit = input.Unit;
      return any ? [point] : [];
    });
    return { Label: input.MetricName, Datapoints: datapoints };
  }

  // -------------------------------------------------------------------------------------------
  // Alarms
  // -------------------------------------------------------------------------------------------

  putMetricAlarm(input: PutMetricAlarmInput): Record<string, never> {
    this.evaluateAlarms();
    const name = this.checkAlarmName(input.AlarmName);
    if (this.compositeAlarms.has(name)) throw this.invalid(`An alarm named '${name}' already exists as a composite alarm.`);
    if (input.EvaluationPeriods === undefined) throw this.missing('EvaluationPeriods');
    if (input.ComparisonOperator === undefined) throw this.missing('ComparisonOperator');
    if (!(input.ComparisonOperator in COMPARISON_TEXT)) {
      throw this.invalid(`The comparison operator ${input.ComparisonOperator} of alarm '${name}' is not supported by the rehearsal's FakeCloudWatch (anomaly detection bands are not simulated); use GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold.`);
    }
    if (input.ThresholdMetricId !== undefined) throw this.invalid(`ThresholdMetricId (anomaly detection) of alarm '${name}' is not supported by the rehearsal's FakeCloudWatch.`);
    if (input.Threshold === undefined || !Number.isFinite(input.Threshold)) throw this.missing('Threshold');
    if (!Number.isInteger(input.EvaluationPeriods) || input.EvaluationPeriods < 1) {
      throw this.invalid(`The value ${input.EvaluationPeriods} for parameter EvaluationPeriods is invalid: it must be an integer >= 1.`);
    }
    const datapointsToAlarm = input.DatapointsToAlarm ?? input.EvaluationPeriods;
    if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > input.EvaluationPeriods) {
      throw this.invalid(`DatapointsToAlarm (${datapointsToAlarm}) must be between 1 and EvaluationPeriods (${input.EvaluationPeriods}) for alarm '${name}'.`);
    }
    const treatMissingData = (input.TreatMissingData ?? 'missing') as TreatMissingData;
    if (!TREAT_MISSING_DATA_VALUES.includes(treatMissingData)) {
      throw this.invalid(`The value ${input.TreatMissingData} for parameter TreatMissingData is invalid; expected one of ${TREAT_MISSING_DATA_VALUES.join(', ')}.`);
    }
    const evaluateLowSampleCountPercentile = (input.EvaluateLowSampleCountPercentile ?? 'evaluate') as LowSampleCountPercentile;
    if (!LOW_SAMPLE_COUNT_PERCENTILE_VALUES.includes(evaluateLowSampleCountPercentile)) {
      throw this.invalid(`The value ${input.EvaluateLowSampleCountPercentile} for parameter EvaluateLowSampleCountPercentile is invalid; expected one of ${LOW_SAMPLE_COUNT_PERCENTILE_VALUES.join(', ')}.`);
    }
    let period: number;
    let queries: ParsedQuery[] | undefined;
    const single = input.MetricName !== undefined || input.Namespace !== undefined || input.Statistic !== undefined
      || input.ExtendedStatistic !== undefined || input.Period !== undefined || input.Dimensions !== undefined;
    if (input.Metrics?.length) {
      if (single) throw this.combination(`Alarm '${name}': Metrics cannot be combined with MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions or Period.`);
      if (input.Metrics.length > MAX_METRICS_PER_ALARM) throw this.invalid(`The collection Metrics must not have a size greater than ${MAX_METRICS_PER_ALARM}.`);
      queries = this.parseQueries(input.Metrics, true);
      const returning = queries.filter((q) => q.returnData);
      if (returning.length !== 1) {
        throw this.validation(`Exactly one element of the metrics list of alarm '${name}' must return data (ReturnData, which defaults to true); ${returning.length} do.`);
      }
      period = returning[0].period;
      this.checkPeriod(period, `Metrics period of alarm '${name}'`, true);
      const periods = new Set(queries.filter((q) => q.metric).map((q) => q.period));
      if (periods.size > 1) throw this.validation(`The metrics of alarm '${name}' must all have the same period; found ${[...periods].join(', ')} seconds.`);
      // A dry run on an empty grid finds type errors (an array where a time series is needed) now, not at evaluation.
      this.dryRun(returning[0], queries, name);
    } else {
      if (!input.MetricName) throw this.missing('MetricName');
      if (!input.Namespace) throw this.missing('Namespace');
      if ((input.Statistic === undefined) === (input.ExtendedStatistic === undefined)) {
        throw this.combination(`Exactly one of Statistic and ExtendedStatistic must be specified for alarm '${name}'.`);
      }
      if (input.Statistic !== undefined && !isStandardStatistic(input.Statistic)) throw this.invalid(`The value ${input.Statistic} for parameter Statistic is invalid.`);
      if (input.ExtendedStatistic !== undefined && !isValidStatistic(input.ExtendedStatistic)) throw this.invalid(`The value ${input.ExtendedStatistic} for parameter ExtendedStatistic is invalid.`);
      if (input.Period === undefined) throw this.missing('Period');
      period = input.Period;
      this.checkPeriod(period, 'Period', true);
    }
    const range = period * input.EvaluationPeriods;
    const maxRange = period >= SECONDS_PER_HOUR ? MAX_EVALUATION_RANGE_LONG_PERIOD_SECONDS : MAX_EVALUATION_RANGE_SECONDS;
    if (range > maxRange) {
      throw this.validation(`The evaluation range of alarm '${name}' (Period ${period} s x EvaluationPeriods ${input.EvaluationPeriods}) must not exceed ${maxRange} seconds.`);
    }
    const now = this.clock.now();
    const existing = this.metricAlarms.get(name);
    const stored = deepClone(input);
    delete stored.Tags;
    if (existing) {
      Object.assign(existing, {
        input: stored, queries, period, evaluationPeriods: input.EvaluationPeriods, datapointsToAlarm, treatMissingData, evaluateLowSampleCountPercentile,
        configUpdatedAt: now, actionsEnabled: input.ActionsEnabled ?? true,
      });
      this.record({ alarmName: name, alarmType: 'MetricAlarm', time: now, type: 'ConfigurationUpdate', summary: `Alarm "${name}" updated`, data: JSON.stringify({ type: 'Update', version: '1.0' }) });
    } else {
      this.metricAlarms.set(name, {
        name, arn: this.alarmArn(name), input: stored, queries, period, evaluationPeriods: input.EvaluationPeriods, datapointsToAlarm, treatMissingData,
        evaluateLowSampleCountPercentile, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', stateUpdatedAt: now, stateTransitionedAt: now, configUpdatedAt: now,
        actionsEnabled: input.ActionsEnabled ?? true, lastEvaluatedAt: now, tags: (input.Tags ?? []).map((t) => ({ ...t })),
      });
      this.record({ alarmName: name, alarmType: 'MetricAlarm', time: now, type: 'ConfigurationUpdate', summary: `Alarm "${name}" created`, data: JSON.stringify({ type: 'Create', version: '1.0' }) });
    }
    return {};
  }

  putCompositeAlarm(input: PutCompositeAlarmInput): Record<string, never> {
    this.evaluateAlarms();
    const name = this.checkAlarmName(input.AlarmName);
    if (this.metricAlarms.has(name)) throw this.invalid(`An alarm named '${name}' already exists as a metric alarm.`);
    if (input.AlarmRule === undefined) throw this.missing('AlarmRule');
    let rule: AlarmRule;
    try {
      rule = AlarmRule.parse(input.AlarmRule);
    } catch (err) {
      if (err instanceof AlarmRuleError) throw this.validation(`Invalid AlarmRule of composite alarm '${name}': ${err.message}.`);
      throw err;
    }
    const referenced = rule.alarms();
    const unknown = referenced.filter((a) => a !== name && !this.metricAlarms.has(a) && !this.compositeAlarms.has(a));
    if (unknown.length > 0) {
      throw this.validation(`Could not save the composite alarm '${name}' as alarms [${unknown.join(', ')}] in the alarm rule do not exist.`);
    }
    if (this.reaches(referenced, name)) throw this.validation(`The alarm rule of composite alarm '${name}' creates a circular dependency: it depends on itself.`);
    const now = this.clock.now();
    const existing = this.compositeAlarms.get(name);
    const stored = deepClone(input);
    delete stored.Tags;
    if (existing) {
      Object.assign(existing, { input: stored, rule, configUpdatedAt: now, actionsEnabled: input.ActionsEnabled ?? true });
      this.record({ alarmName: name, alarmType: 'CompositeAlarm', time: now, type: 'ConfigurationUpdate', summary: `Alarm "${name}" updated`, data: JSON.stringify({ type: 'Update', version: '1.0' }) });
    } else {
      this.compositeAlarms.set(name, {
        name, arn: this.alarmArn(name), createdAt: now, input: stored, rule, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation',
        stateUpdatedAt: now, stateTransitionedAt: now, configUpdatedAt: now, actionsEnabled: input.ActionsEnabled ?? true, lastEvaluatedAt: now,
        tags: (input.Tags ?? []).map((t) => ({ ...t })),
      });
      this.record({ alarmName: name, alarmType: 'CompositeAlarm', time: now, type: 'ConfigurationUpdate', summary: `Alarm "${name}" created`, data: JSON.stringify({ type: 'Create', version: '1.0' }) });
    }
    this.evaluateComposites(now);
    return {};
  }

  describeAlarms(input: DescribeAlarmsInput = {}): DescribeAlarmsOutput {
    this.evaluateAlarms();
    const names = input.AlarmNames;
    if (names && names.length > MAX_ALARMS_PER_CALL) {
      throw this.validation(`1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ALARMS_PER_CALL} (got ${names.length}).`);
    }
    const filters = [names?.length, input.AlarmNamePrefix !== undefined, input.ChildrenOfAlarmName !== undefined, input.ParentsOfAlarmName !== undefined].filter(Boolean).length;
    if (filters > 1) throw this.combination('AlarmNames, AlarmNamePrefix, ChildrenOfAlarmName and ParentsOfAlarmName cannot be combined.');
    const maxRecords = this.checkMaxRecords(input.MaxRecords);
    const types = new Set(input.AlarmTypes?.length ? input.AlarmTypes : ['MetricAlarm']);
    let selected: Array<MetricAlarmRecord | CompositeAlarmRecord> = [
      ...(types.has('MetricAlarm') ? [...this.metricAlarms.values()] : []),
      ...(types.has('CompositeAlarm') ? [...this.compositeAlarms.values()] : []),
    ];
    if (names?.length) {
      const wanted = new Set(names);
      selected = selected.filter((a) => wanted.has(a.name));
    } else if (input.AlarmNamePrefix !== undefined) {
      selected = selected.filter((a) => a.name.startsWith(input.AlarmNamePrefix!));
    } else if (input.ChildrenOfAlarmName !== undefined) {
      const parent = this.compositeAlarms.get(input.ChildrenOfAlarmName);
      const children = new Set(parent ? parent.rule.alarms() : []);
      selected = selected.filter((a) => children.has(a.name));
    } else if (input.ParentsOfAlarmName !== undefined) {
      const child = input.ParentsOfAlarmName;
      selected = selected.filter((a) => 'rule' in a && a.rule.alarms().includes(child));
    }
    if (input.StateValue !== undefined) selected = selected.filter((a) => a.state === input.StateValue);
    if (input.ActionPrefix !== undefined) {
      const prefix = input.ActionPrefix;
      selected = selected.filter((a) => [...(a.input.AlarmActions ?? []), ...(a.input.OKActions ?? []), ...(a.input.InsufficientDataActions ?? [])].some((x) => x.startsWith(prefix)));
    }
    selected.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const page = this.page('DescribeAlarms', selected, input.NextToken, maxRecords);
    return {
      MetricAlarms: page.items.filter((a): a is MetricAlarmRecord => 'period' in a).map((a) => this.describeMetricAlarm(a)),
      CompositeAlarms: page.items.filter((a): a is CompositeAlarmRecord => 'rule' in a).map((a) => this.describeCompositeAlarm(a)),
      NextToken: page.next,
    };
  }

  deleteAlarms(input: DeleteAlarmsInput): Record<string, never> {
    const names = input.AlarmNames ?? [];
    if (names.length === 0) throw this.missing('AlarmNames');
    if (names.length > MAX_ALARMS_PER_CALL) throw this.invalid(`The collection AlarmNames must not have a size greater than ${MAX_ALARMS_PER_CALL}.`);
    const unknown = names.filter((n) => !this.metricAlarms.has(n) && !this.compositeAlarms.has(n));
    if (unknown.length > 0) {
      throw awsError('cloudwatch', 'ResourceNotFound', `The following alarms were not found: [${unknown.join(', ')}].`, { httpStatusCode: HTTP_NOT_FOUND });
    }
    for (const n of names) {
      this.metricAlarms.delete(n);
      this.compositeAlarms.delete(n);
    }
    return {};
  }

  setAlarmState(input: SetAlarmStateInput): Record<string, never> {
    this.evaluateAlarms();
    const name = input.AlarmName;
    if (!name) throw this.missing('AlarmName');
    if (input.StateValue !== 'OK' && input.StateValue !== 'ALARM' && input.StateValue !== 'INSUFFICIENT_DATA') {
      throw this.invalid(`The value ${String(input.StateValue)} for parameter StateValue is invalid; expected OK, ALARM or INSUFFICIENT_DATA.`);
    }
    if (input.StateReason === undefined) throw this.missing('StateReason');
    if (input.StateReasonData !== undefined) {
      try { JSON.parse(input.StateReasonData); } catch { throw this.invalid('The parameter StateReasonData must be valid JSON.'); }
    }
    const alarm = this.metricAlarms.get(name) ?? this.compositeAlarms.get(name);
    if (!alarm) throw awsError('cloudwatch', 'ResourceNotFound', `Alarm ${name} not found`, { httpStatusCode: HTTP_NOT_FOUND });
    const now = this.clock.now();
    this.changeState(alarm, 'period' in alarm ? 'MetricAlarm' : 'CompositeAlarm', input.StateValue, input.StateReason, input.StateReasonData, now);
    this.evaluateComposites(now);
    return {};
  }

  enableAlarmActions(input: EnableAlarmActionsInput): Record<string, never> {
    return this.setActionsEnabled(input.AlarmNames, true);
  }

  disableAlarmActions(input: DisableAlarmActionsInput): Record<string, never> {
    return this.setActionsEnabled(input.AlarmNames, false);
  }

  describeAlarmHistory(input: DescribeAlarmHistoryInput = {}): DescribeAlarmHistoryOutput {
    this.evaluateAlarms();
    const maxRecords = this.checkMaxRecords(input.MaxRecords);
    const types = new Set(input.AlarmTypes?.length ? input.AlarmTypes : ['MetricAlarm']);
    const start = input.StartDate === undefined ? -Infinity : toMillis(input.StartDate, 'StartDate');
    const end = input.EndDate === undefined ? Infinity : toMillis(input.EndDate, 'EndDate');
    let items = this.history.filter((h) => types.has(h.alarmType)
      && (input.AlarmName === undefined || h.alarmName === input.AlarmName)
      && (input.HistoryItemType === undefined || h.type === input.HistoryItemType)
      && h.time >= start && h.time <= end);
    if (input.ScanBy !== 'TimestampAscending') items = [...items].reverse();
    const page = this.page('DescribeAlarmHistory', items, input.NextToken, maxRecords);
    return {
      AlarmHistoryItems: page.items.map((h) => ({
        AlarmName: h.alarmName, AlarmType: h.alarmType, Timestamp: new Date(h.time), HistoryItemType: h.type, HistorySummary: h.summary, HistoryData: h.data,
      })),
      NextToken: page.next,
    };
  }

  // -------------------------------------------------------------------------------------------
  // Evaluation and simulation API (not AWS)
  // -------------------------------------------------------------------------------------------

  /**
   * Evaluates every alarm as CloudWatch would have up to now: each metric alarm at each of its
   * evaluation ticks since its last evaluation (once a minute; every period for 10 s / 30 s
   * alarms), composite alarms after the metric alarms of the same tick.
   */
  evaluateAlarms(): void {
    const now = this.clock.now();
    const due = new Map<number, MetricAlarmRecord[]>();
    for (const alarm of this.metricAlarms.values()) {
      const tickMs = evaluationTickSeconds(alarm.period) * MS_PER_SECOND;
      let first = Math.floor(alarm.lastEvaluatedAt / tickMs) * tickMs + tickMs;
      const last = Math.floor(now / tickMs) * tickMs;
      if ((last - first) / tickMs >= MAX_CATCH_UP_EVALUATIONS) first = last - (MAX_CATCH_UP_EVALUATIONS - 1) * tickMs;
      for (let t = first; t <= last; t += tickMs) {
        const list = due.get(t) ?? [];
        list.push(alarm);
        due.set(t, list);
      }
      alarm.lastEvaluatedAt = now;
    }
    for (const t of [...due.keys()].sort((a, b) => a - b)) {
      for (const alarm of due.get(t)!) this.evaluateMetricAlarm(alarm, t);
      this.evaluateComposites(t);
    }
    for (const composite of this.compositeAlarms.values()) composite.lastEvaluatedAt = now;
  }

  /** Current state of an alarm (metric or composite), or undefined when it does not exist. */
  alarmState(alarmName: string): AlarmStateValue | undefined {
    return (this.metricAlarms.get(alarmName) ?? this.compositeAlarms.get(alarmName))?.state;
  }

  /** Every state change (all alarms, or one), oldest first. */
  stateChanges(alarmName?: string): AlarmStateChange[] {
    return this.history.filter((h) => h.change && (alarmName === undefined || h.alarmName === alarmName)).map((h) => ({ ...h.change! }));
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  private evaluateMetricAlarm(alarm: MetricAlarmRecord, at: number): void {
    const periodMs = alarm.period * MS_PER_SECOND;
    // The evaluation range: EvaluationPeriods + 2 periods, the newest ending at this tick (sliding with it).
    const rangeLength = alarm.evaluationPeriods + EVALUATION_RANGE_EXTRA_PERIODS;
    const grid = Array.from({ length: rangeLength }, (_, k) => at - (rangeLength - k) * periodMs);
    let values: Array<number | null>;
    let percentileMetric: { namespace: string; metricName: string; dimensions: Record<string, string>; stat: string; unit?: string } | undefined;
    if (alarm.queries) {
      const returning = alarm.queries.find((q) => q.returnData)!;
      values = this.seriesOf(returning, alarm.queries, grid, at);
      percentileMetric = returning.metric;
    } else {
      const input = alarm.input;
      percentileMetric = {
        namespace: input.Namespace!, metricName: input.MetricName!, dimensions: dimensionRecord(input.Dimensions),
        stat: input.Statistic ?? input.ExtendedStatistic!, unit: input.Unit,
      };
      const m = percentileMetric;
      values = grid.map((t) => this.metricValue({ namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.stat, periodStart: t, periodSeconds: alarm.period, unit: m.unit }, at));
    }
    // A percentile alarm knows how many samples each datapoint came from (EvaluateLowSampleCountPercentile).
    const percentile = percentileMetric ? percentileOf(percentileMetric.stat) : undefined;
    const sampleCountAt = (t: number): number | undefined => {
      if (percentile === undefined || !percentileMetric) return undefined;
      const m = percentileMetric;
      return this.metricValue({ namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: 'SampleCount', periodStart: t, periodSeconds: alarm.period, unit: m.unit }, at) ?? 0;
    };
    const datapoints: Datapoint[] = grid.map((timestamp, i) => {
      const value = values[i];
      const sampleCount = value === null ? undefined : sampleCountAt(timestamp);
      return sampleCount === undefined ? { timestamp, value } : { timestamp, value, sampleCount };
    });
    const result = evaluateAlarm({
      datapoints,
      evaluationPeriods: alarm.evaluationPeriods,
      threshold: alarm.input.Threshold!,
      comparisonOperator: alarm.input.ComparisonOperator!,
      datapointsToAlarm: alarm.datapointsToAlarm,
      treatMissingData: this.effectiveTreatMissingData(alarm),
      currentState: alarm.state,
      percentile,
      evaluateLowSampleCountPercentile: alarm.evaluateLowSampleCountPercentile,
    });
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: new Date(at).toISOString(),
      startDate: new Date(grid[0]).toISOString(),
      period: alarm.period,
      recentDatapoints: values.filter((v) => v !== null),
      threshold: alarm.input.Threshold,
      evaluatedDatapoints: result.evaluated.map((p) => ({ timestamp: new Date(p.timestamp).toISOString(), value: p.value })),
    });
    this.changeState(alarm, 'MetricAlarm', result.state, result.reason, reasonData, at);
  }

  /**
   * "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore missing data even if you choose a
   * different option for how the alarm should treat missing data" (User Guide, "Configuring how CloudWatch alarms
   * treat missing data"). DescribeAlarms still shows the TreatMissingData the alarm was given.
   */
  private effectiveTreatMissingData(alarm: MetricAlarmRecord): TreatMissingData {
    const namespaces = alarm.queries ? alarm.queries.flatMap((q) => (q.metric ? [q.metric.namespace] : [])) : [alarm.input.Namespace];
    return namespaces.includes(DYNAMODB_NAMESPACE) ? 'ignore' : alarm.treatMissingData;
  }

  private evaluateComposites(at: number): void {
    const done = new Set<string>();
    const visit = (alarm: CompositeAlarmRecord): void => {
      if (done.has(alarm.name)) return;
      done.add(alarm.name);
      for (const child of alarm.rule.alarms()) {
        const composite = this.compositeAlarms.get(child);
        if (composite) visit(composite);
      }
      const fires = alarm.rule.evaluate((name) => this.alarmState(name));
      const state: AlarmStateValue = fires ? 'ALARM' : 'OK';
      const children = alarm.rule.alarms().map((c) => `${c} (${this.alarmState(c) ?? 'missing'})`).join(', ');
      this.changeState(alarm, 'CompositeAlarm', state, `The alarm rule ${alarm.rule.source} is ${fires ? 'TRUE' : 'FALSE'}: ${children}`, undefined, at);
    };
    for (const alarm of [...this.compositeAlarms.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      // A catch-up tick older than the composite alarm does not concern it.
      if (alarm.createdAt <= at) visit(alarm);
    }
  }

  private changeState(alarm: MetricAlarmRecord | CompositeAlarmRecord, type: 'MetricAlarm' | 'CompositeAlarm', state: AlarmStateValue, reason: string, reasonData: string | undefined, at: number): void {
    const from = alarm.state;
    if (from === state) return;
    alarm.state = state;
    alarm.reason = reason;
    alarm.reasonData = reasonData;
    alarm.stateUpdatedAt = at;
    alarm.stateTransitionedAt = at;
    const change: AlarmStateChange = { alarmName: alarm.name, alarmType: type, time: at, from, to: state, reason };
    this.record({
      alarmName: alarm.name, alarmType: type, time: at, type: 'StateUpdate', summary: `Alarm updated from ${from} to ${state}`,
      data: JSON.stringify({ version: '1.0', oldState: { stateValue: from }, newState: { stateValue: state, stateReason: reason, stateReasonData: reasonData ? JSON.parse(reasonData) : undefined } }),
      change,
    });
    if (!alarm.actionsEnabled) return;
    const actions = state === 'ALARM' ? alarm.input.AlarmActions : state === 'OK' ? alarm.input.OKActions : alarm.input.InsufficientDataActions;
    for (const actionArn of actions ?? []) {
      this.onAlarmAction?.({ actionArn, alarmName: alarm.name, alarmArn: alarm.arn, alarmDescription: alarm.input.AlarmDescription, alarmType: type, oldState: from, newState: state, reason, time: at });
      this.record({ alarmName: alarm.name, alarmType: type, time: at, type: 'Action', summary: `Successfully executed action ${actionArn}`, data: JSON.stringify({ actionState: 'Succeeded', notificationResource: actionArn }) });
    }
  }

  private record(item: HistoryRecord): void {
    this.history.push(item);
  }

  /**
   * Whether CloudWatch still holds data at this period for a query starting at `start`: "Data points with a period of
   * less than 60 seconds are available for 3 hours", and "If the StartTime parameter specifies a time stamp that is
   * greater than 3 hours ago, you must specify the period as follows or no data points in that time range is returned:
   * Start time between 3 hours and 15 days ago - Use a multiple of 60 seconds (1 minute). Start time between 15 and 63
   * days ago - Use a multiple of 300 seconds (5 minutes). Start time greater than 63 days ago - Use a multiple of 3600
   * seconds (1 hour)" (CloudWatch API Reference, GetMetricStatistics and MetricStat.Period).
   */
  private retainedAt(start: number, periodSeconds: number): boolean {
    const ageSeconds = (this.clock.now() - start) / MS_PER_SECOND;
    const multiple = ageSeconds > 63 * SECONDS_PER_DAY ? SECONDS_PER_HOUR : ageSeconds > 15 * SECONDS_PER_DAY ? 300
      : ageSeconds > 3 * SECONDS_PER_HOUR ? SECONDS_PER_MINUTE : 1;
    return periodSeconds % multiple === 0;
  }

  /**
   * Periods starting from StartTime that have ended. StartTime is rounded as GetMetricData's reference says ("Start
   * time less than 15 days ago - Round down to the nearest whole minute"; "If you set Period to 5, 10, 20, or 30, the
   * start time of your request is rounded down to the nearest time that corresponds to even 5-, 10-, 20-, or 30-second
   * divisions of a minute": CloudWatch API Reference, GetMetricData, StartTime): to the minute, or to the period below
   * a minute.
   */
  private queryGrid(start: number, end: number, periodSeconds: number): number[] {
    const roundMs = Math.min(periodSeconds, SECONDS_PER_MINUTE) * MS_PER_SECOND;
    const periodMs = periodSeconds * MS_PER_SECOND;
    const now = this.clock.now();
    const grid: number[] = [];
    for (let t = Math.floor(start / roundMs) * roundMs; t < end && t + periodMs <= now; t += periodMs) grid.push(t);
    return grid;
  }

  /** The series of a query on a grid; expressions read the other queries on the same grid. */
  private seriesOf(query: ParsedQuery, all: readonly ParsedQuery[], grid: readonly number[], asOf: number = this.clock.now()): Array<number | null> {
    const byId = new Map(all.map((q) => [q.id, q]));
    const cache = new Map<string, MathValue>();
    const valueOf = (q: ParsedQuery): MathValue => {
      const cached = cache.get(q.id);
      if (cached) return cached;
      let value: MathValue;
      if (q.metric) {
        const m = q.metric;
        value = { kind: 'series', values: grid.map((t) => this.metricValue({ namespace: m.namespace, metricName: m.metricName, dimensions: m.dimensions, statistic: m.stat, periodStart: t, periodSeconds: q.period, unit: m.unit }, asOf)) };
      } else {
        try {
          value = q.expression!.evaluate((id) => valueOf(byId.get(id)!), grid.length, q.period);
        } catch (err) {
          if (err instanceof MetricMathError) throw this.validation(`Error in expression '${q.id}': ${err.message}`);
          throw err;
        }
      }
      cache.set(q.id, value);
      return value;
    };
    const result = valueOf(query);
    if (result.kind === 'scalar') return grid.map(() => result.value);
    if (result.kind === 'array') throw this.validation(`The expression '${query.id}' returns an array of time series; the rehearsal's FakeCloudWatch needs one time series per query`);
    return [...result.values];
  }

  private dryRun(query: ParsedQuery, all: readonly ParsedQuery[], alarmName: string): void {
    try {
      this.seriesOf(query, all, []);
    } catch (err) {
      const e = err as Error;
      throw this.validation(`Invalid metrics of alarm '${alarmName}': ${e.message}`);
    }
  }

  private parseQueries(raw: readonly MetricDataQuery[], forAlarm: boolean): ParsedQuery[] {
    const ids = new Set<string>();
    const partial = raw.map((q, i) => {
      const at = `MetricDataQueries.member.${i + 1}`;
      if (!q.Id) throw this.missing(`${at}.Id`);
      if (!METRIC_ID.test(q.Id)) throw this.validation(`The Id '${q.Id}' at ${at} is invalid: it must start with a lower-case letter and contain only letters, numbers and underscores.`);
      if (ids.has(q.Id)) throw this.validation(`The Id '${q.Id}' is used by more than one query.`);
      ids.add(q.Id);
      if ((q.MetricStat === undefined) === (q.Expression === undefined)) {
        throw this.validation(`Query '${q.Id}' must have exactly one of MetricStat and Expression.`);
      }
      if (q.Period !== undefined) this.checkPeriod(q.Period, `${at}.Period`, forAlarm);
      if (q.MetricStat) {
        const stat = q.MetricStat;
        const metric = stat.Metric;
        if (!metric?.Namespace || !metric.MetricName) throw this.missing(`${at}.MetricStat.Metric.Namespace and MetricName`);
        if (!stat.Stat || !isValidStatistic(stat.Stat)) throw this.invalid(`The value ${String(stat.Stat)} for parameter ${at}.MetricStat.Stat is invalid.`);
        if (stat.Period === undefined) throw this.missing(`${at}.MetricStat.Period`);
        this.checkPeriod(stat.Period, `${at}.MetricStat.Period`, forAlarm);
        return {
          id: q.Id, label: q.Label, returnData: q.ReturnData ?? true, period: stat.Period,
          metric: { namespace: metric.Namespace, metricName: metric.MetricName, dimensions: dimensionRecord(metric.Dimensions), stat: stat.Stat, unit: stat.Unit },
        };
      }
      let expression: MetricExpression;
      try {
        expression = MetricExpression.parse(q.Expression!);
      } catch (err) {
        if (err instanceof MetricMathError) throw this.validation(`Error in expression '${q.Id}': ${err.message}`);
        throw err;
      }
      return { id: q.Id, label: q.Label, returnData: q.ReturnData ?? true, expression, explicitPeriod: q.Period };
    });
    // Resolve references and periods of expressions (depth-first, rejecting unknown ids and cycles).
    const byId = new Map(partial.map((q) => [q.id, q]));
    const periods = new Map<string, number>();
    const visiting = new Set<string>();
    const periodOf = (id: string, from: string): number => {
      const q = byId.get(id);
      if (!q) throw this.validation(`Error in expression '${from}': Unrecognized metric or expression id '${id}'.`);
      if ('metric' in q && q.metric) return q.period;
      const known = periods.get(id);
      if (known !== undefined) return known;
      if (visiting.has(id)) throw this.validation(`Error in expression '${id}': circular reference.`);
      visiting.add(id);
      const e = q as { expression: MetricExpression; explicitPeriod?: number };
      const refs = e.expression.references().map((r) => periodOf(r, id));
      visiting.delete(id);
      const period = e.explicitPeriod ?? (refs.length ? Math.max(...refs) : SECONDS_PER_MINUTE);
      periods.set(id, period);
      return period;
    };
    return partial.map((q) => ('metric' in q && q.metric ? q as ParsedQuery : {
      id: q.id, label: q.label, returnData: q.returnData, expression: (q as { expression: MetricExpression }).expression, period: periodOf(q.id, q.id),
    }));
  }

  private checkPeriod(period: number, field: string, forAlarm: boolean): void {
    const short = forAlarm ? HIGH_RESOLUTION_ALARM_PERIODS : HIGH_RESOLUTION_PERIODS;
    if (!Number.isInteger(period) || !(short.includes(period) || (period >= SECONDS_PER_MINUTE && period % SECONDS_PER_MINUTE === 0))) {
      throw this.invalid(`The parameter ${field} must be ${short.join(', ')} or a multiple of 60 seconds, got ${period}.`);
    }
  }

  private checkAlarmName(name: string | undefined): string {
    if (!name) throw this.missing('AlarmName');
    if (name.length > MAX_ALARM_NAME_LENGTH) throw this.invalid(`The alarm name '${name.slice(0, 40)}...' is longer than ${MAX_ALARM_NAME_LENGTH} characters.`);
    return name;
  }

  private checkMaxRecords(maxRecords: number | undefined): number {
    if (maxRecords === undefined) return DEFAULT_MAX_RECORDS;
    if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_RECORDS) {
      throw this.invalid(`The value ${maxRecords} for parameter MaxRecords is invalid: it must be between 1 and ${MAX_RECORDS}.`);
    }
    return maxRecords;
  }

  private page<T>(operation: string, items: readonly T[], token: string | undefined, size: number) {
    try {
      return paginate(operation, items, token, size);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw awsError('cloudwatch', 'InvalidNextToken', `The service cannot process the NextToken '${token}' for ${operation}.`);
      throw err;
    }
  }

  /** True when following the rules of `names` (composite alarms) leads to `target`. */
  private reaches(names: readonly string[], target: string, seen = new Set<string>()): boolean {
    for (const n of names) {
      if (n === target) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      const composite = this.compositeAlarms.get(n);
      if (composite && this.reaches(composite.rule.alarms(), target, seen)) return true;
    }
    return false;
  }

  private setActionsEnabled(names: readonly string[] | undefined, enabled: boolean): Record<string, never> {
    if (!names?.length) throw this.missing('AlarmNames');
    for (const n of names) {
      const alarm = this.metricAlarms.get(n) ?? this.compositeAlarms.get(n);
      if (alarm) alarm.actionsEnabled = enabled;
    }
    return {};
  }

  private alarmArn(name: string): string {
    return `arn:aws:cloudwatch:${this.region}:${this.accountId}:alarm:${name}`;
  }

  private describeMetricAlarm(a: MetricAlarmRecord): MetricAlarm {
    const i = deepClone(a.input);
    return {
      AlarmName: a.name, AlarmArn: a.arn, AlarmDescription: i.AlarmDescription, AlarmConfigurationUpdatedTimestamp: new Date(a.configUpdatedAt),
      ActionsEnabled: a.actionsEnabled, OKActions: i.OKActions ?? [], AlarmActions: i.AlarmActions ?? [], InsufficientDataActions: i.InsufficientDataActions ?? [],
      StateValue: a.state, StateReason: a.reason, StateReasonData: a.reasonData, StateUpdatedTimestamp: new Date(a.stateUpdatedAt),
      StateTransitionedTimestamp: new Date(a.stateTransitionedAt),
      MetricName: i.MetricName, Namespace: i.Namespace, Statistic: i.Statistic, ExtendedStatistic: i.ExtendedStatistic,
      Dimensions: i.Metrics ? undefined : (i.Dimensions ?? []), Period: i.Period, Unit: i.Unit, EvaluationPeriods: a.evaluationPeriods,
      DatapointsToAlarm: i.DatapointsToAlarm, Threshold: i.Threshold, ComparisonOperator: i.ComparisonOperator,
      TreatMissingData: i.TreatMissingData, EvaluateLowSampleCountPercentile: i.EvaluateLowSampleCountPercentile, Metrics: i.Metrics,
    };
  }

  private describeCompositeAlarm(a: CompositeAlarmRecord): CompositeAlarm {
    const i = deepClone(a.input);
    return {
      AlarmName: a.name, AlarmArn: a.arn, AlarmDescription: i.AlarmDescription, AlarmRule: i.AlarmRule,
      AlarmConfigurationUpdatedTimestamp: new Date(a.configUpdatedAt), ActionsEnabled: a.actionsEnabled,
      OKActions: i.OKActions ?? [], AlarmActions: i.AlarmActions ?? [], InsufficientDataActions: i.InsufficientDataActions ?? [],
      StateValue: a.state, StateReason: a.reason, StateReasonData: a.reasonData, StateUpdatedTimestamp: new Date(a.stateUpdatedAt),
      StateTransitionedTimestamp: new Date(a.stateTransitionedAt),
    };
  }

  private missing(parameter: string): Error {
    return awsError('cloudwatch', 'MissingRequiredParameterException', `The parameter ${parameter} is required.`);
  }

  private invalid(message: string): Error {
    return awsError('cloudwatch', 'InvalidParameterValueException', message);
  }

  private combination(message: string): Error {
    return awsError('cloudwatch', 'InvalidParameterCombinationException', message);
  }

  private validation(message: string): Error {
    return awsError('cloudwatch', 'ValidationError', message);
  }
}
