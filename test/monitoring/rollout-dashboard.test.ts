import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Color } from '../../lib/routing/color';
import { RolloutDashboard, RolloutDashboardProps } from '../../lib/monitoring/rollout-dashboard';
import { BlueGreenRouting } from '../../lib/routing/blue-green-routing';
import { ProgressiveRollout, ProgressiveRolloutProps } from '../../lib/rollout/progressive-rollout';
import { Fixture, network, routing as newRouting } from '../constructs/fixtures';

/** A metric line of a widget: a metric with its dimensions, or a math expression. */
interface Line {
  readonly namespace?: string;
  readonly metricName?: string;
  readonly dimensions: Record<string, string>;
  readonly expression?: string;
  readonly id?: string;
  readonly label?: string;
  readonly stat?: string;
  readonly period?: number;
  readonly visible?: boolean;
}

interface Widget {
  readonly type: string;
  readonly width: number;
  readonly height: number;
  readonly properties: { title?: string; metrics?: unknown[][]; alarms?: string[]; markdown?: string; stacked?: boolean; [k: string]: unknown };
}

/** A token as the dashboard body holds it, rendered to a quote-free placeholder so the body parses as JSON. */
function placeholder(token: unknown): string {
  return `<${JSON.stringify(token).replace(/"/g, "'")}>`;
}

function dashboardOf(stack: Stack): { start: string; widgets: Widget[] } {
  const dashboards = Object.values<any>(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0].Properties.DashboardBody;
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : placeholder(p))).join('');
  return JSON.parse(text);
}

function linesOf(widget: Widget): Line[] {
  return (widget.properties.metrics ?? []).map((row) => {
    const options = (typeof row[row.length - 1] === 'object' ? row[row.length - 1] : {}) as Record<string, unknown>;
    const parts = row.filter((p) => typeof p === 'string') as string[];
    if (parts.length === 0) return { dimensions: {}, ...options } as Line;
    const [namespace, metricName, ...dims] = parts;
    const dimensions: Record<string, string> = {};
    for (let i = 0; i < dims.length; i += 2) dimensions[dims[i]] = dims[i + 1];
    return { namespace, metricName, dimensions, ...options } as Line;
  });
}

function widget(stack: Stack, title: RegExp): Widget {
  const found = dashboardOf(stack).widgets.filter((w) => title.test(w.properties.title ?? ''));
  expect(found).toHaveLength(1);
  return found[0];
}

interface Setup {
  readonly f: Fixture;
  readonly routing: BlueGreenRouting;
  readonly rollout: ProgressiveRollout;
  readonly dashboard: RolloutDashboard;
}

function setup(rolloutProps: Partial<ProgressiveRolloutProps> = {}, dashboardProps: Partial<RolloutDashboardProps> = {}): Setup {
  const f = network();
  const routing = newRouting(f);
  const rollout = new ProgressiveRollout(f.stack, 'Rollout', { routing, serviceName: 'web', ...rolloutProps });
  const dashboard = new RolloutDashboard(f.stack, 'Dashboard', { rollout, routing, ...dashboardProps });
  return { f, routing, rollout, dashboard };
}

/** The LoadBalancer + TargetGroup dimensions of a color's ALB metrics, as the body holds them. */
function albDimensions(s: Setup, color: Color): Record<string, string> {
  return {
    LoadBalancer: placeholder(s.f.stack.resolve(s.routing.loadBalancerFullName)),
    TargetGroup: placeholder(s.f.stack.resolve(s.routing.targetGroupFullName(color))),
  };
}

