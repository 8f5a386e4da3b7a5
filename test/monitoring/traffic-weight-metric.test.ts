import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CONFIG_ENV, METRIC_NAMESPACE } from '../../lambda/shared/contracts';
import { Color } from '../../lib';
import { network, parseWithTokens, rollout } from '../constructs/fixtures';

/** The ZDT_CONFIG a handler function receives, with its tokens as placeholders. */
function configOf(stack: Stack, fn: lambda.IFunction): any {
  return parseWithTokens(stack.resolve((Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)])
    .Properties.Environment.Variables[CONFIG_ENV]));
}

/** The policy statements of a function's role, over all its policies. */
function statementsOf(stack: Stack, fn: lambda.IFunction): any[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as any);
  return Object.values<any>(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('ProgressiveRollout traffic weight metric', () => {
  test('asks the router and the guard to publish the weights under the service name', () => {
    const f = network();
    const r = rollout(f);
    expect(configOf(f.stack, r.routerFunction).metrics).toEqual({ service: 'web' });
    expect(configOf(f.stack, r.guardFunction).router.metrics).toEqual({ service: 'web' });
  });

  test('lets the router and the guard put metrics in the library namespace only', () => {
    const f = network();
    const r = rollout(f);
    for (const fn of [r.routerFunction, r.guardFunction]) {
      expect(statementsOf(f.stack, fn)).toContainEqual({
        Action: 'cloudwatch:PutMetricData',
        Effect: 'Allow',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': 'CdkZeroDowntime' } },
      });
    }
    expect(statementsOf(f.stack, r.judgeFunction).filter((s) => s.Action === 'cloudwatch:PutMetricData')).toEqual([]);
  });

  test('metricTrafficWeight is the metric the router publishes, per color', () => {
    const f = network();
    const r = rollout(f);
    const metric = r.metricTrafficWeight(Color.GREEN);
    expect(metric.namespace).toBe(METRIC_NAMESPACE);
    expect(metric.metricName).toBe('TrafficWeight');
    expect(metric.dimensions).toEqual({ Service: 'web', Color: 'green' });
    expect(metric.statistic).toBe('Maximum');
    expect(metric.period.toSeconds()).toBe(60);
    const custom = r.metricTrafficWeight(Color.BLUE, { period: Duration.minutes(5), statistic: 'Average' });
    expect(custom.dimensions).toEqual({ Service: 'web', Color: 'blue' });
    expect(custom.period.toSeconds()).toBe(300);
    expect(custom.statistic).toBe('Average');
  });

  test('the state machine counts rollbacks in the same namespace', () => {
    const f = network();
    const r = rollout(f);
    expect(r.metricRollbacks().namespace).toBe(METRIC_NAMESPACE);
    Template.fromStack(f.stack).hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp(`"Namespace":"${METRIC_NAMESPACE}"`)])]) }),
    });
  });
});
