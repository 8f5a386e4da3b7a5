import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createEverJust, EVERJUST_DATABASE_SECRET_NAME } from '../../bin/everjust';
import { addEverJustData } from '../../bin/everjust-data';

describe('the EverJust example app', () => {
  test('synthesizes offline with cdk-nag AwsSolutions and the built-in CloudFormation validator, with no unacknowledged finding', () => {
    const app = new App();
    const pair = createEverJust(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['EverJust-blue', 'EverJust-green', 'EverJust-router']);
    expect(pair.greenStack.dependencies).toContain(pair.routerStack);
    Template.fromStack(pair.routerStack).hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'EverJust-rollouts' });
  });

  test('each color runs a Fargate service registered in its own target group', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const pair = createEverJust(app, { images: { green: 'public.ecr.aws/everjust/web:42' } });
    const green = Template.fromStack(pair.greenStack);
    green.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 2 });
    green.hasResourceProperties('AWS::ECS::TaskDefinition', {
      // The color stack tells the service its service and color, for the release signal it emits (ReleaseMetrics).
      ContainerDefinitions: [Match.objectLike({ Image: 'public.ecr.aws/everjust/web:42', Environment: Match.arrayWith([
        { Name: 'COLOR', Value: 'green' }, { Name: 'ZDT_RELEASE_SERVICE', Value: 'EverJust' }, { Name: 'ZDT_RELEASE_COLOR', Value: 'green' },
        { Name: 'ZDT_RELEASE_NAMESPACE', Value: 'ZeroDowntime/Release' },
      ]) })],
    });
    green.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [Match.objectLike({ TargetGroupArn: { 'Fn::ImportValue': Match.stringLikeRegexp('RoutingGreenTargetGroup') } })],
    });
  });
});

describe('the EverJust example app: validation gates and notifications', () => {
  test('checks its endpoints and its database before traffic moves, and tells Slack, email, on-call and the status page', () => {
    const app = new App({ builtinCloudFormationValidation: false });
    const pair = createEverJust(app);
    const data = addEverJustData(app, pair);
    const router = Template.fromStack(pair.routerStack);

    expect(pair.rollout.preTrafficGates.map((g) => g.name)).toEqual(['HTTP check', 'Database check']);
    router.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('HTTP check of EverJust \\(3 endpoints') });
    router.hasResource('AWS::Lambda::Function', { Metadata: { 'cdk-zero-downtime:handler': 'database-gate' } });
    // The database admits the gate on its port; the gate reads the secret the data stack names.
    Template.fromStack(data.stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: { 'Fn::ImportValue': Match.stringLikeRegexp('RolloutPreTrafficGate2FunctionSecurityGroup') },
    });
    Template.fromStack(data.stack).hasResourceProperties('AWS::SecretsManager::Secret', { Name: EVERJUST_DATABASE_SECRET_NAME });
    router.resourceCountIs('AWS::Chatbot::SlackChannelConfiguration', 1);
    router.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'PATCH', InvocationEndpoint: Match.stringLikeRegexp('^https://api.statuspage.io/v1/pages/') });
    router.hasResourceProperties('AWS::Events::ApiDestination', { HttpMethod: 'POST', InvocationEndpoint: 'https://api.opsgenie.com/v2/alerts' });
  });
});
