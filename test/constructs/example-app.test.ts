import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createEverJust } from '../../bin/everjust';

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
