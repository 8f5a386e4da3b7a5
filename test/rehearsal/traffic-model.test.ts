import { AwsFakes } from '../../rehearsal/fakes';
import { TrafficModel } from '../../rehearsal/traffic-model';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const T0 = Date.parse('2026-01-05T09:00:00Z');

function world(healthy = { blue: 2, green: 2 }) {
  const clock = new VirtualClock(T0);
  const aws = new AwsFakes({ clock });
  const lb = aws.alb.createLoadBalancer({ Name: 'web', Subnets: ['s-1', 's-2'] }).LoadBalancers![0].LoadBalancerArn!;
  const tg = (name: string) => aws.alb.createTargetGroup({ Name: name, Port: 80, Protocol: 'HTTP', VpcId: 'vpc-1', TargetType: 'ip' }).TargetGroups![0].TargetGroupArn!;
  const tgs = { blue: tg('blue'), green: tg('green') };
  const listener = aws.alb.createListener({ LoadBalancerArn: lb, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }).Listeners![0].ListenerArn!;
  const forward = (blue: number, green: number) => [{ Type: 'forward' as const, ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgs.blue, Weight: blue }, { TargetGroupArn: tgs.green, Weight: green }] } }];
  const rule = aws.alb.createRule({ ListenerArn: listener, Priority: 10, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }], Actions: forward(100, 0) }).Rules![0].RuleArn!;
  aws.alb.setTargetHealth(tgs.blue, { healthy: healthy.blue });
  aws.alb.setTargetHealth(tgs.green, { healthy: healthy.green });
  const model = new TrafficModel({
    clock, alb: aws.alb, listenerArn: listener, loadBalancerArn: lb, targetGroupArns: tgs, originMs: T0,
    requestsPerSecond: 100,
    profiles: { green: { baselineErrorRatePercent: 0, regressions: [{ errorRatePercent: 10, minWeightPercent: 50 }] }, blue: { baselineErrorRatePercent: 0 } },
  });
  const setWeights = (blue: number, green: number) => {
    aws.alb.modifyRule({ RuleArn: rule, Actions: forward(blue, green) });
    model.observe();
  };
  const metric = (metricName: string, color: 'blue' | 'green' | undefined, statistic: string, periodStart = T0, periodSeconds = 60) => model.value({
    namespace: 'AWS/ApplicationELB', metricName, statistic, periodStart, periodSeconds,
    dimensions: { LoadBalancer: lb.split(':loadbalancer/')[1], ...(color ? { TargetGroup: tgs[color].split(':').pop()! } : {}) },
  });
  return { clock, aws, model, setWeights, metric, tgs };
}

describe('TrafficModel', () => {
  test('splits requests by the weights in force each second, time-weighted across a change', () => {
    const w = world();
    w.clock.advance(30_000);
    w.setWeights(75, 25);
    w.clock.advance(30_000);
    expect(w.metric('RequestCount', 'blue', 'Sum')).toBe(3000 + 2250);
    expect(w.metric('RequestCount', 'green', 'Sum')).toBe(750);
    expect(w.metric('RequestCount', undefined, 'Sum')).toBe(6000);
  });

  test('a regression that needs 50% of the traffic fails requests only from then on, and counts as blast radius', () => {
    const w = world();
    w.setWeights(75, 25);
    w.clock.advance(60_000);
    expect(w.metric('HTTPCode_Target_5XX_Count', 'green', 'Sum')).toBeNull();
    w.setWeights(50, 50);
    w.clock.advance(60_000);
    expect(w.metric('HTTPCode_Target_5XX_Count', 'green', 'Sum', T0 + 60_000)).toBe(300);
    expect(w.model.failedRequests(T0, T0 + 120_000)).toBe(300);
    expect(w.model.regressionStartedAt(T0 + 120_000)).toBe(T0 + 60_000);
  });

  test('latency percentiles follow the profile (seconds, as ALB reports TargetResponseTime)', () => {
    const w = world();
    w.clock.advance(60_000);
    expect(w.metric('TargetResponseTime', 'blue', 'p99')).toBeCloseTo(0.18, 3);
    expect(w.metric('TargetResponseTime', 'blue', 'p50')).toBeCloseTo(0.04, 3);
    expect(w.metric('TargetResponseTime', 'green', 'p99')).toBeNull();
  });

  test('requests sent to a color without healthy targets are ELB 5xx, not target requests', () => {
    const w = world({ blue: 2, green: 0 });
    w.setWeights(50, 50);
    w.clock.advance(60_000);
    expect(w.metric('RequestCount', 'green', 'Sum')).toBeNull();
    expect(w.metric('HTTPCode_ELB_5XX_Count', undefined, 'Sum')).toBe(3000);
  });

  test('is deterministic: the same inputs give the same series', () => {
    const a = world();
    const b = world();
    for (const w of [a, b]) {
      w.setWeights(99, 1);
      w.clock.advance(45_000);
    }
    expect(a.model.series(T0, T0 + 45_000, 10_000)).toEqual(b.model.series(T0, T0 + 45_000, 10_000));
    expect(a.model.series(T0, T0 + 45_000, 10_000)[0].requests.green).toBe(10);
  });
});
