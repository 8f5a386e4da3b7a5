/**
 * How CloudWatch decides a metric alarm's state from the datapoints of its evaluation range: a pure function, so
 * each documented rule can be tested on its own (test/fakes/alarm-semantics.test.ts has one test per rule, and
 * every row of the guide's two example tables).
 *
 * Source: Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms" (AlarmThatSendsEmail), sections
 * "Evaluating an alarm", "Configuring how CloudWatch alarms treat missing data", "How alarm state is evaluated when
 * data is missing", "Avoiding premature transitions to alarm state" and "Percentile-based CloudWatch alarms and low
 * data samples" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html; the
 * text quoted below is the guide's, as last published in github.com/awsdocs/amazon-cloudwatch-user-guide).
 * Each rule below cites the sentence it follows. The rules, in order:
 *
 * R1 Evaluation range. "Whenever an alarm evaluates whether to change state, CloudWatch attempts to retrieve a
 *    higher number of data points than the number specified as Evaluation Periods [...] The time frame of the data
 *    points that it attempts to retrieve is the evaluation range." The guide never says how many (awsdocs issue
 *    #102 asked; it was closed unanswered); its only example is "CloudWatch retrieves the 5 most recent data points
 *    [...] 5 is the evaluation range" for Evaluation Periods 3. The fake's FakeCloudWatch passes
 *    EvaluationPeriods + EVALUATION_RANGE_EXTRA_PERIODS (2) datapoints, which reproduces that example.
 * R2 Enough real data. "If no data points in the evaluation range are missing, CloudWatch evaluates the alarm
 *    based on the most recent data points collected. The number of data points evaluated is equal to the
 *    Evaluation Periods" and "If some data points in the evaluation range are missing, but the total number of
 *    existing data points [...] is equal to or more than the alarm's Evaluation Periods, CloudWatch evaluates the
 *    alarm state based on the most recent real data points that were successfully retrieved, including the
 *    necessary extra data points from farther back in the evaluation range. In this case, the value you set for how
 *    to treat missing data is not needed and is ignored." This is how an alarm copes with delayed data: the most
 *    recent periods, not yet ingested, are missing, and older real datapoints stand in for them.
 * R3 M out of N. "Datapoints to Alarm is the number of data points within the Evaluation Periods that must be
 *    breaching to cause the alarm to go to the ALARM state. The breaching data points don't have to be
 *    consecutive" and "If fewer than the value of Datapoints to Alarm are breaching, the alarm state is set to OK.
 *    Otherwise, the state is set to ALARM" (the guide's 2019 text of the same section).
 * R4 Too little real data. "If some data points in the evaluation range are missing, and the number of actual data
 *    points that were retrieved is lower than the alarm's number of Evaluation Periods, CloudWatch fills in the
 *    missing data points with the result you specified for how to treat missing data [...] all real data points in
 *    the evaluation range are included in the evaluation. CloudWatch uses missing data points only as few times as
 *    possible": the k real datapoints plus N - k filled ones. TreatMissingData: "breaching – Missing data points
 *    are treated as "bad" and breaching the threshold", "notBreaching – [...] treated as "good" and within the
 *    threshold". `missing` and `ignore` fill nothing: the real datapoints decide (the tables' rows "0 - - - -",
 *    "0 - X - -", "- - - - 0" are OK under both), except when every real datapoint breaches (R5, R6).
 * R5 All missing. "missing – If all data points in the alarm evaluation range are missing, the alarm transitions to
 *    INSUFFICIENT_DATA"; "ignore – The current alarm state is maintained" (table row "- - - - -": INSUFFICIENT_DATA,
 *    retain current state, ALARM, OK).
 * R6 Premature alarm. "alarms are designed to always go into ALARM state when the oldest available breaching
 *    datapoint [...] is at least as old as the value of Datapoints to Alarm, and all other more recent data points
 *    are breaching or missing", while "- - - - X" does not alarm yet, "because the next data point may be
 *    non-breaching". The guide's tables apply this only under `missing` (IGNORE retains the state: rows "- - X - -"
 *    and "- - - X -") and only when no real datapoint is non-breaching (row "0 - X - -" is OK, although its X is old
 *    enough: awsdocs issue #129 reports the prose contradicting the table; the fake follows the tables). Otherwise
 *    `missing` goes to INSUFFICIENT_DATA and `ignore` keeps the state.
 * R7 Low-sample percentiles. "For percentiles between 0.5 (inclusive) and 1.00 (exclusive), this setting is used when
 *    there are fewer than 10/(1-percentile) data points during the evaluation period [...] For percentiles between
 *    0 and 0.5 (exclusive), the setting is used when there are fewer than 10/percentile data points." With
 *    EvaluateLowSampleCountPercentile `ignore`, "the alarm state does not change during periods with too few data
 *    points to be statistically significant" (PutMetricAlarm API reference); `evaluate` (the default) evaluates.
 *    The fake applies it to the evaluated datapoints that carry a sample count.
 */
