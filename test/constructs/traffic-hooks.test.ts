import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { definitionOf, network, rollout } from './fixtures';

const hook = (f: ReturnType<typeof network>, id: string) => new lambda.Function(f.stack, id, {
  runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({ status: "Succeeded" })'),
});

describe('ProgressiveRollout traffic hooks', () => {
  test('run before any traffic moves and after the last step, each with the colors, the test route and its own timeout, then check for an abort', () => {
    const f = network();
    rollout(f, { preTrafficHooks: [hook(f, 'Smoke'), hook(f, 'Contract')], postTrafficHooks: [hook(f, 'Probe')], hookTimeout: Duration.minutes(3) });
    const states = definitionOf(f.stack).States;

    // Started -> hook 1 -> hook 2 -> first step; the last step -> post hook -> record live.
    expect(states['Started Sent'].Next).toBe('Pre-Traffic Hook 1 Begins');
    expect(states['Pre-Traffic Hook 1 Begins']).toMatchObject({ Result: { number: 1 }, ResultPath: '$.hookRun', Next: 'Pre-Traffic Hook 1' });
    expect(states['Pre-Traffic Hook 1 Passed'].Next).toBe('Pre-Traffic Hook 2 Begins');
    expect(states['Pre-Traffic Hook 2 Passed'].Next).toBe('Check Abort After Pre-Traffic Hooks');
    expect(states['Abort Requested After Pre-Traffic Hooks?'].Default).toBe('First Step');
    expect(states['Abort Requested After Pre-Traffic Hooks?'].Choices[0].Next).toBe('Abort Requested');
    expect(states['More Steps?'].Default).toBe('Post-Traffic Hook 1 Begins');
    expect(states['Post-Traffic Hook 1 Passed'].Next).toBe('Check Abort After Post-Traffic Hooks');
    expect(states['Abort Requested After Post-Traffic Hooks?'].Default).toBe('Record Live Color');
    expect(states['Pre-Traffic Hook 1']).toMatchObject({
      TimeoutSeconds: 180,
      Parameters: { 'hook': 'preTraffic', 'service': 'web', 'targetColor.$': '$.colors.target', 'testRoute': { 'header': 'x-zdt-color', 'value.$': '$.colors.target' } },
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Pre-Traffic Hook Failed' }],
    });
    // The hook's own errors are its verdict: only Lambda's service faults are retried.
    expect(states['Pre-Traffic Hook 1'].Retry[0].ErrorEquals).toEqual([
      'Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException',
    ]);
    expect(states['Pre-Traffic Hook 1 Succeeded?'].Choices.map((c: { Next: string }) => c.Next)).toEqual(['Pre-Traffic Hook 1 Passed', 'Pre-Traffic Hook Refused With Reason']);
    expect(states['Pre-Traffic Hook 1 Succeeded?'].Default).toBe('Pre-Traffic Hook Refused');
    expect(states['Pre-Traffic Hook Failed'].Next).toBe('Rollback');
  });

  test('without hooks the rollout goes straight from Started to the first step', () => {
    const f = network();
    rollout(f);
    const states = definitionOf(f.stack).States;
    expect(states['Started Sent'].Next).toBe('First Step');
    expect(Object.keys(states).filter((s) => s.includes('Hook'))).toEqual([]);
  });

  test('adds no unacknowledged cdk-nag finding to the rollout: invoking the hooks (and their versions) is acknowledged', () => {
    const f = network();
    const smoke = hook(f, 'Smoke');
    rollout(f, { preTrafficHooks: [smoke], postTrafficHooks: [lambda.Function.fromFunctionArn(f.stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:probe')] });
    // The test's own network and hook function are not the library's: their findings are set aside here, by id.
    const aside = (scope: Construct, ids: string[]) => ids.forEach((id) => Validations.of(scope).acknowledge({ id, reason: 'test fixture' }));
    aside(f.vpc, ['AwsSolutions-VPC7']);
    aside(f.loadBalancer, ['AwsSolutions-ELB2', 'AwsSolutions-EC23']);
    aside(smoke, ['AwsSolutions-L1', 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]']);
    Validations.of(f.app).addPlugins(new AwsSolutionsChecks(f.app));
    expect(() => f.app.synth()).not.toThrow();
  });

  test('the lock (and the execution) lives long enough for every hook to use its whole timeout', () => {
    const without = network();
    const plain = rollout(without, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(5) }) });
    const f = network();
    const hooked = rollout(f, {
      strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(5) }),
      preTrafficHooks: [hook(f, 'A'), hook(f, 'B')], postTrafficHooks: [hook(f, 'C')], hookTimeout: Duration.minutes(15),
    });
    expect(hooked.plan.lockTtlSeconds - plain.plan.lockTtlSeconds).toBe(3 * 15 * 60);
    expect(hooked.plan.hookSeconds).toBe(3 * 15 * 60);
  });
});
