import { Readable } from 'node:stream';
import { DescribeRulesCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { elbv2 } from '../../lambda/shared/clients';
import { CALLER_RETRIES, currentRetryPolicy, DEFAULT_RETRY_POLICY, SDK_RETRIES, sdkClientConfig, SdkRetryPolicy, withRetryPolicy } from '../../lambda/shared/sdk-retries';
import { handler as routerHandler } from '../../lambda/routing/router-handler';
import { AwsFakes } from '../../rehearsal/fakes';
import { ManualClock } from '../fakes/manual-clock';

/**
 * A real SDK client, configured as a handler's (sdkClientConfig), against an HTTP handler that answers every request
 * with a 503 (a transient error the SDK retries, with a 100 ms backoff base): the number of HTTP requests production
 * would send for one call.
 */
async function productionAttempts(policy: SdkRetryPolicy): Promise<number> {
  let requests = 0;
  const client = new ElasticLoadBalancingV2Client({
    ...sdkClientConfig(policy),
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async () => {
        requests++;
        const body = '<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>try later</Message></Error><RequestId>r</RequestId></ErrorResponse>';
        return { response: { statusCode: 503, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(body)]) } };
      },
    } as never,
  });
  await expect(client.send(new DescribeRulesCommand({ ListenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
  return requests;
}

/** The same call from the handlers' own client under the rehearsal's fakes, failing every time: the calls the fakes see. */
async function rehearsalAttempts(policy: SdkRetryPolicy): Promise<number> {
  const aws = new AwsFakes({ clock: new ManualClock() }).install();
  try {
    aws.faults.add({ service: 'elbv2', command: 'DescribeRules', error: 'ServiceUnavailable', times: Infinity });
    await expect(withRetryPolicy(policy, () => elbv2().send(new DescribeRulesCommand({ ListenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2' })))()).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    return aws.callCount('elbv2', 'DescribeRules');
  } finally {
    aws.restore();
  }
}

describe('one retry layer per handler (issue 9, defect 8)', () => {
  test.each([CALLER_RETRIES, SDK_RETRIES])('the rehearsal makes as many attempts as production\'s client for one call ($name)', async (policy) => {
    const production = await productionAttempts(policy);
    expect(production).toBe(policy.maxAttempts);
    expect(await rehearsalAttempts(policy)).toBe(production);
  });

  test('handlers run by a Step Functions task make one attempt: the task\'s Retry is the only layer', async () => {
    expect(CALLER_RETRIES.maxAttempts).toBe(1);
    const aws = new AwsFakes({ clock: new ManualClock() }).install();
    const before = process.env.ZDT_CONFIG;
    try {
      aws.faults.add({ service: 'elbv2', command: 'DescribeRules', error: 'ThrottlingException', times: Infinity });
      process.env.ZDT_CONFIG = JSON.stringify({
        listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2',
        liveRuleArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/web/1/2/3',
        targetGroupArns: {
          blue: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1',
          green: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/green/2',
        },
        segmentHeader: 'x-zdt-segment',
        segmentRulePriority: 10,
      });
      // One throttled call, turned into ZdtRetryableError for the task's Retry: no SDK retry under it.
      await expect(routerHandler({ action: 'describe' })).rejects.toMatchObject({ name: 'ZdtRetryableError' });
      expect(aws.callCount('elbv2', 'DescribeRules')).toBe(1);
    } finally {
      if (before === undefined) delete process.env.ZDT_CONFIG; else process.env.ZDT_CONFIG = before;
      aws.restore();
    }
  });

  test('each handler runs under its policy, and code outside a handler under the default', async () => {
    expect(currentRetryPolicy()).toBe(DEFAULT_RETRY_POLICY);
    expect(await withRetryPolicy(SDK_RETRIES, async () => elbv2().config.maxAttempts())()).toBe(SDK_RETRIES.maxAttempts);
    expect(await withRetryPolicy(CALLER_RETRIES, async () => elbv2().config.maxAttempts())()).toBe(1);
  });
});
