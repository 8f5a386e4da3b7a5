import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { PropChecks } from './validation';

/**
 * What the alarms of one color have in common, whichever metrics they read (ColorHealthAlarms on the ALB's,
 * ColorHighResolutionAlarms on the release signal): the same options with their own defaults and ranges, the same
 * evaluation, missing data that never breaches, and a 5xx rate judged only over periods with enough requests.
 */

/** The options both kinds of color alarms take. */
export interface ColorAlarmOptions {
  readonly maxErrorRatePercent?: number;
  readonly minRequestsPerPeriod?: number;
  readonly maxLatencyP99?: Duration;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
}

/** Those options with a kind's defaults applied. */
export interface ColorAlarmSettings {
  readonly maxErrorRatePercent: number;
  readonly minRequestsPerPeriod: number;
  readonly maxLatencyP99: Duration;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/** A kind's defaults, and the most evaluation periods it accepts. */
export interface ColorAlarmDefaults {
  readonly minRequestsPerPeriod: number;
  readonly evaluationPeriods: number;
  readonly maxEvaluationPeriods: number;
}

/** Both kinds alarm above a 5% 5xx rate, on 2 breaching periods, and above a 2-second p99, unless told otherwise. */
const SHARED_DEFAULTS = { maxErrorRatePercent: 5, datapointsToAlarm: 2, maxLatencyP99: Duration.seconds(2) };

/**
 * The options with their defaults, each given one range-checked (PropChecks: at synth, naming the prop and the
 * construct path); `checks` goes on with the kind's own props.
 */
export function colorAlarmSettings(checks: PropChecks, props: ColorAlarmOptions, defaults: ColorAlarmDefaults): ColorAlarmSettings {
  const evaluationPeriods = props.evaluationPeriods ?? defaults.evaluationPeriods;
  checks
    .number('maxErrorRatePercent', props.maxErrorRatePercent, 0.01, 100, { integer: false })
    .number('minRequestsPerPeriod', props.minRequestsPerPeriod, 1, 1_000_000)
    .number('evaluationPeriods', props.evaluationPeriods, 1, defaults.maxEvaluationPeriods)
    .number('datapointsToAlarm', props.datapointsToAlarm, 1, evaluationPeriods)
    .duration('maxLatencyP99', props.maxLatencyP99, Duration.millis(1), Duration.minutes(15));
  return {
    maxErrorRatePercent: props.maxErrorRatePercent ?? SHARED_DEFAULTS.maxErrorRatePercent,
    minRequestsPerPeriod: props.minRequestsPerPeriod ?? defaults.minRequestsPerPeriod,
    maxLatencyP99: props.maxLatencyP99 ?? SHARED_DEFAULTS.maxLatencyP99,
    evaluationPeriods,
    datapointsToAlarm: props.datapointsToAlarm ?? SHARED_DEFAULTS.datapointsToAlarm,
  };
}

/** Makes one alarm of the color in `scope`: described as `<prefix>: <description><suffix>`. */
export type ColorAlarmFactory = (alarmId: string, description: string, metric: cloudwatch.IMetric, threshold: number,
  comparisonOperator?: cloudwatch.ComparisonOperator) => cloudwatch.Alarm;

/**
 * The alarms of a color: above the threshold (unless told otherwise) in `datapointsToAlarm` of `evaluationPeriods`;
 * a period without data does not breach (TreatMissingData.NOT_BREACHING: a color without traffic is not failing).
 */
export function colorAlarmFactory(scope: Construct, settings: ColorAlarmSettings, description: { readonly prefix: string; readonly suffix?: string }): ColorAlarmFactory {
  return (alarmId, text, metric, threshold, comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD) => new cloudwatch.Alarm(scope, alarmId, {
    metric,
    alarmDescription: `${description.prefix}: ${text}${description.suffix ?? ''}`,
    threshold,
    comparisonOperator,
    evaluationPeriods: settings.evaluationPeriods,
    datapointsToAlarm: settings.datapointsToAlarm,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** The ids of a 5xx rate's metrics in a math expression, and the rate as written there. */
export interface ErrorRateTerms {
  readonly requests: string;
  readonly errors: string;
  /** The rate in percent over those ids, e.g. `100 * FILL(e, 0) / r`. */
  readonly rate: string;
}

/** `100 * FILL(<errors>, 0) / <requests>`: a period without 5xx counts 0 errors. */
export function errorRateTerms(requests: string, errors: string): ErrorRateTerms {
  return { requests, errors, rate: `100 * FILL(${errors}, 0) / ${requests}` };
}

/** A color's 5xx rate in percent, over the periods with at least `minRequestsPerPeriod` requests; 0 over the others. */
export function errorRateExpression(terms: ErrorRateTerms, metrics: { readonly requests: cloudwatch.IMetric; readonly errors: cloudwatch.IMetric },
  settings: ColorAlarmSettings, label: string, period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `IF(${terms.requests} >= ${settings.minRequestsPerPeriod}, ${terms.rate}, 0)`,
    usingMetrics: { [terms.requests]: metrics.requests, [terms.errors]: metrics.errors },
    label,
    period,
  });
}
