import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FLAGS_JSON_SCHEMA, FlagsDocument } from '../../lambda/flags';
import { FeatureFlags, FeatureFlagsProps } from '../../lib/flags/feature-flags';
import { FlagDeployment } from '../../lib/flags/flag-deployment';
import { Color } from '../../lib/routing/color';
import { network, rollout, testApp } from '../constructs/fixtures';

const flags: FlagsDocument = {
  version: 1,
  flags: {
    'new-checkout': {
      enabled: true,
      default: false,
      rules: [{ segments: ['internal', 'beta'], serve: true }, { percent: 5, serve: true }],
    },
    'search-ranking': {
      enabled: true,
      variants: { classic: 'bm25', learned: 'ltr-v2' },
      default: 'classic',
      rules: [{ conditions: [{ attribute: 'plan', op: 'in', values: ['pro', 'team'] }], percent: 20, serve: 'learned' }],
    },
  },
};

function metricAlarm(stack: Stack, id: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(stack, id, {
    metric: new cloudwatch.Metric({ namespace: 'EverJust', metricName: id }),
    threshold: 1,
    evaluationPeriods: 1,
  });
}

function build(props: Partial<FeatureFlagsProps> = {}, app: App = testApp()) {
  const stack = new Stack(app, 'Service', { env: { region: 'us-east-1' } });
  const ff = new FeatureFlags(stack, 'Flags', { flags, ...props });
  return { app, stack, ff };
}

function only(template: Template, type: string): any {
  const found = Object.values(template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0];
}

