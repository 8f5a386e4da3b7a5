import { AwsFakes } from '../../rehearsal/fakes';
import { BehaviourProfile, TrafficModel } from '../../rehearsal/traffic-model';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const T0 = Date.parse('2026-01-05T09:00:00Z');

interface WorldOptions {
  readonly seed?: number;
  readonly requestsPerSecond?: number;
  readonly profiles?: Partial<Record<'blue' | 'green', BehaviourProfile>>;
}

function world(healthy = { blue: 2, green: 2 }, options: WorldOptions = {}) {
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
    requestsPerSecond: options.requestsPerSecond ?? 100,
    profiles: options.profiles ?? { green: { baselineErrorRatePercent: 0, regressions: [{ errorRatePercent: 10, minWeightPercent: 50 }] }, blue: { baselineErrorRatePercent: 0 } },
    seed: options.seed,
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

/** Mean and (population) variance. */
function moments(values: readonly number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  return { mean, variance: values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length };
}

describe('TrafficModel, stochastic (seeded)', () => {
  const MINUTE = 60_000;
  const MINUTES = 120;
  const noisy = (seed: number, extra: WorldOptions = {}) => world(undefined, {
    seed,
    profiles: { blue: { baselineErrorRatePercent: 0.5 }, green: { baselineErrorRatePercent: 0.5, regressions: [{ errorRatePercent: 20 }] } },
    ...extra,
  });
  const perMinute = (w: ReturnType<typeof world>, metric: string, color: 'blue' | 'green', statistic = 'Sum') =>
    Array.from({ length: MINUTES }, (_, m) => w.metric(metric, color, statistic, T0 + m * MINUTE) ?? 0);

  test('the same seed gives the same traffic, another seed other traffic', () => {
    const [a, b, c] = [noisy(7), noisy(7), noisy(8)];
    for (const w of [a, b, c]) {
      w.setWeights(90, 10);
      w.clock.advance(5 * MINUTE);
    }
    const series = (w: ReturnType<typeof world>) => w.model.series(T0, T0 + 5 * MINUTE, 10_000);
    expect(series(a)).toEqual(series(b));
    expect(series(a)).not.toEqual(series(c));
    expect(a.model.seed).toBe(7);
  });

  test('what a period holds does not depend on what was read before, or in which order', () => {
    const [a, b] = [noisy(3), noisy(3)];
    for (const w of [a, b]) {
      w.setWeights(50, 50);
      w.clock.advance(10 * MINUTE);
    }
    const late = a.metric('HTTPCode_Target_5XX_Count', 'green', 'Sum', T0 + 9 * MINUTE);
    const lateP99 = a.metric('TargetResponseTime', 'green', 'p99', T0 + 9 * MINUTE);
    perMinute(b, 'RequestCount', 'green');
    expect(b.metric('HTTPCode_Target_5XX_Count', 'green', 'Sum', T0 + 9 * MINUTE)).toBe(late);
    expect(b.metric('TargetResponseTime', 'green', 'p99', T0 + 9 * MINUTE)).toBe(lateP99);
  });

  test('requests per minute are Poisson: mean and variance both the expected count', () => {
    const w = noisy(11);
    w.clock.advance(MINUTES * MINUTE);
    const { mean, variance } = moments(perMinute(w, 'RequestCount', 'blue'));
    // 100 req/s: 6,000 a minute; over 120 minutes the sample mean is within ~4 standard errors (4 * 7.1).
    expect(Math.abs(mean - 6000)).toBeLessThan(30);
    // Sample variance of 120 Poisson(6000) counts: standard error ~ 6000 * sqrt(2/119) = 780.
    expect(variance).toBeGreaterThan(6000 - 3 * 780);
    expect(variance).toBeLessThan(6000 + 3 * 780);
  });

  test('errors are binomial at the error rate, and only those above the baseline count as blast radius', () => {
    const w = noisy(12);
    w.setWeights(0, 100);
    w.clock.advance(MINUTES * MINUTE);
    const requests = perMinute(w, 'RequestCount', 'green');
    const errors = perMinute(w, 'HTTPCode_Target_5XX_Count', 'green');
    const total = requests.reduce((a, v) => a + v, 0);
    const failed = errors.reduce((a, v) => a + v, 0);
    // 20% of ~720,000 requests: standard deviation ~340.
    expect(Math.abs(failed / total - 0.2)).toBeLessThan(0.003);
    // Per minute: variance of errors is Poisson-thinned, n * p (the arrival noise included): ~1,200.
    const { variance } = moments(errors);
    expect(variance).toBeGreaterThan(1200 * 0.55);
    expect(variance).toBeLessThan(1200 * 1.6);
    // The blast radius: errors above blue's 0.5% baseline, i.e. 19.5% of the requests.
    expect(Math.abs(w.model.failedRequests(T0, T0 + MINUTES * MINUTE) / total - 0.195)).toBeLessThan(0.003);
  });

  test('a healthy canary at 0.5% sometimes shows 2 errors in a minute of 60 requests, sometimes none', () => {
    const w = noisy(5, { requestsPerSecond: 100, profiles: { blue: { baselineErrorRatePercent: 0.5 }, green: { baselineErrorRatePercent: 0.5 } } });
    w.setWeights(99, 1);
    w.clock.advance(MINUTES * MINUTE);
    const errors = perMinute(w, 'HTTPCode_Target_5XX_Count', 'green');
    // Expected 0.3 errors a minute: P(0) = 74%, P(>= 2) = 3.6%: the noise a judge must live with.
    expect(errors.filter((e) => e === 0).length).toBeGreaterThan(MINUTES * 0.6);
    expect(errors.filter((e) => e >= 2).length).toBeGreaterThan(0);
  });

  test('latency percentiles are sample percentiles: they scatter around the profile, more when there are fewer requests', () => {
    const busy = noisy(21);
    const quiet = noisy(21, { requestsPerSecond: 5 });
    for (const w of [busy, quiet]) w.clock.advance(MINUTES * MINUTE);
    const p99 = (w: ReturnType<typeof world>) => moments(perMinute(w, 'TargetResponseTime', 'blue', 'p99'));
    const big = p99(busy);
    const small = p99(quiet);
    expect(big.mean).toBeCloseTo(0.18, 2);
    expect(small.mean).toBeCloseTo(0.18, 1);
    expect(big.variance).toBeGreaterThan(0);
    expect(small.variance).toBeGreaterThan(big.variance * 4);
  });

  test('a small period\'s statistics come from one drawn sample: Minimum <= p50 <= p99 <= Maximum, Sum = Average x SampleCount', () => {
    const w = noisy(4, { requestsPerSecond: 2 });
    w.clock.advance(MINUTE);
    const stat = (s: string) => w.metric('TargetResponseTime', 'blue', s)!;
    const n = stat('SampleCount');
    expect(n).toBe(w.metric('RequestCount', 'blue', 'Sum'));
    expect(stat('Minimum')).toBeLessThanOrEqual(stat('p50'));
    expect(stat('p50')).toBeLessThanOrEqual(stat('p99'));
    expect(stat('p99')).toBeLessThanOrEqual(stat('Maximum'));
    expect(stat('Sum')).toBeCloseTo(stat('Average') * n, 9);
  });

  test('refuses a seed that is not a whole number', () => {
    expect(() => world(undefined, { seed: 1.5 })).toThrow(/seed must be a whole number.*1\.5/);
  });
});
