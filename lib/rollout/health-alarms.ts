import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { colorAlarmFactory, colorAlarmSettings, errorRateExpression, errorRateTerms } from '../private/color-alarms';
import { other as otherColor } from '../private/colors';
import { PropChecks, propError } from '../private/validation';
import { IBlueGreenRouting } from '../routing/blue-green-routing';
import { Color } from '../routing/color';

/** Thresholds of the built-in health alarms of each color. */
export interface HealthAlarmOptions {
  /**
   * Alarm when a color answers more than this percent of its requests with a 5xx (target errors), whatever the
   * other color does.
   * @default 5
   */
  readonly maxErrorRatePercent?: number;
  /**
   * Alarm when a color's 5xx rate exceeds the other color's rate times this factor (the seed's
   * "error_rate > baseline x 2") and `relativeErrorRateFloorPercent`.
   * @default 2
   */
  readonly errorRateBaselineFactor?: number;
  /**
   * The relative error alarm ignores rates below this percent (0 errors against 0.01% is not a regression).
   * @default 1
   */
  readonly relativeErrorRateFloorPercent?: number;
  /**
   * Alarm when a color's p99 target response time exceeds this.
   * @default Duration.seconds(2)
   */
  readonly maxLatencyP99?: Duration;
  /**
   * Alarm when a color's p99 exceeds the other color's p99 times this factor (the seed's "> baseline x 1.5").
   * @default 1.5
   */
  readonly latencyBaselineFactor?: number;
  /**
   * Minimum requests in a period for the error-rate alarms to judge it; below it the period counts as not
   * breaching (the rollout's judge reports such quiet periods as INCONCLUSIVE instead).
   * @default 10
   */
  readonly minRequestsPerPeriod?: number;
  /**
   * Period of every alarm.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Periods each alarm looks at.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among `evaluationPeriods` that fire an alarm.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
}

/** Props of ColorHealthAlarms. */
export interface ColorHealthAlarmsProps extends HealthAlarmOptions {
  /** The routing whose target-group metrics the alarms read. */
  readonly routing: IBlueGreenRouting;
  /** The color the alarms watch (the other color is the baseline of the relative alarms). */
  readonly color: Color;
}

const ELB = 'AWS/ApplicationELB';

/**
 * Health alarms of one color's target group: 5xx error rate, error rate relative to the other (stable) color,
 * p99 latency (absolute and relative), unhealthy hosts; combined into one composite alarm that the judge watches.
 * Missing data is explicit: quiet periods do not breach (TreatMissingData.NOT_BREACHING), and error rates are
 * judged only over periods with `minRequestsPerPeriod` requests or more.
 */
export class ColorHealthAlarms extends Construct {
  /** The color the alarms watch. */
  public readonly color: Color;
  /** The color's 5xx rate above `maxErrorRatePercent`. */
  public readonly errorRate: cloudwatch.Alarm;
  /** The color's 5xx rate above `errorRateBaselineFactor` times the other color's (and above the floor). */
  public readonly relativeErrorRate: cloudwatch.Alarm;
  /** The color's p99 latency above `maxLatencyP99`. */
  public readonly latencyP99: cloudwatch.Alarm;
  /** The color's p99 latency above `latencyBaselineFactor` times the other color's. */
  public readonly relativeLatencyP99: cloudwatch.Alarm;
  /** At least one unhealthy target in the color's target group. */
  public readonly unhealthyHosts: cloudwatch.Alarm;
  /** Any of the above. */
  public readonly composite: cloudwatch.CompositeAlarm;