describe('FeatureFlags', () => {
  test('stores the document as hosted JSON, validated by the flags JSON Schema and the validator Lambda, and deploys it to the environment', () => {
    const { stack, ff } = build({ applicationName: 'everjust', environmentName: 'production' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::AppConfig::Application', { Name: 'everjust' });
    t.hasResourceProperties('AWS::AppConfig::Environment', { Name: 'production', ApplicationId: { Ref: Match.stringLikeRegexp('^FlagsApplication') } });
    const profile = only(t, 'AWS::AppConfig::ConfigurationProfile');
    expect(profile.Properties).toMatchObject({ Name: 'flags', LocationUri: 'hosted', Type: 'AWS.Freeform' });
    expect(profile.Properties.Validators).toEqual([
      { Type: 'JSON_SCHEMA', Content: JSON.stringify(FLAGS_JSON_SCHEMA) },
      { Type: 'LAMBDA', Content: { 'Fn::GetAtt': [stack.getLogicalId(ff.validator.node.defaultChild as lambda.CfnFunction), 'Arn'] } },
    ]);
    // AppConfig may invoke the validator (and only AppConfig, by this permission).
    t.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', Principal: 'appconfig.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [stack.getLogicalId(ff.validator.node.defaultChild as lambda.CfnFunction), 'Arn'] },
    });

    const version = only(t, 'AWS::AppConfig::HostedConfigurationVersion');
    expect(version.Properties.ContentType).toBe('application/json');
    expect(JSON.parse(version.Properties.Content)).toEqual(flags);
    expect(version.Properties.VersionLabel).toMatch(/^sha256-[0-9a-f]{16}$/);

    const [[versionId]] = Object.entries(t.findResources('AWS::AppConfig::HostedConfigurationVersion'));
    const deployment = only(t, 'AWS::AppConfig::Deployment');
    expect(deployment.Properties).toEqual(expect.objectContaining({
      ApplicationId: { Ref: expect.stringMatching(/^FlagsApplication/) },
      EnvironmentId: { Ref: expect.stringMatching(/^FlagsEnvironment/) },
      ConfigurationProfileId: { Ref: expect.stringMatching(/^FlagsConfigurationProfile/) },
      ConfigurationVersion: { Ref: versionId },
      DeploymentStrategyId: { Ref: expect.stringMatching(/^FlagsDeploymentStrategy/) },
    }));
  });

  test('a new version of the flags gets a new version label', () => {
    const label = (doc: FlagsDocument) => only(Template.fromStack(build({ flags: doc }).stack), 'AWS::AppConfig::HostedConfigurationVersion').Properties.VersionLabel;
    const changed: FlagsDocument = { ...flags, flags: { ...flags.flags, 'new-checkout': { enabled: false, default: false } } };
    expect(label(changed)).not.toBe(label(flags));
    expect(label(flags)).toBe(label(flags));
  });

  test('rolls back on the rollout\'s health alarms: one monitor, a composite that is ALARM when one of them is', () => {
    const f = network();
    const r = rollout(f);
    const ff = new FeatureFlags(f.stack, 'Flags', { flags, rollbackAlarms: r.alarms });
    const t = Template.fromStack(f.stack);
    const env = only(t, 'AWS::AppConfig::Environment');
    const roleArn = { 'Fn::GetAtt': [f.stack.getLogicalId(ff.monitorRole!.node.defaultChild as iam.CfnRole), 'Arn'] };
    const logicalId = (c: cloudwatch.CompositeAlarm) => f.stack.getLogicalId(c.node.defaultChild as cloudwatch.CfnCompositeAlarm);
    expect(env.Properties.Monitors).toEqual([{ AlarmArn: { 'Fn::GetAtt': [logicalId(ff.rollbackAlarm!), 'Arn'] }, AlarmRoleArn: roleArn }]);
    // ALARM(...) terms only: the children's INSUFFICIENT_DATA (AppConfig rolls back on it) makes the composite OK.
    const rule = JSON.stringify(f.stack.resolve((ff.rollbackAlarm!.node.defaultChild as cloudwatch.CfnCompositeAlarm).alarmRule));
    for (const composite of [r.healthAlarmsOf(Color.BLUE)!.composite, r.healthAlarmsOf(Color.GREEN)!.composite]) expect(rule).toContain(`ALARM(\\"",{"Fn::GetAtt":["${logicalId(composite)}","Arn"]}`);
    expect(rule).not.toMatch(/INSUFFICIENT_DATA|OK\(/);
    // AppConfig assumes the role; CloudWatch returns composite alarms only to DescribeAlarms on "*", nothing else is allowed.
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'appconfig.amazonaws.com' } })] },
      Description: Match.stringLikeRegexp('AppConfig read the rollback alarms'),
    });
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((role: any) => role.Ref === roleArn['Fn::GetAtt'][0]))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'cloudwatch:DescribeAlarms', Effect: 'Allow', Resource: '*' }]);
  });

  test('metric rollback alarms are watched through the composite too: their missing data never rolls back', () => {
    const app = testApp();
    const stack = new Stack(app, 'Service');
    const alarms = [metricAlarm(stack, 'Errors'), metricAlarm(stack, 'Latency')];
    const ff = new FeatureFlags(stack, 'Flags', { flags, rollbackAlarms: alarms });
    const t = Template.fromStack(stack);
    const composite = stack.getLogicalId(ff.rollbackAlarm!.node.defaultChild as cloudwatch.CfnCompositeAlarm);
    expect(only(t, 'AWS::AppConfig::Environment').Properties.Monitors).toEqual([expect.objectContaining({ AlarmArn: { 'Fn::GetAtt': [composite, 'Arn'] } })]);
    // Actions enabled: AppConfig does not roll back on an alarm whose actions are disabled.
    t.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', { ActionsEnabled: Match.absent() });
  });

  test('without rollbackAlarms there are no monitors and no role', () => {
    const { stack, ff } = build();
    const t = Template.fromStack(stack);
    expect(only(t, 'AWS::AppConfig::Environment').Properties.Monitors).toBeUndefined();
    // The only role is the validator Lambda's: none for AppConfig.
    expect(Object.values(t.findResources('AWS::IAM::Role')).map((r: any) => r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service))
      .toEqual(['lambda.amazonaws.com']);
    expect(ff.monitorRole).toBeUndefined();
  });

  test.each<[string, FlagDeployment | undefined, Record<string, unknown>]>([
    ['by default, AppConfig\'s recommended canary (10%, doubling, 20 minutes, 10-minute bake)', undefined,
      { GrowthType: 'EXPONENTIAL', GrowthFactor: 10, DeploymentDurationInMinutes: 20, FinalBakeTimeInMinutes: 10 }],
    ['allAtOnce', FlagDeployment.allAtOnce(),
      { GrowthType: 'LINEAR', GrowthFactor: 100, DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 10 }],
    ['allAtOnce with a bake', FlagDeployment.allAtOnce({ finalBake: Duration.minutes(30) }),
      { GrowthType: 'LINEAR', GrowthFactor: 100, DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 30 }],
    ['linear 20% every 6 minutes', FlagDeployment.linear({ stepPercent: 20, stepInterval: Duration.minutes(6), finalBake: Duration.minutes(15) }),
      { GrowthType: 'LINEAR', GrowthFactor: 20, DeploymentDurationInMinutes: 30, FinalBakeTimeInMinutes: 15 }],
    ['linear 30% every 2 minutes (4 steps)', FlagDeployment.linear({ stepPercent: 30, stepInterval: Duration.minutes(2) }),
      { GrowthType: 'LINEAR', GrowthFactor: 30, DeploymentDurationInMinutes: 8, FinalBakeTimeInMinutes: 10 }],
    ['exponential 5% over an hour without bake', FlagDeployment.exponential({ initialPercent: 5, duration: Duration.hours(1), finalBake: Duration.minutes(0) }),
      { GrowthType: 'EXPONENTIAL', GrowthFactor: 5, DeploymentDurationInMinutes: 60, FinalBakeTimeInMinutes: 0 }],
  ])('maps the deployment to an AppConfig strategy: %s', (_, deployment, expected) => {
    const { stack } = build({ deployment });
    const strategy = only(Template.fromStack(stack), 'AWS::AppConfig::DeploymentStrategy');
    expect(strategy.Properties).toMatchObject({ ...expected, ReplicateTo: 'NONE' });
  });

  test.each<[string, () => FlagDeployment, string]>([
    ['a step of 0%', () => FlagDeployment.linear({ stepPercent: 0, stepInterval: Duration.minutes(1) }),
      'Service/Flags: invalid deployment FlagDeployment.linear(): stepPercent must be an integer from 1 to 100, got 0'],
    ['a step interval in seconds', () => FlagDeployment.linear({ stepPercent: 10, stepInterval: Duration.seconds(90) }),
      'Service/Flags: invalid deployment FlagDeployment.linear(): stepInterval must be whole minutes from 1 to 1440 (24 hours), got 1 minute 30 seconds'],
    ['a deployment longer than a day', () => FlagDeployment.linear({ stepPercent: 1, stepInterval: Duration.minutes(15) }),
      'Service/Flags: invalid deployment FlagDeployment.linear(): 100 steps of 15 minutes last 1500 minutes, expected at most 1440 (24 hours)'],
    ['a bake longer than a day', () => FlagDeployment.allAtOnce({ finalBake: Duration.hours(25) }),
      'Service/Flags: invalid deployment FlagDeployment.allAtOnce(): finalBake must be whole minutes from 0 to 1440 (24 hours), got 1 day 1 hour'],
    ['an initial percent above 100', () => FlagDeployment.exponential({ initialPercent: 150, duration: Duration.days(2) }),
      'Service/Flags: invalid deployment FlagDeployment.exponential(): initialPercent must be an integer from 1 to 100, got 150; duration must be whole minutes from 0 to 1440 (24 hours), got 2 days'],
  ])('refuses %s at once, naming the construct path', (_, deployment, message) => {
    expect(() => build({ deployment: deployment() })).toThrow(message);
  });

  test('grantRead allows reading this environment\'s flags profile only', () => {
    const { stack, ff } = build();
    const reader = new iam.Role(stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    ff.grantRead(reader);
    const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}`)) });
    const [policy] = (Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => p.Properties.Roles.some((r: any) => /^App/.test(r.Ref)));
    expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^App/) }]);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{
      Action: ['appconfig:StartConfigurationSession', 'appconfig:GetLatestConfiguration'],
      Effect: 'Allow',
      Resource: {
        'Fn::Join': ['', [
          'arn:', { Ref: 'AWS::Partition' }, ':appconfig:us-east-1:', { Ref: 'AWS::AccountId' }, ':application/',
          ref('FlagsApplication'), '/environment/', ref('FlagsEnvironment'), '/configuration/', ref('FlagsConfigurationProfile'),
        ]],
      },
    }]);
  });

  test('exposes the ids and the Lambda extension path an application needs', () => {
    const { stack, ff } = build();
    const resolve = (v: string) => JSON.stringify(stack.resolve(v));
    expect(resolve(ff.applicationId)).toMatch(/"Ref":"FlagsApplication/);
    expect(resolve(ff.environmentId)).toMatch(/"Ref":"FlagsEnvironment/);
    expect(resolve(ff.configurationProfileId)).toMatch(/"Ref":"FlagsConfigurationProfile/);
    expect(resolve(ff.extensionPath)).toMatch(/^\{"Fn::Join":\["",\["\/applications\/",\{"Ref":"FlagsApplication\w+"\},"\/environments\/",\{"Ref":"FlagsEnvironment\w+"\},"\/configurations\/",\{"Ref":"FlagsConfigurationProfile\w+"\}\]\]\}$/);
  });

  test('fails at synth with every problem of the flags document and the construct path', () => {
    const bad = {
      version: 1,
      flags: {
        checkout: { enabled: true, default: false, rules: [{ segments: ['beta'], serve: true }, { segments: ['x'], serve: true }, { percent: 140, serve: true }] },
        theme: { enabled: true, variants: { a: 1 }, default: 'b' },
      },
    } as unknown as FlagsDocument;
    const { app } = build({ flags: bad });
    let message = '';
    try {
      app.synth();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('[Service/Flags] prop flags is not a valid flags document: flags.checkout.rules[2].percent: expected a number 0..100 with at most 2 decimals, got 140');
    expect(message).toContain('[Service/Flags] prop flags is not a valid flags document: flags.theme.default: expected one of the variants "a", got "b"');
  });

  test.each<[string, Partial<FeatureFlagsProps>, RegExp]>([
    ['applicationName', { applicationName: 'x'.repeat(65) }, /\[Service\/Flags\] applicationName must be 1-64 characters, got "x{65}"/],
    ['environmentName', { environmentName: '' }, /\[Service\/Flags\] environmentName must be 1-64 characters, got ""/],
    ['description', { description: 'd'.repeat(1025) }, /\[Service\/Flags\] description must be at most 1024 characters, got 1025/],
  ])('fails at synth on a bad %s', (_, props, message) => {
    const { app } = build(props);
    expect(() => app.synth()).toThrow(message);
  });

  test('more rollback alarms than AppConfig\'s 5 monitors are fine: AppConfig watches one composite of them', () => {
    const app = testApp();
    const stack = new Stack(app, 'Service');
    const rollbackAlarms = [1, 2, 3, 4, 5, 6].map((i) => metricAlarm(stack, `Alarm${i}`));
    new FeatureFlags(stack, 'Flags', { flags, rollbackAlarms });
    expect(only(Template.fromStack(stack), 'AWS::AppConfig::Environment').Properties.Monitors).toHaveLength(1);
  });
});

describe('FeatureFlags and cdk-nag (AwsSolutions)', () => {
  function nagged() {
    const app = new App({ builtinCloudFormationValidation: false });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Service');
    return { app, stack };
  }

  test('a stack holding the construct, its composite rollback alarm and a reader has no unacknowledged finding', () => {
    const { app, stack } = nagged();
    const errors = metricAlarm(stack, 'Errors');
    const health = new cloudwatch.CompositeAlarm(stack, 'Health', { alarmRule: cloudwatch.AlarmRule.anyOf(errors) });
    const ff = new FeatureFlags(stack, 'Flags', { flags, rollbackAlarms: [health, errors], deployment: FlagDeployment.allAtOnce() });
    ff.grantRead(new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    expect(() => app.synth()).not.toThrow();
  });

  test('the same check reports a finding that nobody acknowledged (control)', () => {
    const { app, stack } = nagged();
    new FeatureFlags(stack, 'Flags', { flags });
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: ['*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5/);
  });
});
