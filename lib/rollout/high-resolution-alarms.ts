import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  DEFAULT_RELEASE_SIGNAL_NAMESPACE, RELEASE_SIGNAL_DIMENSIONS, RELEASE_SIGNAL_METRICS,
} from '../../lambda/metrics/release-signal-contract';
import { colorAlarmFactory, colorAlarmSettings, errorRateExpression, errorRateTerms } from '../private/color-alarms';
import { wireColor } from '../private/colors';
import { PropChecks, propError } from '../private/validation';
import { Color } from '../routing/color';

/**
 * The per-color high-resolution signal the application emits (`ReleaseMetrics` of cdk-zero-downtime-runtime/metrics:
 * requests, 5xx and latency per service and color, one-second storage resolution, through EMF log lines), and the
 * high-resolution alarms on it that detect a failing release in seconds.
 */
export interface HighResolutionSignalOptions {
  /**
   * The CloudWatch namespace the application's ReleaseMetrics writes to (the color stacks of BlueGreenStacks pass it
   * to the services they create as ZDT_RELEASE_NAMESPACE).
   * @default 'ZeroDowntime/Release'
   */
  readonly metricNamespace?: string;
  /**
   * Alarm when more than this percent of a color's requests in a period are 5xx.
   * @default 5
   */
  readonly maxErrorRatePercent?: number;
  /**
   * Fewest requests in a period for the error-rate alarm to judge it; quieter periods do not breach (a 10-second
   * period of a 1% canary holds few requests: one 5xx in 5 requests is not a regression).
   * @default 50
   */
  readonly minRequestsPerPeriod?: number;
  /**
   * Alarm when a color's p99 latency in a period exceeds this.
   * @default Duration.seconds(2)
   */
  readonly maxLatencyP99?: Duration;
  /**
   * Period of the alarms: 10 or 30 seconds (high-resolution alarms; CloudWatch evaluates them every 10 seconds).
   * @default Duration.seconds(10)
   */
  readonly period?: Duration;
  /**
   * Periods each alarm looks at.
   * @default 2
   */
  readonly evaluationPeriods?: number;
  /**
   * Breaching periods among `evaluationPeriods` that fire an alarm.
   * @default 2
   */
  readonly datapointsToAlarm?: number;
  /**
   * How late a period of the signal may reach CloudWatch: the judge reads the signal's periods that ended at least
   * this long ago (a period still arriving would read as a partial count): 10-second periods with the SEQUENTIAL
   * analysis, the judge interval's whole minutes with THRESHOLDS. The pipeline the
   * rehearsal states (EmfWriter 1 s, a log driver flushing every 5 s as AWS recommends for high-resolution EMF
   * metrics, an assumed 5 s of extraction) takes 11 s. From 0 to 5 minutes.
   * @default Duration.seconds(20)
   */
  readonly metricDelay?: Duration;
  /**
   * `true`: an alarm of the new color that goes to ALARM ends the current bake at once (an EventBridge rule on its
   * "CloudWatch Alarm State Change" answers the bake's task token) and the execution rolls back. `false`: the alarms
   * are only read by the judge at its next judgement.
   * @default true
   */
  readonly eventDriven?: boolean;
}

/** Props of ColorHighResolutionAlarms. */
export interface ColorHighResolutionAlarmsProps extends HighResolutionSignalOptions {
  /** The rollout's service name: the Service dimension of the signal. */
  readonly serviceName: string;
  /** The color the alarms watch: the Color dimension of the signal. */
  readonly color: Color;
}

const HIGH_RESOLUTION_PERIODS = [10, 30];

/**
 * High-resolution alarms (10- or 30-second periods) of one color on the release signal its application emits: 5xx
 * rate over the periods with enough requests, and p99 latency. Missing data does not breach: a color that receives
 * no traffic, or an application that emits nothing, leaves them OK, and ALB metrics (ColorHealthAlarms, the metric
 * analysis) stay the backstop.
 */
export class ColorHighResolutionAlarms extends Construct {
  /** The color the alarms watch. */
  public readonly color: Color;
  /** The color's 5xx rate above `maxErrorRatePercent`. */
  public readonly errorRate: cloudwatch.Alarm;
  /** The color's p99 latency above `maxLatencyP99`. */
  public readonly latencyP99: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ColorHighResolutionAlarmsProps) {
    super(scope, id);
    this.color = props.color;
    const period = props.period ?? Duration.seconds(10);
    const periodSeconds = period.toSeconds({ integral: false });
    if (!Token.isUnresolved(periodSeconds) && !HIGH_RESOLUTION_PERIODS.includes(periodSeconds)) {
      // Thrown at once: CloudWatch would reject the alarm at deploy time without naming the prop or the construct.
      throw propError(this, `period must be 10 or 30 seconds (a high-resolution alarm's period), got ${period.toHumanString()}`);
    }
    const checks = new PropChecks(this);
    const settings = colorAlarmSettings(checks, props, { minRequestsPerPeriod: 50, evaluationPeriods: 2, maxEvaluationPeriods: 30 });
    checks.pattern('metricNamespace', props.metricNamespace, /^[^:][\x20-\x7E]{0,254}$/, '1 to 255 printable ASCII characters, not starting with ":"');

    const namespace = props.metricNamespace ?? DEFAULT_RELEASE_SIGNAL_NAMESPACE;
    const dimensionsMap = { [RELEASE_SIGNAL_DIMENSIONS.SERVICE]: props.serviceName, [RELEASE_SIGNAL_DIMENSIONS.COLOR]: wireColor(props.color) };
    const metric = (metricName: string, statistic: string) => new cloudwatch.Metric({ namespace, metricName, statistic, period, dimensionsMap });
    const alarm = colorAlarmFactory(this, settings, {
      prefix: `cdk-zero-downtime ${props.color} (${props.serviceName})`, suffix: ` (high resolution, ${periodSeconds} s periods)`,
    });
    const { maxErrorRatePercent: maxErrorRate, maxLatencyP99: maxLatency } = settings;

    this.errorRate = alarm('ErrorRate', `5xx rate above ${maxErrorRate}% of requests`, errorRateExpression(errorRateTerms('r', 'e'), {
      requests: metric(RELEASE_SIGNAL_METRICS.REQUESTS, 'Sum'), errors: metric(RELEASE_SIGNAL_METRICS.ERRORS, 'Sum'),
    }, settings, `${props.color} 5xx rate (%), application signal`, period), maxErrorRate);
    this.latencyP99 = alarm('LatencyP99', `p99 latency above ${maxLatency.toHumanString()}`,
      metric(RELEASE_SIGNAL_METRICS.LATENCY, 'p99'), maxLatency.toMilliseconds());
  }

  /** The alarms. */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.errorRate, this.latencyP99];
  }
}
