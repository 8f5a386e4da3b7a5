import { PutMetricDataInput } from '@aws-sdk/client-cloudwatch';
import { ErrorName, RouterConfig } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/routing/router-handler';
import { FakeAws, forwardTo, installAwsFakes, PATH_ALL, WebAlb } from './support/aws';
import { NOW_MS, setConfig } from './support/env';

/**
 * The router publishes the live weights (metric TrafficWeight, dimensions Service and Color) after every verified
 * shift or rollback, when its configuration asks for it, and never fails a traffic move because CloudWatch did.
 */

const SERVICE = 'shop';
const LIVE_PRIORITY = 10;
const SEGMENT_PRIORITY = 9;

let fakes: FakeAws;
let alb: WebAlb;
let liveRuleArn: string;

/** Creates the live rule with these weights and configures the router for it (with `metrics` unless `withMetrics` is false). */
function configure(blue: number, green: number, withMetrics = true): void {
  liveRuleArn = alb.addRule(alb.listenerArn, LIVE_PRIORITY, [PATH_ALL], [forwardTo({ [alb.blueTg]: blue, [alb.greenTg]: green })]);
  const config: RouterConfig = {
    listenerArn: alb.listenerArn,
    liveRuleArn,
    targetGroupArns: { blue: alb.blueTg, green: alb.greenTg },
    segmentHeader: 'x-zdt-segment',
    segmentRulePriority: SEGMENT_PRIORITY,
    ...(withMetrics ? { metrics: { service: SERVICE } } : {}),
  };
  setConfig(config);
}

/** The inputs of the router's PutMetricData calls (failed ones included). */
function putMetricDataCalls(): PutMetricDataInput[] {
  return fakes.aws.calls.filter((c) => c.service === 'cloudwatch' && c.command === 'PutMetricData').map((c) => c.input as PutMetricDataInput);
}

/** The TrafficWeight datapoints of every PutMetricData call, as "Namespace:Metric Service/Color=value". */
function publishedWeights(): string[] {
  return putMetricDataCalls().flatMap((input) => (input.MetricData ?? []).map((d) => {
    const dim = (name: string) => d.Dimensions?.find((x) => x.Name === name)?.Value;
    return `${input.Namespace}:${d.MetricName} ${dim('Service')}/${dim('Color')}=${d.Value}`;
  }));
}

/** Index in the call log of each call of this service and command. */
function callIndexes(service: string, command: string): number[] {
  return fakes.aws.calls.flatMap((c, i) => (c.service === service && c.command === command ? [i] : []));
}

beforeEach(() => {
  fakes = installAwsFakes();
  alb = new WebAlb(fakes.aws);
});
afterEach(() => fakes.restore());

describe('Router traffic weight metrics', () => {
  test('publishes both colors\' weights after a verified shift', async () => {
    configure(100, 0);
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] }))
      .resolves.toMatchObject({ after: { blue: 75, green: 25 }, changed: true });
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=75`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=25`,
    ]);
    expect(putMetricDataCalls()[0].MetricData![0]).toMatchObject({ Unit: 'Percent', Timestamp: new Date(NOW_MS) });
  });

  test('publishes only after the write, once the read-back shows it', async () => {
    configure(100, 0);
    const lagReads = 2;
    fakes.aws.alb.lagReads({ rule: liveRuleArn, reads: lagReads });
    await handler({ action: 'shift', targetColor: 'green', percent: 5, segments: [] });
    const [write] = callIndexes('elbv2', 'ModifyRule');
    const [publish] = callIndexes('cloudwatch', 'PutMetricData');
    expect(write).toBeDefined();
    expect(publish).toBeGreaterThan(write);
    // The lagging read-backs showed the old weights; the first read-back after them shows the write.
    const readsBetween = callIndexes('elbv2', 'DescribeRules').filter((i) => i > write && i < publish);
    expect(readsBetween.length).toBeGreaterThan(lagReads);
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=95`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=5`,
    ]);
  });

  test('publishes the restored weights after a rollback', async () => {
    configure(40, 60);
    await handler({ action: 'rollback', stableColor: 'blue' });
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=100`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=0`,
    ]);
  });

  test('publishes the verified weights when the listener already holds the desired route', async () => {
    configure(50, 50);
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).resolves.toMatchObject({ changed: false });
    expect(alb.sent('ModifyRule')).toHaveLength(0);
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=50`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=50`,
    ]);
  });

  test('publishes nothing without metrics in the configuration', async () => {
    configure(100, 0, false);
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] })).resolves.toMatchObject({ changed: true });
    await handler({ action: 'rollback', stableColor: 'blue' });
    expect(putMetricDataCalls()).toHaveLength(0);
  });

  test('publishes nothing when the read-back never shows the write', async () => {
    configure(100, 0);
    // Accepted, but the listener keeps showing the old weights for longer than the router reads back.
    fakes.aws.alb.lagReads({ rule: liveRuleArn, reads: 1000 });
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] }))
      .rejects.toMatchObject({ name: ErrorName.WEIGHT_VERIFICATION_FAILED });
    expect(putMetricDataCalls()).toHaveLength(0);
  });

  test.each(['AccessDenied', 'Throttling', 'InternalFailure'])('a failed PutMetricData (%s) does not fail the shift or the rollback', async (error) => {
    configure(100, 0);
    const fault = fakes.aws.faults.add({ service: 'cloudwatch', command: 'PutMetricData', error, times: Infinity });
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] }))
      .resolves.toMatchObject({ after: { blue: 75, green: 25 }, changed: true });
    await expect(handler({ action: 'rollback', stableColor: 'blue' }))
      .resolves.toMatchObject({ after: { blue: 100, green: 0 }, changed: true });
    expect(putMetricDataCalls()).toHaveLength(2);
    expect(fault.fired).toBe(2);
  });

  test('refuses a configuration whose metrics name no service', async () => {
    configure(100, 0);
    setConfig({
      listenerArn: alb.listenerArn, liveRuleArn, targetGroupArns: { blue: alb.blueTg, green: alb.greenTg },
      segmentHeader: 'x-zdt-segment', segmentRulePriority: SEGMENT_PRIORITY, metrics: {},
    });
    await expect(handler({ action: 'describe' })).rejects.toMatchObject({ name: ErrorName.INVALID_REQUEST, message: expect.stringMatching(/service/) });
  });
});
