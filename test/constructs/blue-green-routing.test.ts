import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { BlueGreenRouting, Color } from '../../lib';
import { network, routing } from './fixtures';

describe('BlueGreenRouting', () => {
  test('creates a target group per color with draining and slow start', () => {
    const f = network();
    routing(f, { deregistrationDelay: Duration.seconds(45), slowStart: Duration.seconds(60), targetPort: 8080 });
    const t = Template.fromStack(f.stack);
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 2);
    t.allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      TargetType: 'ip',
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '45' },
        { Key: 'slow_start.duration_seconds', Value: '60' },
      ]),
    });
  });

  test('the production route is a custom resource, not a CloudFormation-owned weighted forward', () => {
    const f = network();
    const r = routing(f, { initialColor: Color.GREEN, stickiness: Duration.minutes(5), priority: 100 });
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('Custom::ZdtLiveRoute', {
      ListenerArn: { Ref: Match.stringLikeRegexp('LbHttp') },
      Priority: '100',
      InitialColor: 'green',
      StickinessSeconds: '300',
      BlueTargetGroupArn: { Ref: Match.stringLikeRegexp('RoutingBlueTargetGroup') },
      GreenTargetGroupArn: { Ref: Match.stringLikeRegexp('RoutingGreenTargetGroup') },
      Conditions: Match.serializedJson([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }]),
    });
    // Nothing CloudFormation owns forwards to both colors: a deploy has no weights to write back.
    const rules = t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule');
    for (const rule of Object.values<any>(rules)) {
      for (const action of rule.Properties.Actions) {
        expect(action.ForwardConfig?.TargetGroups?.length ?? 1).toBeLessThan(2);
      }
    }
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [Match.objectLike({ Type: 'fixed-response' })],
    });
    expect(r.segmentRulePriority).toBe(99);
  });

  test('adds header test routes that reach each color before production traffic moves', () => {
    const f = network();
    routing(f, { priority: 200 });
    const t = Template.fromStack(f.stack);
    for (const [color, priority] of [['blue', 197], ['green', 198]] as const) {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: priority,
        Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'x-zdt-color', Values: [color] } }],
        Actions: [Match.objectLike({ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp(`Routing${color === 'blue' ? 'Blue' : 'Green'}TargetGroup`) } })],
      });
    }
  });

  test('can turn the test route off', () => {
    const f = network();
    routing(f, { testRoute: { enabled: false } });
    Template.fromStack(f.stack).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
  });

  test('scopes the live-route handler to this listener and its rules', () => {
    const f = network();
    routing(f);
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetHealth'],
            Resource: '*',
          }),
          Match.objectLike({ Action: 'elasticloadbalancing:CreateRule', Resource: { Ref: Match.stringLikeRegexp('LbHttp') } }),
          Match.objectLike({
            Action: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:SetRulePriorities',
              'elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([':listener-rule/', '/*'])] },
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('ZdtLiveRouteProviderOnEventRole') }],
    });
  });

  test('shares one custom-resource provider per stack', () => {
    const f = network();
    routing(f);
    const admin = f.loadBalancer.addListener('Admin', { port: 8080, open: false, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    new BlueGreenRouting(f.stack, 'AdminRouting', { vpc: f.vpc, loadBalancer: f.loadBalancer, listener: admin });
    const t = Template.fromStack(f.stack);
    t.resourceCountIs('Custom::ZdtLiveRoute', 2);
    const handlers = Object.values<any>(t.findResources('AWS::Lambda::Function'))
      .filter((r) => r.Metadata?.['cdk-zero-downtime:handler'] === 'live-route');
    expect(handlers).toHaveLength(1);
  });
});
