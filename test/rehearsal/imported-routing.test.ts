import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ProgressiveRollout } from '../../lib/rollout/progressive-rollout';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { BlueGreenRouting } from '../../lib/routing/blue-green-routing';
import { rehearse } from '../../rehearsal/rehearse';

const PREFIX = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:';
const LOAD_BALANCER_ARN = `${PREFIX}loadbalancer/app/shared-alb/50dc6c495c0c9188`;
const LISTENER_ARN = `${PREFIX}listener/app/shared-alb/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const LIVE_RULE_ARN = `${PREFIX}listener-rule/app/shared-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const BLUE_ARN = `${PREFIX}targetgroup/web-blue/73e2d6bc24d8a067`;
const GREEN_ARN = `${PREFIX}targetgroup/web-green/2453ed029918f21f`;

/**
 * A rollout in one app driving the routing another app built: listener, target groups and production rule imported
 * by ARN with BlueGreenRouting.fromBlueGreenRoutingAttributes(). Nothing of the routing is in the rehearsed template.
 */
function importedRoutingStack(): Stack {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Service', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-1', 'subnet-2'] });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'AlbSg', 'sg-0123456789abcdef0');
  const routing = BlueGreenRouting.fromBlueGreenRoutingAttributes(stack, 'Routing', {
    loadBalancer: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Lb', { loadBalancerArn: LOAD_BALANCER_ARN, securityGroupId: 'sg-0123456789abcdef0', vpc }),
    listener: elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', { listenerArn: LISTENER_ARN, securityGroup }),
    blueTargetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Blue', { targetGroupArn: BLUE_ARN }),
    greenTargetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Green', { targetGroupArn: GREEN_ARN }),
    liveRuleArn: LIVE_RULE_ARN,
    priority: 40,
  });
  new ProgressiveRollout(stack, 'Rollout', { routing, serviceName: 'web', strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(2) }) });
  return stack;
}

describe('rehearse() with a routing imported from another app', () => {
  test('creates the imported target groups and production rule in the fake ALB under their ARNs and releases a healthy rollout on them', async () => {
    const result = await rehearse(importedRoutingStack(), {
      inspect: (world) => {
        expect(world.liveRoute).toMatchObject({ imported: true, ruleArn: LIVE_RULE_ARN, listenerArn: LISTENER_ARN, targetGroupArns: { blue: BLUE_ARN, green: GREEN_ARN } });
        // The router moved the weights of the imported rule, on the imported target groups.
        const forward = world.aws.alb.describeRules({ RuleArns: [LIVE_RULE_ARN] }).Rules![0].Actions![0].ForwardConfig!.TargetGroups!;
        expect(Object.fromEntries(forward.map((tg) => [tg.TargetGroupArn, tg.Weight]))).toEqual({ [BLUE_ARN]: 0, [GREEN_ARN]: 100 });
      },
    });
    expect(result.summary.outcome).toBe('RELEASED');
    expect(result.summary.finalWeights).toEqual({ blue: 0, green: 100 });
  });
});
