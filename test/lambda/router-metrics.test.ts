import 'aws-sdk-client-mock-jest';
import { CloudWatchClient, PutMetricDataCommand, PutMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  DescribeRulesCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand, Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV, ErrorName, RouterConfig } from '../../lambda/shared/contracts';
import { handler } from '../../lambda/routing/router-handler';

/**
 * The router publishes the live weights (metric TrafficWeight, dimensions Service and Color) after every verified
 * shift or rollback, when its configuration asks for it, and never fails a traffic move because CloudWatch did.
 * The ALB here is a minimal in-test listener: one live rule whose forward action ModifyRule rewrites.
 */

process.env.ZDT_LOG_LEVEL = 'silent';

const ACCOUNT = '111122223333';
const LISTENER = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/web/0123456789abcdef/fedcba9876543210`;
const LIVE_RULE = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/web/0123456789abcdef/fedcba9876543210/0000000000000001`;
const BLUE_TG = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-blue/0000000000000001`;
const GREEN_TG = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-green/0000000000000002`;
const SERVICE = 'shop';
const NOW_MS = Date.UTC(2026, 10, 24, 10, 0, 0);

const baseConfig: RouterConfig = {
  listenerArn: LISTENER,
  liveRuleArn: LIVE_RULE,
  targetGroupArns: { blue: BLUE_TG, green: GREEN_TG },
  segmentHeader: 'x-zdt-segment',
  segmentRulePriority: 9,
};

const elb = mockClient(ElasticLoadBalancingV2Client);
const cloudWatch = mockClient(CloudWatchClient);
let liveRule: Rule;
let restoreClock: () => void;

function liveWeights(blue: number, green: number): void {
  liveRule = {
    RuleArn: LIVE_RULE,
    Priority: '10',
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] }, Values: ['/*'] }],
    Actions: [{
      Type: 'forward',
      ForwardConfig: { TargetGroups: [{ TargetGroupArn: BLUE_TG, Weight: blue }, { TargetGroupArn: GREEN_TG, Weight: green }] },
    }],
  };
}

function configure(config: RouterConfig): void {
  process.env[CONFIG_ENV] = JSON.stringify(config);
}

/** The TrafficWeight datapoints of every PutMetricData call, as "Service/Color=value". */
function publishedWeights(): string[] {
  return cloudWatch.commandCalls(PutMetricDataCommand).flatMap((call) => {
    const input = call.args[0].input as PutMetricDataCommandInput;
    return (input.MetricData ?? []).map((d) => {
      const dim = (name: string) => d.Dimensions?.find((x) => x.Name === name)?.Value;
      return `${input.Namespace}:${d.MetricName} ${dim('Service')}/${dim('Color')}=${d.Value}`;
    });
  });
}

beforeEach(() => {
  restoreClock = setClock({ now: () => NOW_MS, sleep: async () => undefined });
  liveWeights(100, 0);
  elb.reset();
  elb.on(DescribeRulesCommand).callsFake((input) => ({
    // By ARN: the live rule; by listener: every rule (no segment rule at its priority).
    Rules: input.RuleArns ? (input.RuleArns.includes(LIVE_RULE) ? [structuredClone(liveRule)] : []) : [structuredClone(liveRule)],
  }));
  elb.on(ModifyRuleCommand).callsFake((input) => {
    liveRule = { ...liveRule, Actions: input.Actions };
    return { Rules: [structuredClone(liveRule)] };
  });
  cloudWatch.reset();
  cloudWatch.on(PutMetricDataCommand).resolves({});
});
afterEach(() => restoreClock());
afterAll(() => {
  elb.restore();
  cloudWatch.restore();
});

describe('Router traffic weight metrics', () => {
  test('publishes both colors\' weights after a verified shift', async () => {
    configure({ ...baseConfig, metrics: { service: SERVICE } });
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] }))
      .resolves.toMatchObject({ after: { blue: 75, green: 25 }, changed: true });
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=75`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=25`,
    ]);
    const datum = (cloudWatch.commandCalls(PutMetricDataCommand)[0].args[0].input as PutMetricDataCommandInput).MetricData![0];
    expect(datum).toMatchObject({ Unit: 'Percent', Timestamp: new Date(NOW_MS) });
  });

  test('publishes only after the write, once the read-back shows it', async () => {
    configure({ ...baseConfig, metrics: { service: SERVICE } });
    let written = false;
    elb.on(ModifyRuleCommand).callsFake((input) => {
      expect(cloudWatch.commandCalls(PutMetricDataCommand)).toHaveLength(0);
      written = true;
      liveRule = { ...liveRule, Actions: input.Actions };
      return {};
    });
    await handler({ action: 'shift', targetColor: 'green', percent: 5, segments: [] });
    expect(written).toBe(true);
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=95`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=5`,
    ]);
  });

  test('publishes the restored weights after a rollback', async () => {
    liveWeights(40, 60);
    configure({ ...baseConfig, metrics: { service: SERVICE } });
    await handler({ action: 'rollback', stableColor: 'blue' });
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=100`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=0`,
    ]);
  });

  test('publishes the verified weights when the listener already holds the desired route', async () => {
    liveWeights(50, 50);
    configure({ ...baseConfig, metrics: { service: SERVICE } });
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 50, segments: [] })).resolves.toMatchObject({ changed: false });
    expect(elb).not.toHaveReceivedCommand(ModifyRuleCommand);
    expect(publishedWeights()).toEqual([
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/blue=50`,
      `CdkZeroDowntime:TrafficWeight ${SERVICE}/green=50`,
    ]);
  });

  test('publishes nothing without metrics in the configuration', async () => {
    configure(baseConfig);
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] })).resolves.toMatchObject({ changed: true });
    await handler({ action: 'rollback', stableColor: 'blue' });
    expect(cloudWatch).not.toHaveReceivedCommand(PutMetricDataCommand);
  });

  test('publishes nothing when the read-back never shows the write', async () => {
    configure({ ...baseConfig, metrics: { service: SERVICE } });
    elb.on(ModifyRuleCommand).resolves({}); // accepted, but the listener keeps the old weights
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] }))
      .rejects.toMatchObject({ name: ErrorName.WEIGHT_VERIFICATION_FAILED });
    expect(cloudWatch).not.toHaveReceivedCommand(PutMetricDataCommand);
  });

  test.each([
    ['an access error', Object.assign(new Error('not authorized to perform cloudwatch:PutMetricData'), { name: 'AccessDenied' })],
    ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } })],
  ])('a failed PutMetricData (%s) does not fail the shift or the rollback', async (_kind, error) => {
    configure({ ...baseConfig, metrics: { service: SERVICE } });
    cloudWatch.on(PutMetricDataCommand).rejects(error);
    await expect(handler({ action: 'shift', targetColor: 'green', percent: 25, segments: [] }))
      .resolves.toMatchObject({ after: { blue: 75, green: 25 }, changed: true });
    await expect(handler({ action: 'rollback', stableColor: 'blue' }))
      .resolves.toMatchObject({ after: { blue: 100, green: 0 }, changed: true });
    expect(cloudWatch).toHaveReceivedCommandTimes(PutMetricDataCommand, 2);
  });

  test('refuses a configuration whose metrics name no service', async () => {
    configure({ ...baseConfig, metrics: {} } as unknown as RouterConfig);
    await expect(handler({ action: 'describe' })).rejects.toMatchObject({ name: ErrorName.INVALID_REQUEST, message: expect.stringMatching(/service/) });
  });
});
