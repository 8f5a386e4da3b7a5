import { Arn, ArnFormat, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { ALL_COLORS as COLORS } from '../private/colors';
import { propError } from '../private/validation';
import { IBlueGreenRouting } from '../routing/blue-green-routing';
import { Color } from '../routing/color';
import { IProgressiveRollout } from '../rollout/progressive-rollout';

/** Props of RolloutDashboard. */
export interface RolloutDashboardProps {
  /** The rollout whose traffic, health and outcomes the dashboard shows (a ProgressiveRollout, or one imported). */
  readonly rollout: IProgressiveRollout;
  /** The routing the rollout moves traffic on (the load balancer and target groups of the ALB metrics). */
  readonly routing: IBlueGreenRouting;
  /**
   * Name of the dashboard: letters, digits, "-" and "_", up to 255 characters.
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * Period of every graph, a whole number of minutes up to a day (ALB metrics have one-minute resolution).
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

const ELB = 'AWS/ApplicationELB';
/** Time range the dashboard opens on: a canary rollout with its bakes fits in it. */
const DEFAULT_INTERVAL = Duration.hours(3);
const DEFAULT_PERIOD = Duration.minutes(1);
const MIN_PERIOD = Duration.minutes(1);
const MAX_PERIOD = Duration.days(1);
/** Dashboard grid: 24 columns. */
const FULL_WIDTH = 24;
const HALF_WIDTH = 12;
const THIRD_WIDTH = 8;
const GRAPH_HEIGHT = 6;
const HEADER_HEIGHT = 2;
const TOTALS_HEIGHT = 3;
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;

/** Line colors of each color's metrics (CloudWatch's default blue and green). */
const PALETTE: Record<Color, { readonly main: string; readonly alt: string }> = {
  blue: { main: '#1f77b4', alt: '#aec7e8' },
  green: { main: '#2ca02c', alt: '#98df8a' },
};

/**
 * One CloudWatch dashboard for the rollouts of a blue/green service: where production traffic is (TrafficWeight
 * per color, stacked), how each color serves it (requests, 5xx rate, p99 latency, healthy and unhealthy hosts,
 * from the ALB's target-group metrics), what the rollouts did (started, succeeded, failed, rolled back, rollback
 * failed) and the state of every alarm the rollout's judge watches (alarms added to the rollout later included).
 */
export class RolloutDashboard extends Construct {
  /** The CloudWatch dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RolloutDashboardProps) {
    super(scope, id);
    const { rollout, routing } = props;
    const period = props.period ?? DEFAULT_PERIOD;
    // Thrown at once: aws-cloudwatch rejects both while building, with messages that name neither prop nor construct.
    const periodSeconds = period.toSeconds({ integral: false });
    if (!Token.isUnresolved(periodSeconds) && (periodSeconds < MIN_PERIOD.toSeconds() || periodSeconds > MAX_PERIOD.toSeconds() || periodSeconds % MIN_PERIOD.toSeconds() !== 0)) {
      throw propError(this, `period must be a whole number of minutes from ${MIN_PERIOD.toHumanString()} to ${MAX_PERIOD.toHumanString()} (ALB metrics have one-minute resolution), got ${period.toHumanString()}`);
    }
    if (props.dashboardName !== undefined && !Token.isUnresolved(props.dashboardName) && !DASHBOARD_NAME.test(props.dashboardName)) {
      throw propError(this, `dashboardName must be 1-255 letters, digits, "-" or "_", got "${props.dashboardName}"`);
    }

    const elb = (color: Color, metricName: string, statistic: string, label: string) => new cloudwatch.Metric({
      namespace: ELB,
      metricName,
      statistic,
      period,
      label,
      color: PALETTE[color].main,
      dimensionsMap: { LoadBalancer: routing.loadBalancerFullName, TargetGroup: routing.targetGroupFullName(color) },
    });
    const perColor = (build: (color: Color) => cloudwatch.IMetric) => COLORS.map((color) => build(color));
    const graph = (title: string, left: cloudwatch.IMetric[], options: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: THIRD_WIDTH, height: GRAPH_HEIGHT, period, ...options });

    // The router publishes the weights at each shift or rollback only: FILL(..., REPEAT) holds them in between.
    const traffic = graph('Production traffic by color (%)', perColor((color) => new cloudwatch.MathExpression({
      expression: `FILL(w${capitalize(color)}, REPEAT)`,
      usingMetrics: { [`w${capitalize(color)}`]: rollout.metricTrafficWeight(color, { period }) },
      label: color,
      color: PALETTE[color].main,
      period,
    })), { stacked: true, width: HALF_WIDTH, leftYAxis: { min: 0, max: 100, showUnits: false } });

    const requests = graph('Requests by color', perColor((color) => elb(color, 'RequestCount', 'Sum', color)));
    const errorRate = graph('Target 5xx rate by color (%)', perColor((color) => new cloudwatch.MathExpression({
      expression: `100 * FILL(e${capitalize(color)}, 0) / r${capitalize(color)}`,
      usingMetrics: {
        [`e${capitalize(color)}`]: elb(color, 'HTTPCode_Target_5XX_Count', 'Sum', `${color} 5xx`),
        [`r${capitalize(color)}`]: elb(color, 'RequestCount', 'Sum', `${color} requests`),
      },
      label: color,
      color: PALETTE[color].main,
      period,
    })), { leftYAxis: { min: 0, showUnits: false } });
    const latency = graph('p99 target response time by color (s)',
      perColor((color) => elb(color, 'TargetResponseTime', 'p99', color)), { leftYAxis: { min: 0 } });

    const hosts = graph('Healthy / unhealthy hosts by color', COLORS.flatMap((color) => [
      elb(color, 'HealthyHostCount', 'Minimum', `${color} healthy`),
      elb(color, 'UnHealthyHostCount', 'Maximum', `${color} unhealthy`).with({ color: PALETTE[color].alt }),
    ]), { width: HALF_WIDTH, leftYAxis: { min: 0, showUnits: false } });

    const outcomes = () => [
      rollout.metricStarted({ period, label: 'started' }),
      rollout.metricSucceeded({ period, label: 'succeeded', color: PALETTE.green.main }),
      rollout.metricFailed({ period, label: 'failed (rolled back, refused or failed)' }),
      rollout.metricRollbacks({ period, label: 'rolled back' }),
      rollout.metricRollbackFailures({ period, label: 'rollback failed', color: '#d62728' }),
    ];
    const rollouts = graph('Rollouts', outcomes(), { width: HALF_WIDTH, leftYAxis: { min: 0, showUnits: false } });
    const totals = new cloudwatch.SingleValueWidget({
      title: 'Rollouts in the time range',
      metrics: outcomes(),
      setPeriodToTimeRange: true,
      width: FULL_WIDTH,
      height: TOTALS_HEIGHT,
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: DEFAULT_INTERVAL,
    });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({
      markdown: `# Rollouts of ${rollout.serviceName}\nTraffic, health and outcomes of the progressive rollouts run by state machine \`${Arn.split(rollout.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}\`.`,
      width: FULL_WIDTH,
      height: HEADER_HEIGHT,
    }));
    this.dashboard.addWidgets(traffic, new WatchedAlarmsWidget(rollout, HALF_WIDTH, GRAPH_HEIGHT));
    this.dashboard.addWidgets(requests, errorRate, latency);
    this.dashboard.addWidgets(hosts, rollouts);
    this.dashboard.addWidgets(totals);
  }
}

/**
 * Alarm status of every alarm the rollout's judge watches, read when the dashboard body is rendered, so alarms
 * added with `addAlarm()` after the dashboard was created are included. Without any alarm: a note saying so.
 */
class WatchedAlarmsWidget extends cloudwatch.ConcreteWidget {
  constructor(private readonly rollout: IProgressiveRollout, width: number, height: number) {
    super(width, height);
  }

  public toJson(): any[] {
    const alarms = this.rollout.alarms;
    const widget: cloudwatch.ConcreteWidget = alarms.length > 0
      ? new cloudwatch.AlarmStatusWidget({
        title: 'Alarms the rollout watches',
        alarms,
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        width: this.width,
        height: this.height,
      })
      : new cloudwatch.TextWidget({ markdown: '**Alarms the rollout watches**: none known (health alarms off and none added, or a rollout imported without its alarms)', width: this.width, height: this.height });
    widget.position(this.x ?? 0, this.y ?? 0);
    return widget.toJson();
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