describe('RolloutDashboard', () => {
  test('stacks the production weight of each color from the router\'s TrafficWeight metric', () => {
    const s = setup();
    const w = widget(s.f.stack, /traffic/i);
    expect(w.properties.stacked).toBe(true);
    const lines = linesOf(w);
    for (const color of ['blue', 'green'] as const) {
      const metric = lines.find((l) => l.metricName === 'TrafficWeight' && l.dimensions.Color === color);
      expect(metric).toMatchObject({ namespace: 'CdkZeroDowntime', dimensions: { Service: 'web', Color: color }, visible: false });
      // Published only when the weights move: the graph holds the last value in between.
      expect(lines).toContainEqual(expect.objectContaining({ expression: `FILL(${metric!.id}, REPEAT)`, label: color }));
    }
  });

  test('graphs requests, target 5xx rate and p99 latency of each color\'s target group', () => {
    const s = setup();
    const requests = linesOf(widget(s.f.stack, /^requests/i));
    const latency = linesOf(widget(s.f.stack, /p99/i));
    const errors = linesOf(widget(s.f.stack, /5xx rate/i));
    for (const color of [Color.BLUE, Color.GREEN]) {
      const dims = albDimensions(s, color);
      expect(requests).toContainEqual(expect.objectContaining({ namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensions: dims, stat: 'Sum' }));
      expect(latency).toContainEqual(expect.objectContaining({ namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', dimensions: dims, stat: 'p99' }));

      const e = errors.find((l) => l.metricName === 'HTTPCode_Target_5XX_Count' && l.dimensions.TargetGroup === dims.TargetGroup);
      const r = errors.find((l) => l.metricName === 'RequestCount' && l.dimensions.TargetGroup === dims.TargetGroup);
      expect(e).toMatchObject({ dimensions: dims, stat: 'Sum', visible: false });
      expect(r).toMatchObject({ dimensions: dims, stat: 'Sum', visible: false });
      const rate = errors.find((l) => l.label === color && l.expression !== undefined);
      expect(rate?.expression).toBe(`100 * FILL(${e!.id}, 0) / ${r!.id}`);
    }
  });

  test('graphs healthy and unhealthy hosts of each color', () => {
    const s = setup();
    const lines = linesOf(widget(s.f.stack, /hosts/i));
    for (const color of [Color.BLUE, Color.GREEN]) {
      const dims = albDimensions(s, color);
      expect(lines).toContainEqual(expect.objectContaining({ metricName: 'HealthyHostCount', dimensions: dims }));
      expect(lines).toContainEqual(expect.objectContaining({ metricName: 'UnHealthyHostCount', dimensions: dims }));
    }
  });

  test('graphs rollouts started, succeeded and failed, rollbacks and rollback failures', () => {
    const s = setup();
    const stateMachine = placeholder(s.f.stack.resolve(s.rollout.stateMachine.stateMachineArn));
    for (const lines of [linesOf(widget(s.f.stack, /^rollouts$/i)), linesOf(widget(s.f.stack, /rollouts in the time range/i))]) {
      const names = lines.map((l) => `${l.namespace} ${l.metricName} ${Object.entries(l.dimensions).map(([k, v]) => `${k}=${v}`).join(',')} ${l.stat}`);
      expect(names).toEqual([
        `AWS/States ExecutionsStarted StateMachineArn=${stateMachine} Sum`,
        `AWS/States ExecutionsSucceeded StateMachineArn=${stateMachine} Sum`,
        `AWS/States ExecutionsFailed StateMachineArn=${stateMachine} Sum`,
        'CdkZeroDowntime Rollbacks Service=web Sum',
        'CdkZeroDowntime RollbackFailures Service=web Sum',
      ]);
    }
  });

  test('shows the state of the health composites and of alarms added to the rollout, before or after the dashboard', () => {
    const f = network();
    const routing = newRouting(f);
    const kpi = cloudwatch.Alarm.fromAlarmArn(f.stack, 'Kpi', 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:checkout-kpi');
    const rollout = new ProgressiveRollout(f.stack, 'Rollout', { routing, serviceName: 'web', alarms: [kpi] });
    new RolloutDashboard(f.stack, 'Dashboard', { rollout, routing });
    rollout.addAlarm(cloudwatch.Alarm.fromAlarmArn(f.stack, 'Late', 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:added-later'));

    const alarms = dashboardOf(f.stack).widgets.find((w) => w.type === 'alarm')!;
    expect(alarms.properties.alarms).toEqual([
      placeholder(f.stack.resolve(rollout.healthAlarmsOf(Color.BLUE)!.composite.alarmArn)),
      placeholder(f.stack.resolve(rollout.healthAlarmsOf(Color.GREEN)!.composite.alarmArn)),
      'arn:aws:cloudwatch:us-east-1:111122223333:alarm:checkout-kpi',
      'arn:aws:cloudwatch:us-east-1:111122223333:alarm:added-later',
    ]);
    expect(rollout.alarms).toHaveLength(4);
  });

  test('says so instead of an empty alarm widget when the rollout watches no alarm', () => {
    const s = setup({ healthAlarms: { enabled: false } });
    const body = dashboardOf(s.f.stack);
    expect(body.widgets.filter((w) => w.type === 'alarm')).toHaveLength(0);
    expect(body.widgets.some((w) => /none/.test(w.properties.markdown ?? ''))).toBe(true);
  });

  test('uses the given name and period', () => {
    const s = setup({}, { dashboardName: 'web-rollouts', period: Duration.minutes(5) });
    Template.fromStack(s.f.stack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'web-rollouts' });
    const graphs = dashboardOf(s.f.stack).widgets.filter((w) => w.type === 'metric' && !/time range/.test(w.properties.title ?? ''));
    expect(graphs).toHaveLength(6);
    for (const graph of graphs) {
      expect(graph.properties.period).toBe(300);
      expect(linesOf(graph).filter((l) => l.period !== undefined && l.period !== 300)).toEqual([]);
    }
  });

  test.each([
    [{ period: Duration.seconds(90) }, /Dashboard: period must be a whole number of minutes from 1 minute to 1 day .*, got 1 minute 30 seconds/],
    [{ period: Duration.days(2) }, /Dashboard: period must be a whole number of minutes from 1 minute to 1 day .*, got 2 days/],
    [{ dashboardName: 'web rollouts!' }, /Dashboard: dashboardName must be 1-255 letters, digits, "-" or "_", got "web rollouts!"/],
  ])('refuses %p, naming the prop and the construct', (props, message) => {
    expect(() => setup({}, props)).toThrow(message);
  });
});
