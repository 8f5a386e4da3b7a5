import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  BlueGreenRouting, Color, ProgressiveRollout, RolloutAction, RolloutDashboard,
} from '../../lib';
import { handlerConfigOf, importedRollout, network, testApp } from './fixtures';

const ACCOUNT = '123456789012';
const LISTENER_ARN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const LB_ARN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:loadbalancer/app/shop/50dc6c495c0c9188`;
const LIVE_RULE_ARN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const tgArn = (color: string) => `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/shop-${color}/73e2d6bc24d8a06${color === 'blue' ? '7' : '8'}`;

/** A routing that another app built, as this app imports it. */
function importedRouting(stack: Stack, attrs: { priority?: number } = {}) {
  const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Lb', {
    loadBalancerArn: LB_ARN, securityGroupId: 'sg-0123456789abcdef0',
  });
  const listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Listener', {
    listenerArn: LISTENER_ARN, securityGroup: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'LbSg', {
      loadBalancerArn: LB_ARN, securityGroupId: 'sg-0123456789abcdef0',
    }).connections.securityGroups[0],
  });
  return BlueGreenRouting.fromBlueGreenRoutingAttributes(stack, 'Routing', {
    listener,
    loadBalancer,
    blueTargetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Blue', { targetGroupArn: tgArn('blue') }),
    greenTargetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Green', { targetGroupArn: tgArn('green') }),
    liveRuleArn: LIVE_RULE_ARN,
    priority: attrs.priority ?? 1000,
    initialColor: Color.GREEN,
    testRouteHeader: 'x-shop-color',
  });
}

describe('BlueGreenRouting.fromBlueGreenRoutingAttributes', () => {
  test('a rollout in another stack drives the imported routing: its listener, production rule, target groups and segment slot', () => {
    const stack = new Stack(testApp(), 'Rollouts', { env: { account: ACCOUNT, region: 'us-east-1' } });
    new ProgressiveRollout(stack, 'Rollout', { routing: importedRouting(stack), serviceName: 'shop' });
    const template = Template.fromStack(stack);
    const router = handlerConfigOf(template, 'router');
    expect(router).toMatchObject({
      listenerArn: LISTENER_ARN,
      liveRuleArn: LIVE_RULE_ARN,
      targetGroupArns: { blue: tgArn('blue'), green: tgArn('green') },
      segmentHeader: 'x-zdt-segment',
      segmentRulePriority: 999,
    });
    expect(handlerConfigOf(template, 'lock').initialLiveColor).toBe('green');
    // The health alarms read the imported target groups' metrics (dimension targetgroup/name/id, from the ARN).
    const alarms = Object.values<any>(template.findResources('AWS::CloudWatch::Alarm'));
    const dimensions = JSON.stringify(stack.resolve(alarms.map((a) => a.Properties)));
    expect(dimensions).toContain('targetgroup/shop-green/73e2d6bc24d8a068');
    expect(dimensions).toContain('app/shop/50dc6c495c0c9188');
  });

  test('refuses a priority that leaves no room for the rules before the production rule', () => {
    const stack = new Stack(testApp(), 'Rollouts');
    expect(() => importedRouting(stack, { priority: 3 })).toThrow(/Rollouts\/Routing: priority must be an integer from 4 to 50000 .*got 3/);
  });
});

describe('ProgressiveRollout.fromProgressiveRolloutAttributes', () => {
  test('a dashboard in another app shows the imported rollout\'s outcomes and traffic', () => {
    const f = network();
    const routing = new BlueGreenRouting(f.stack, 'Routing', { vpc: f.vpc, loadBalancer: f.loadBalancer, listener: f.listener });
    new RolloutDashboard(f.stack, 'Dashboard', { rollout: importedRollout(f.stack, 'shop'), routing });
    const body = JSON.stringify(f.stack.resolve(Template.fromStack(f.stack).findResources('AWS::CloudWatch::Dashboard')));
    expect(body).toContain('shop-rollout');
    expect(body).toMatch(/Rollbacks.{0,20}Service.{0,10}shop/);
    expect(body).toContain('TrafficWeight');
  });

  test('grants start and operate on the imported state machine and state table', () => {
    const stack = new Stack(testApp(), 'Ops');
    const rollout = importedRollout(stack, 'shop');
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    rollout.grantStartRollout(role);
    rollout.grantOperate(role);
    const statements = Object.values<any>(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p) => stack.resolve(p.Properties.PolicyDocument.Statement));
    const text = JSON.stringify(statements);
    expect(text).toContain('states:StartExecution');
    expect(text).toContain('states:SendTaskSuccess');
    expect(text).toContain(`arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:shop-rollout`);
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] }));
    expect(text).toContain(':table/zdt-rollouts');
  });

  test('a pipeline of another app starts the imported rollout with RolloutAction', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Delivery', { env: { account: ACCOUNT, region: 'us-east-1' } });
    const source = new codepipeline.Artifact('Source');
    const bucket = new s3.Bucket(stack, 'Releases', { versioned: true });
    new codepipeline.Pipeline(stack, 'Pipeline', {
      stages: [
        { stageName: 'Source', actions: [new actions.S3SourceAction({ actionName: 'Release', bucket, bucketKey: 'release.zip', output: source })] },
        { stageName: 'Release', actions: [new RolloutAction({ rollout: importedRollout(stack, 'shop'), targetColor: Color.GREEN })] },
      ],
    });
    const pipeline = Object.values<any>(Template.fromStack(stack).findResources('AWS::CodePipeline::Pipeline'))[0];
    const action = pipeline.Properties.Stages[1].Actions[0];
    expect(action.Configuration.StateMachineArn).toBe(`arn:aws:states:us-east-1:${ACCOUNT}:stateMachine:shop-rollout`);
    expect(JSON.parse(action.Configuration.Input).targetColor).toBe('green');
  });

  test('refuses a service name the rollout could not have, naming the attribute', () => {
    const stack = new Stack(testApp(), 'Ops');
    importedRollout(stack, 'shop web');
    expect(() => Template.fromStack(stack)).toThrow(/serviceName must match .*got "shop web"|serviceName.*"shop web"/);
  });
});