import type { AlarmStateValue } from './alarm-rule';

export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';
export const TREAT_MISSING_DATA_VALUES: readonly TreatMissingData[] = ['missing', 'notBreaching', 'breaching', 'ignore'];

/** PutMetricAlarm's EvaluateLowSampleCountPercentile. */
export type LowSampleCountPercentile = 'evaluate' | 'ignore';
export const LOW_SAMPLE_COUNT_PERCENTILE_VALUES: readonly LowSampleCountPercentile[] = ['evaluate', 'ignore'];

/**
 * Periods the evaluation range holds beyond EvaluationPeriods (R1: the guide's one example, 5 for 3; the exact
 * number is not documented).
 */
export const EVALUATION_RANGE_EXTRA_PERIODS = 2;

/** Comparison operators the fake evaluates (the anomaly-detection band operators are not supported). */
export const COMPARISON_TEXT: Readonly<Record<string, string>> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export interface Datapoint {
  /** Start of the period, epoch ms. */
  readonly timestamp: number;
  /** null: no data in that period (none reported, or not yet ingested). */
  readonly value: number | null;
  /** How many samples the period's statistic was computed from (percentile alarms, R7). @default - unknown */
  readonly sampleCount?: number;
}

export interface AlarmEvaluationInput {
  /** The datapoints of the evaluation range, oldest first (one per period). */
  readonly datapoints: readonly Datapoint[];
  /** N. @default - the number of datapoints (a range without extra periods) */
  readonly evaluationPeriods?: number;
  readonly threshold: number;
  readonly comparisonOperator: string;
  /** M. */
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  readonly currentState: AlarmStateValue;
  /** The alarm's percentile (e.g. 99 for p99) when its statistic is one. @default - not a percentile alarm */
  readonly percentile?: number;
  /** @default 'evaluate' */
  readonly evaluateLowSampleCountPercentile?: LowSampleCountPercentile;
}

export interface AlarmEvaluationResult {
  readonly state: AlarmStateValue;
  /** CloudWatch-style StateReason. */
  readonly reason: string;
  /** Breaching datapoints among the evaluated ones (filled ones included). */
  readonly breaching: number;
  /** Missing datapoints in the evaluation range. */
  readonly missing: number;
  /** The real datapoints the decision used, oldest first. */
  readonly evaluated: readonly Datapoint[];
  /** How many missing datapoints were filled in by TreatMissingData (R4). */
  readonly filled: number;
  /** Which documented rule decided. */
  readonly rule: 'enough-data' | 'filled' | 'all-missing' | 'premature-alarm' | 'waiting-for-data' | 'low-sample-count';
}

/** True when `value` breaches `threshold` under `operator`. */
export function breaches(value: number, operator: string, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold': return value >= threshold;
    case 'GreaterThanThreshold': return value > threshold;
    case 'LessThanThreshold': return value < threshold;
    case 'LessThanOrEqualToThreshold': return value <= threshold;
    default: throw new Error(`Unsupported comparison operator ${operator}`);
  }
}

/**
 * Fewest samples a percentile needs before EvaluateLowSampleCountPercentile stops applying (R7): 10 / (1 - p) from
 * p50 up (1000 for p99), 10 / p below p50 (100 for p10); undefined for p100 and p0, where the guide gives none.
 */
