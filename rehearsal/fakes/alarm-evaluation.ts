/**
 * How CloudWatch decides a metric alarm's state from the datapoints of its evaluation range — a
 * pure function, so the semantics can be tested on their own.
 *
 * - The range is the last EvaluationPeriods periods that have ended; a datapoint is breaching when
 *   it compares to the threshold as ComparisonOperator says.
 * - ALARM when at least DatapointsToAlarm datapoints breach (M out of N), OK otherwise.
 * - Missing datapoints follow TreatMissingData: `breaching` / `notBreaching` count them as such;
 *   `missing` and `ignore` leave them out of the count. When every datapoint of the range is
 *   missing, `missing` goes to INSUFFICIENT_DATA and `ignore` keeps the current state.
 *
 * Simplification: CloudWatch looks further back than EvaluationPeriods when datapoints are missing
 * ("evaluation range"); the fake evaluates exactly the last EvaluationPeriods periods.
 */
import type { AlarmStateValue } from './alarm-rule';

export type TreatMissingData = 'missing' | 'notBreaching' | 'breaching' | 'ignore';
export const TREAT_MISSING_DATA_VALUES: readonly TreatMissingData[] = ['missing', 'notBreaching', 'breaching', 'ignore'];

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
  /** null: no data in that period. */
  readonly value: number | null;
}

export interface AlarmEvaluationInput {
  /** The datapoints of the evaluation range, oldest first (one per period). */
  readonly datapoints: readonly Datapoint[];
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  readonly currentState: AlarmStateValue;
}

export interface AlarmEvaluationResult {
  readonly state: AlarmStateValue;
  /** CloudWatch-style StateReason. */
  readonly reason: string;
  readonly breaching: number;
  readonly missing: number;
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

export function evaluateAlarm(input: AlarmEvaluationInput): AlarmEvaluationResult {
  const { datapoints, threshold, comparisonOperator, datapointsToAlarm, treatMissingData, currentState } = input;
  const n = datapoints.length;
  const present = datapoints.filter((p) => p.value !== null);
  const missing = n - present.length;
  const text = COMPARISON_TEXT[comparisonOperator] ?? comparisonOperator;
  const breachingPoints = present.filter((p) => breaches(p.value!, comparisonOperator, threshold));
  let breaching = breachingPoints.length;
  if (treatMissingData === 'breaching') breaching += missing;

  if (missing === n && (treatMissingData === 'missing' || treatMissingData === 'ignore')) {
    if (treatMissingData === 'ignore') {
      return { state: currentState, reason: `No datapoints in the last ${n} periods; missing data is ignored, the state stays ${currentState}`, breaching: 0, missing };
    }
    return { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${n} datapoint${n === 1 ? ' was' : 's were'} unknown.`, breaching: 0, missing };
  }
  const newest = [...present].reverse();
  if (breaching >= datapointsToAlarm) {
    const listed = [...breachingPoints].reverse().map(formatDatapoint).join(', ');
    const missingNote = treatMissingData === 'breaching' && missing > 0 ? ` (${missing} missing treated as breaching)` : '';
    return {
      state: 'ALARM',
      reason: `Threshold Crossed: ${breaching} out of the last ${n} datapoints [${listed}]${missingNote} ${breaching === 1 ? 'was' : 'were'} ${text} the threshold (${formatNumber(threshold)}) (minimum ${datapointsToAlarm} datapoint${datapointsToAlarm === 1 ? '' : 's'} for ${currentState} -> ALARM transition).`,
      breaching,
      missing,
    };
  }
  const notBreaching = present.length - breachingPoints.length + (treatMissingData === 'notBreaching' ? missing : 0);
  const listed = newest.filter((p) => !breaches(p.value!, comparisonOperator, threshold)).map(formatDatapoint).join(', ');
  return {
    state: 'OK',
    reason: `Threshold Crossed: ${notBreaching} out of the last ${n} datapoints [${listed}]${treatMissingData === 'notBreaching' && missing > 0 ? ` (${missing} missing treated as not breaching)` : ''} ${notBreaching === 1 ? 'was' : 'were'} not ${text} the threshold (${formatNumber(threshold)}) (${breaching} breaching, minimum ${datapointsToAlarm} for ALARM).`,
    breaching,
    missing,
  };
}
