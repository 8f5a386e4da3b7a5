import { ReleaseSignalSource, releaseSignalEnvironmentOf } from '../../rehearsal/release-signal-source';
import { MetricQuery, MetricSource } from '../../rehearsal/fakes';

const LB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shop/0123456789abcdef';
const TG = (color: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-${color}/0123456789abcdef`;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

/** The simulated ALB: per target group, requests / 5xx / latency (seconds) of any period; green idle unless set. */
function albOf(numbers: Record<string, { requests: number; errors?: number; latencySeconds?: number }>): MetricSource & { queries: MetricQuery[] } {
  const queries: MetricQuery[] = [];
  return {
    queries,
    value(q) {
      queries.push(q);
      const color = Object.keys(numbers).find((c) => q.dimensions.TargetGroup === `targetgroup/shop-${c}/0123456789abcdef`);
      if (q.namespace !== 'AWS/ApplicationELB' || q.dimensions.LoadBalancer !== 'app/shop/0123456789abcdef' || !color) return null;
      const n = numbers[color];
      if (q.metricName === 'RequestCount') return n.requests;
      if (q.metricName === 'HTTPCode_Target_5XX_Count') return n.errors ?? null;
      if (q.metricName === 'TargetResponseTime') return q.statistic === 'SampleCount' ? n.requests : n.latencySeconds ?? null;
      return null;
    },
  };
}

function source(alb: MetricSource, namespace = 'ZeroDowntime/Release'): ReleaseSignalSource {
  return new ReleaseSignalSource({ service: 'shop', namespace, alb, loadBalancerArn: LB_ARN, targetGroupArns: { blue: TG('blue'), green: TG('green') } });
}

const query = (metricName: string, statistic: string, color = 'green', extra: Partial<MetricQuery> = {}): MetricQuery => ({
  namespace: 'ZeroDowntime/Release', metricName, statistic, dimensions: { Service: 'shop', Color: color }, periodStart: T0, periodSeconds: 10, ...extra,
});

describe('ReleaseSignalSource: the application\'s ReleaseMetrics as CloudWatch would hold them', () => {
  test('Requests, Errors5xx and Latency of a color are its target group\'s numbers over the same period (latency in milliseconds)', () => {
    const alb = albOf({ green: { requests: 120, errors: 6, latencySeconds: 0.18 } });
    const signal = source(alb);
    expect(signal.value(query('Requests', 'Sum'))).toBe(120);
    expect(signal.value(query('Errors5xx', 'Sum'))).toBe(6);
    expect(signal.value(query('Latency', 'p99'))).toBeCloseTo(180);
    expect(signal.value(query('Latency', 'SampleCount'))).toBe(120);
    // The same period, the same target group of the same load balancer.
    expect(alb.queries[0]).toMatchObject({ namespace: 'AWS/ApplicationELB', dimensions: { LoadBalancer: 'app/shop/0123456789abcdef', TargetGroup: 'targetgroup/shop-green/0123456789abcdef' }, periodStart: T0, periodSeconds: 10 });
  });

  test('a period without 5xx writes Errors5xx 0 (ReleaseMetrics writes the zero), and its SampleCount is the requests\'', () => {
    const signal = source(albOf({ green: { requests: 50 } }));
    expect(signal.value(query('Errors5xx', 'Sum'))).toBe(0);
    expect(signal.value(query('Errors5xx', 'SampleCount'))).toBe(50);
  });

  test('a period without requests has no EMF document: no datapoint at all, not zeros', () => {
    const signal = source(albOf({ blue: { requests: 900 } }));
    for (const name of ['Requests', 'Errors5xx', 'Latency']) expect(signal.value(query(name, name === 'Latency' ? 'p99' : 'Sum'))).toBeNull();
  });

  test('answers only its namespace, its service, a known color and exactly the Service and Color dimensions', () => {
    const signal = source(albOf({ green: { requests: 10 } }));
    expect(signal.value(query('Requests', 'Sum', 'green', { namespace: 'Other/Release' }))).toBeNull();
    expect(signal.value(query('Requests', 'Sum', 'green', { dimensions: { Service: 'cart', Color: 'green' } }))).toBeNull();
    expect(signal.value(query('Requests', 'Sum', 'purple'))).toBeNull();
    expect(signal.value(query('Requests', 'Sum', 'green', { dimensions: { Service: 'shop', Color: 'green', Host: 'a' } }))).toBeNull();
    expect(signal.value(query('Requests', 'Average'))).toBeNull();
    expect(signal.value(query('Unknown', 'Sum'))).toBeNull();
    expect(source(albOf({ green: { requests: 10 } }), 'Shop/Release').value(query('Requests', 'Sum', 'green', { namespace: 'Shop/Release' }))).toBe(10);
  });

  test('finds the service and namespace the color stacks told the application (ECS containers or Lambda functions), or none', () => {
    const ecs = { Type: 'AWS::ECS::TaskDefinition', Properties: { ContainerDefinitions: [{ Environment: [
      { Name: 'ZDT_RELEASE_SERVICE', Value: 'shop' }, { Name: 'ZDT_RELEASE_COLOR', Value: 'green' }, { Name: 'ZDT_RELEASE_NAMESPACE', Value: 'Shop/Release' },
    ] }] } };
    expect(releaseSignalEnvironmentOf([{ stackName: 'green', template: { Resources: { Task: ecs } } }])).toEqual({ service: 'shop', namespace: 'Shop/Release' });
    const fn = { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { ZDT_RELEASE_SERVICE: 'api', ZDT_RELEASE_COLOR: 'blue' } } } };
    expect(releaseSignalEnvironmentOf([{ stackName: 'blue', template: { Resources: { Fn: fn } } }])).toEqual({ service: 'api', namespace: 'ZeroDowntime/Release' });
    expect(releaseSignalEnvironmentOf([{ stackName: 'x', template: { Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: {} } } } }])).toBeUndefined();
  });
});
