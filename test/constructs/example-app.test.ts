import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addEverJustData } from '../../bin/everjust-data';
import { createEverJust } from '../../bin/everjust';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { RolloutPipelineStep } from '../../lib/pipeline/rollout-step';

/**
 * The example app as `cdk synth` builds it (bin/app.ts: the pair and its data stack), plus a CDK Pipelines step
 * releasing its rollout, synthesized ONCE with cdk-nag AwsSolutions and aws-cdk-lib's built-in CloudFormation
 * validator for every test that asks for "no unacknowledged finding" / "valid CloudFormation" of the example app
 * (they were one synth each in four test files: the validator alone sets up its engine in ~5 s of CPU per file).
 * cdk-nag acknowledgements are per construct, so the parts added here cannot hide a finding of the others.
 */
let nagged: { pair: ReturnType<typeof createEverJust>; data: ReturnType<typeof addEverJustData>; assembly?: CloudAssembly; error?: unknown } | undefined;
function naggedEverJust(): NonNullable<typeof nagged> {
  if (!nagged) {
    const app = new App();
    const pair = createEverJust(app);
    const data = addEverJustData(app, pair);
    new RolloutPipelineStep('Release', { rollout: pair.rollout });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    nagged = { pair, data };
    try {
      nagged.assembly = app.synth();
    } catch (error) {
      nagged.error = error;
    }
  }
  return nagged;
}

describe('the EverJust example app', () => {
  test('synthesizes offline with cdk-nag AwsSolutions and the built-in CloudFormation validator, with no unacknowledged finding', () => {
    const { pair, assembly, error } = naggedEverJust();
    expect(error).toBeUndefined();
    expect(assembly!.stacks.map((s) => s.stackName).sort()).toEqual(['EverJust-blue', 'EverJust-data', 'EverJust-green', 'EverJust-router']);
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

// Moved from test/database/example-data.test.ts (same behaviour, on the shared synth).
describe('the EverJust example data stack', () => {
  test('synthesizes with cdk-nag AwsSolutions and the built-in CloudFormation validator, with no unacknowledged finding', () => {
    const { pair, data, assembly, error } = naggedEverJust();
    expect(error).toBeUndefined();
    expect(assembly!.stacks.map((s) => s.stackName)).toContain('EverJust-data');
    expect(data.stack.dependencies).toContain(pair.routerStack);
  });
});

// Moved from test/flags/feature-flags.test.ts (same behaviour, on the shared synth).
describe('FeatureFlags in the EverJust example app', () => {
  test('rolls back on the rollout\'s alarms, with valid CloudFormation and no unacknowledged cdk-nag finding', () => {
    const { pair, error } = naggedEverJust();
    // The example app's own flags (bin/everjust.ts).
    const ff = pair.routerStack.node.findChild('Flags') as FeatureFlags;
    expect(ff).toBeInstanceOf(FeatureFlags);
    expect(Object.keys(ff.document.flags)).toEqual(['new-checkout', 'search-ranking']);
    expect(error).toBeUndefined();
    const environments = Object.values(Template.fromStack(pair.routerStack).findResources('AWS::AppConfig::Environment'));
    expect(environments).toHaveLength(1);
    expect((environments[0] as any).Properties.Monitors).toHaveLength(1);
    expect(ff.monitorRole).toBeDefined();
    expect(ff.rollbackAlarm).toBeDefined();
  });
});

// Moved from test/pipeline/rollout-step.test.ts (same behaviour, on the shared synth).
describe('RolloutPipelineStep (CDK Pipelines) and cdk-nag', () => {
  test('keeps the rollout\'s stack cdk-nag clean (AwsSolutions)', () => {
    const { pair, error } = naggedEverJust();
    expect(error).toBeUndefined();
    expect(Template.fromStack(pair.routerStack).findResources('AWS::IAM::Role', { Properties: { Description: 'Lets the pipeline step Release start and watch the rollouts of EverJust' } }))
      .not.toEqual({});
  });
});