  constructor(scope: Construct, id: string, props: ColorHealthAlarmsProps) {
    super(scope, id);
    this.color = props.color;
    const period = props.period ?? Duration.minutes(1);
    const errorFactor = props.errorRateBaselineFactor ?? 2;
    const errorFloor = props.relativeErrorRateFloorPercent ?? 1;
    const latencyFactor = props.latencyBaselineFactor ?? 1.5;

    const periodSeconds = period.toSeconds({ integral: false });
    if (periodSeconds < 60 || periodSeconds % 60 !== 0) {
      // Thrown at once: CloudWatch metrics built from it would reject it with a message that names neither prop nor construct.
      throw propError(this, `period must be a whole multiple of 1 minute (ALB metrics have one-minute resolution), got ${period.toHumanString()}`);
    }
    const checks = new PropChecks(this);
    const settings = colorAlarmSettings(checks, props, { minRequestsPerPeriod: 10, evaluationPeriods: 3, maxEvaluationPeriods: 100 });
    checks
      .number('errorRateBaselineFactor', props.errorRateBaselineFactor, 1, 1000, { integer: false })
      .number('relativeErrorRateFloorPercent', props.relativeErrorRateFloorPercent, 0, 100, { integer: false })
      .number('latencyBaselineFactor', props.latencyBaselineFactor, 1, 1000, { integer: false })
      .duration('period', props.period, Duration.minutes(1), Duration.days(1));
    const { minRequestsPerPeriod: minRequests, maxErrorRatePercent: maxErrorRate, maxLatencyP99: maxLatency } = settings;

    const metric = (color: Color, metricName: string, statistic: string) => new cloudwatch.Metric({
      namespace: ELB,
      metricName,
      statistic,
      period,
      dimensionsMap: { LoadBalancer: props.routing.loadBalancerFullName, TargetGroup: props.routing.targetGroupFullName(color) },
    });
    const own = props.color;
    const other = otherColor(own);
    const alarm = colorAlarmFactory(this, settings, { prefix: `cdk-zero-downtime ${own}` });

    const requests = metric(own, 'RequestCount', 'Sum');
    const errors = metric(own, 'HTTPCode_Target_5XX_Count', 'Sum');
    const stableRequests = metric(other, 'RequestCount', 'Sum');
    const stableErrors = metric(other, 'HTTPCode_Target_5XX_Count', 'Sum');
    const terms = errorRateTerms('rN', 'eN');
    const rate = `(${terms.rate})`;
    const stableRate = '(100 * FILL(eS, 0) / FILL(rS, 1))';

    this.errorRate = alarm('ErrorRate', `5xx rate above ${maxErrorRate}% of requests`,
      errorRateExpression({ ...terms, rate }, { requests, errors }, settings, `${own} 5xx rate (%)`, period), maxErrorRate);

    this.relativeErrorRate = alarm('RelativeErrorRate',
      `5xx rate above ${errorFactor}x the ${other} color's rate and above ${errorFloor}%`, new cloudwatch.MathExpression({
        expression: `IF(rN >= ${minRequests}, IF(${rate} > ${errorFloor}, ${rate} - ${errorFactor} * ${stableRate}, 0), 0)`,
        usingMetrics: { rN: requests, eN: errors, rS: stableRequests, eS: stableErrors },
        label: `${own} 5xx rate above ${errorFactor}x ${other}`,
        period,
      }), 0);

    const latency = metric(own, 'TargetResponseTime', 'p99');
    this.latencyP99 = alarm('LatencyP99', `p99 latency above ${maxLatency.toHumanString()}`, latency, maxLatency.toMilliseconds() / 1000);

    this.relativeLatencyP99 = alarm('RelativeLatencyP99', `p99 latency above ${latencyFactor}x the ${other} color's p99`,
      new cloudwatch.MathExpression({
        // No FILL on the stable color's p99: a minute CloudWatch has not ingested yet must stay missing (the alarm then
        // evaluates older, real minutes), not become a non-breaching 0 that outvotes them (2 of the 3 newest minutes
        // are still arriving at ALB's 1-2 minute delay, so a filled 0 kept this alarm from ever firing).
        expression: `IF(pS > 0, FILL(pN, 0) - ${latencyFactor} * pS, 0)`,
        usingMetrics: { pN: latency, pS: metric(other, 'TargetResponseTime', 'p99') },
        label: `${own} p99 above ${latencyFactor}x ${other}`,
        period,
      }), 0);

    this.unhealthyHosts = alarm('UnhealthyHosts', 'at least one unhealthy target',
      metric(own, 'UnHealthyHostCount', 'Maximum'), 1, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);

    this.composite = new cloudwatch.CompositeAlarm(this, 'Health', {
      alarmDescription: `cdk-zero-downtime ${own}: any health alarm of the ${own} color`,
      alarmRule: cloudwatch.AlarmRule.anyOf(...this.alarms),
    });
  }

  /** The metric alarms (without the composite). */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.errorRate, this.relativeErrorRate, this.latencyP99, this.relativeLatencyP99, this.unhealthyHosts];
  }
}