export function minimumSamplesForPercentile(percentile: number): number | undefined {
  const p = percentile / 100;
  if (p >= 0.5 && p < 1) return Math.ceil(10 / (1 - p) - 1e-9);
  if (p > 0 && p < 0.5) return Math.ceil(10 / p - 1e-9);
  return undefined;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** CloudWatch's datapoint format in reasons: "5.0 (24/11/26 12:03:00)". */
export function formatDatapoint(p: Datapoint): string {
  const d = new Date(p.timestamp);
  const value = p.value === null ? 'null' : Number.isInteger(p.value) ? p.value.toFixed(1) : String(p.value);
  const when = `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${value} (${when})`;
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export function evaluateAlarm(input: AlarmEvaluationInput): AlarmEvaluationResult {
  const { datapoints, threshold, comparisonOperator, datapointsToAlarm: m, treatMissingData, currentState } = input;
  const range = datapoints.length;
  const n = input.evaluationPeriods ?? range;
  if (!Number.isInteger(n) || n < 1 || n > range) throw new Error(`evaluateAlarm: evaluationPeriods must be from 1 to the ${range} datapoints of the range, got ${n}`);
  const text = COMPARISON_TEXT[comparisonOperator] ?? comparisonOperator;
  const isBreaching = (p: Datapoint) => breaches(p.value!, comparisonOperator, threshold);
  const real = datapoints.filter((p) => p.value !== null);
  const missing = range - real.length;
  const base = { missing };

  // R5: every datapoint of the range is missing.
  if (real.length === 0) {
    if (treatMissingData === 'missing') {
      return { ...base, state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${range} ${plural(range, 'datapoint was', 'datapoints were')} unknown.`, breaching: 0, evaluated: [], filled: 0, rule: 'all-missing' };
    }
    if (treatMissingData === 'ignore') {
      return { ...base, state: currentState, reason: `No datapoints in the evaluation range (${range} periods); missing data is ignored, the state stays ${currentState}.`, breaching: 0, evaluated: [], filled: 0, rule: 'all-missing' };
    }
  }

  // R2: enough real datapoints: the N most recent real ones, TreatMissingData not needed. R4 otherwise.
  const enough = real.length >= n;
  const evaluated = enough ? real.slice(real.length - n) : real;

  // R7: a percentile computed from too few samples changes nothing when the alarm says so.
  const minimumSamples = input.percentile === undefined ? undefined : minimumSamplesForPercentile(input.percentile);
  if (input.evaluateLowSampleCountPercentile === 'ignore' && minimumSamples !== undefined) {
    const low = evaluated.filter((p) => p.sampleCount !== undefined && p.sampleCount < minimumSamples);
    if (low.length > 0) {
      return {
        ...base, state: currentState, breaching: evaluated.filter(isBreaching).length, evaluated, filled: 0, rule: 'low-sample-count',
        reason: `${low.length} of the evaluated datapoints ${plural(low.length, 'has', 'have')} fewer than ${minimumSamples} samples (the minimum for p${input.percentile}) and EvaluateLowSampleCountPercentile is ignore: the state stays ${currentState}.`,
      };
    }
  }

  const realBreaching = evaluated.filter(isBreaching);
  const filled = enough ? 0 : n - real.length;
  let breaching = realBreaching.length;
  if (!enough && treatMissingData === 'breaching') breaching += filled;
  const allRealBreach = realBreaching.length === evaluated.length;

  // R6: too little real data, all of it breaching, under `missing` / `ignore`: the premature-alarm guard.
  if (!enough && allRealBreach && (treatMissingData === 'missing' || treatMissingData === 'ignore')) {
    const oldestBreachingAge = range - datapoints.indexOf(evaluated[0]);
    if (treatMissingData === 'missing' && oldestBreachingAge >= m) {
      return {
        ...base, state: 'ALARM', breaching, evaluated, filled: 0, rule: 'premature-alarm',
        reason: `Threshold Crossed: the oldest breaching datapoint of the range [${formatDatapoint(evaluated[0])}] is ${oldestBreachingAge} periods old (at least the ${m} datapoints to alarm) and every more recent datapoint is breaching or missing (${evaluated.length} real, ${missing} missing).`,
      };
    }
    if (treatMissingData === 'missing') {
      return {
        ...base, state: 'INSUFFICIENT_DATA', breaching, evaluated, filled: 0, rule: 'waiting-for-data',
        reason: `Insufficient Data: ${evaluated.length} of ${n} datapoints ${plural(evaluated.length, 'is', 'are')} known and ${plural(evaluated.length, 'it breaches', 'all breach')}, the newest only ${oldestBreachingAge} ${plural(oldestBreachingAge, 'period', 'periods')} old: waiting for the next datapoint (fewer than ${m} to alarm).`,
      };
    }
    return {
      ...base, state: currentState, breaching, evaluated, filled: 0, rule: 'waiting-for-data',
      reason: `${evaluated.length} of ${n} datapoints ${plural(evaluated.length, 'is', 'are')} known, all breaching; missing data is ignored, the state stays ${currentState}.`,
    };
  }

  const rule = enough ? 'enough-data' : 'filled';
  const fillNote = filled > 0 && (treatMissingData === 'breaching' || treatMissingData === 'notBreaching')
    ? ` (${filled} missing treated as ${treatMissingData === 'breaching' ? 'breaching' : 'not breaching'})`
    : '';
  const counted = evaluated.length + (treatMissingData === 'breaching' || treatMissingData === 'notBreaching' ? filled : 0);
  if (breaching >= m) {
    const listed = [...realBreaching].reverse().map(formatDatapoint).join(', ');
    return {
      ...base, state: 'ALARM', breaching, evaluated, filled, rule,
      reason: `Threshold Crossed: ${breaching} out of the last ${counted} datapoints [${listed}]${fillNote} ${plural(breaching, 'was', 'were')} ${text} the threshold (${formatNumber(threshold)}) (minimum ${m} ${plural(m, 'datapoint', 'datapoints')} for ${currentState} -> ALARM transition).`,
    };
  }
  const notBreaching = evaluated.length - realBreaching.length + (treatMissingData === 'notBreaching' ? filled : 0);
  const listed = [...evaluated].reverse().filter((p) => !isBreaching(p)).map(formatDatapoint).join(', ');
  return {
    ...base, state: 'OK', breaching, evaluated, filled, rule,
    reason: `Threshold Crossed: ${notBreaching} out of the last ${counted} datapoints [${listed}]${fillNote} ${plural(notBreaching, 'was', 'were')} not ${text} the threshold (${formatNumber(threshold)}) (${breaching} breaching, minimum ${m} for ALARM).`,
  };
}
