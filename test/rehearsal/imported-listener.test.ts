import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ProgressiveRollout } from '../../lib/rollout/progressive-rollout';
import { BlueGreenRouting } from '../../lib/routing/blue-green-routing';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { Duration } from 'aws-cdk-lib';
import { rehearse } from '../../rehearsal/rehearse';

const LOAD_BALANCER_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/shared-alb/50dc6c495c0c9188';
const LISTENER_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';

/** A service whose load balancer and listener belong to another team's stack: imported by ARN, as the README allows. */
function importedListenerStack(): Stack {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Service', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-1', 'subnet-2'] });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'AlbSg', 'sg-0123456789abcdef0');
  const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Lb', {
    loadBalancerArn: LOAD_BALANCER_ARN, securityGroupId: 'sg-0123456789abcdef0', vpc,
  });
  const listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', { listenerArn: LISTENER_ARN, securityGroup });
  const routing = new BlueGreenRouting(stack, 'Routing', { vpc, loadBalancer, listener, priority: 40 });
  new ProgressiveRollout(stack, 'Rollout', { routing, serviceName: 'web', strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(2) }) });
  return stack;
}

describe('rehearse() with an imported load balancer and listener', () => {
  test('creates the imported listener in the fake ALB under its ARN and releases a healthy rollout', async () => {
    const result = await rehearse(importedListenerStack(), {
      inspect: (world) => {
        expect(world.liveRoute.listenerArn).toBe(LISTENER_ARN);
        expect(world.liveRoute.loadBalancerArn).toBe(LOAD_BALANCER_ARN);
      },
    });
    expect(result.summary.outcome).toBe('RELEASED');
    expect(result.summary.finalWeights).toEqual({ blue: 0, green: 100 });
  });

  test('a bad release behind an imported listener rolls back', async () => {
    const result = await rehearse(importedListenerStack(), { scenario: 'error-rate-regression' });
    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.finalWeights).toEqual({ blue: 100, green: 0 });
  });
});
