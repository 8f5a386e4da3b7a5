import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FlagRolloutConfig } from '../../lambda/flag-rollout/flag-rollout-contract';
import { handler } from '../../lambda/flag-rollout/flag-rollout-handler';
import { setClock } from '../../lambda/shared/clock';
import { CONFIG_ENV } from '../../lambda/shared/contracts';
import { FeatureFlags } from '../../lib/flags/feature-flags';
import { FlagRolloutPlan } from '../../lib/flags/flag-rollout-plan';
import { GuardedFlagRollout, GuardedFlagRolloutProps } from '../../lib/flags/guarded-flag-rollout';
import { AwsFakes } from '../../rehearsal/fakes';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const DOC = { version: 1, flags: { 'new-checkout': { enabled: true, default: false }, 'old': { enabled: false, default: false } } };

function build(props: Partial<GuardedFlagRolloutProps> = {}): { app: App; stack: Stack; rollout: () => GuardedFlagRollout } {
  const app = new App({ builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'S');
  const flags = new FeatureFlags(stack, 'Flags', { flags: DOC });
  return { app, stack, rollout: () => new GuardedFlagRollout(stack, 'Rollout', { flags, flagKey: 'new-checkout', serviceName: 'shop', ...props }) };
}

/** The definition string with its Fn::Join flattened (tokens as placeholders). */
function resolveJoin(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(join[0]);
}

describe('GuardedFlagRollout', () => {
  const { stack, rollout } = build();
  const created = rollout();
  const template = Template.fromStack(stack);

  test('deploys each phase with an immediate AppConfig strategy and runs the seed\'s default plan in a state machine', () => {
    template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', { DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 0, GrowthFactor: 100 });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    for (const state of ['Deploy Phase', 'Judge Phase', 'Roll Back Flag', 'Wait For Promote']) expect(definition).toContain(state);
    expect(created.planDescription).toEqual([
      'phase 1 (preparation): treatment for 0% of users, not judged',
      'phase 2 (canary): treatment for 5% of users, judged for 2 days, every 1 h',
      'phase 3 (early adopters): treatment for 15% of users, judged for 3 days, every 1 h',
      'phase 4 (half): treatment for 50% of users, judged for 7 days, every 1 h',
      'phase 5 (everyone): treatment for 100% of users, not judged',
    ]);
  });

  test('lets its handler write only this flags profile and deploy only to this environment with its own strategy', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'appconfig:StartDeployment', Resource: Match.arrayWith([Match.objectLike({ 'Fn::Join': Match.anyValue() })]) })]) },
    });
  });

  test('refuses a flag that is not in the document, is disabled, or a plan that does not end at 100%', () => {
    expect(() => build({ flagKey: 'nope' }).rollout()).toThrow(/flagKey "nope" is not a flag of S\/Flags/);
    expect(() => build({ flagKey: 'old' }).rollout()).toThrow(/is disabled/);
    expect(() => build({ plan: FlagRolloutPlan.percentage([{ percent: 5, duration: Duration.days(1) }, { percent: 50 }]) }).rollout())
      .toThrow(/S\/Rollout.*must end with a phase at 100%/);
    expect(() => build({ plan: FlagRolloutPlan.percentage([{ percent: 50, duration: Duration.days(1) }, { percent: 5, duration: Duration.days(1) }, { percent: 100 }]) }).rollout())
      .toThrow(/percent must not go down/);
    expect(() => build({ treatment: 'dark' }).rollout()).toThrow(/treatment must be "on"/);
  });

  test('a plan error names the construct path, the phase, the value given and what is allowed (thrown by the plan, not rewritten)', () => {
    expect(() => build({ plan: FlagRolloutPlan.percentage([{ percent: 150, duration: Duration.days(1) }, { percent: 100 }]) }).rollout())
      .toThrow('S/Rollout: plan phase 1 (150%) percent must be 0-100 with at most two decimals, got 150');
    expect(() => build({ plan: FlagRolloutPlan.percentage([{ percent: 5, duration: Duration.hours(1), judgeInterval: Duration.hours(2) }, { percent: 100 }]) }).rollout())
      .toThrow("S/Rollout: plan phase 1 (5%) judgeInterval must be at most the phase's duration (60 min), got 120 min");
    expect(() => build({ plan: FlagRolloutPlan.percentage([{ percent: 0 }, { percent: 100 }]) }).rollout())
      .toThrow(/^S\/Rollout: plan has no judged phase, got 0% \(0%, 0 min\), 100% \(100%, 0 min\): at least one phase must have a duration/);
    // Outside a construct (a person reading the plan), the plan names itself.
    expect(() => FlagRolloutPlan.percentage([]).describe()).toThrow(/^FlagRolloutPlan.percentage\(\): must have at least one phase, got none$/);
  });

  test('refuses a second GuardedFlagRollout of the same flag, naming both construct paths', () => {
    const { stack, rollout } = build();
    const first = rollout();
    expect(() => new GuardedFlagRollout(stack, 'Again', { flags: first.node.scope!.node.findChild('Flags') as FeatureFlags, flagKey: 'new-checkout', serviceName: 'shop' }))
      .toThrow('S/Again: flagKey "new-checkout" of S/Flags is already rolled out by the GuardedFlagRollout S/Rollout: one rollout at a time per flag');
  });

  test('takes the flag\'s lock before reading the flag, renews its lease each phase and releases it on every end', () => {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const definition = JSON.parse(resolveJoin(machine.Properties.DefinitionString));
    const states = definition.States;
    expect(definition.StartAt).toBe('Plan');
    expect(states.Plan.Next).toBe('Acquire Lock');
    expect(states['Acquire Lock'].Next).toBe('Read Flag');
    // What the flag was goes onto the lock's item (for the execution guard) before anything changes it.
    expect(states['Read Flag'].Next).toBe('Record Flag Before Rollout');
    expect(states['Record Flag Before Rollout'].Parameters).toMatchObject({
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#r0': 'flagRolloutOwner', '#r1': 'flagRolloutOriginalFlag', '#r2': 'flagRolloutBaseVersion', '#r3': 'flagRolloutControl' },
      ExpressionAttributeValues: {
        ':r0': { 'S.$': '$.plan.execution' }, ':r1': { 'S.$': '$.start.originalFlag' }, ':r2': { 'N.$': 'States.JsonToString($.start.baseVersion)' }, ':r3': { 'S.$': '$.start.control' },
      },
    });
    expect(states['Record Flag Before Rollout'].Catch[0].Next).toBe('Release Lock After Refusal');
    expect(states['Acquire Lock'].Catch[0].Next).toBe('Refused: Flag Locked');
    expect(states['Load Phase'].Next).toBe('Renew Lock');
    // Every end but a refused lock (not ours) and a lost one (another holds it now) goes through a release.
    const releases = Object.entries(states).filter(([, st]) => (st as { Resource?: string }).Resource?.includes('dynamodb:updateItem')
      && (st as { Parameters: { UpdateExpression: string } }).Parameters.UpdateExpression.includes('REMOVE #owner'));
    const ends = releases.map(([, st]) => (st as { Next: string }).Next).sort();
    expect(ends).toEqual(['Completed Event', 'Flag Rollback Failed', 'Flag Rolled Back', 'Refused']);
    for (const [, st] of releases) expect((st as { ConditionExpression?: string; Parameters: { ConditionExpression: string } }).Parameters.ConditionExpression).toBe('#owner = :owner');
    // The lease of a phase covers its duration and its pause: 2 days of canary, plus the deployments' retries.
    const canary = states.Plan.Parameters.phases[1];
    expect(canary.leaseSeconds).toBeGreaterThan(2 * 86_400);
    expect(canary.leaseSeconds).toBeLessThan(2 * 86_400 + 6 * 3600);
  });

  test('an execution that ends holding the lock runs the flag guard: rule on its ABORTED / TIMED_OUT / FAILED status, retry queue, gave-up alarm', () => {
    const guardLogicalId = stack.getLogicalId(created.guardFunction.node.defaultChild as never);
    const machineLogicalId = stack.getLogicalId(created.stateMachine.node.defaultChild as never);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('restores flag new-checkout when its guarded rollout'),
      Timeout: 120,
      Environment: { Variables: { ZDT_CONFIG: Match.anyValue() } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        'detail': { stateMachineArn: [{ Ref: machineLogicalId }], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [guardLogicalId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 } })],
    });
    // Lambda's two retries, then the retry queue it consumes, then the dead-letter queue and its alarm.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: guardLogicalId }, MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: guardLogicalId }, BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('guarded rollout execution of flag new-checkout .*may still serve on') });
    expect(created.guardGaveUpAlarm).toBeDefined();
    // Its config: the flag rollout's (the same restore code), the flag's lock, the service.
    const fn = template.findResources('AWS::Lambda::Function')[guardLogicalId];
    const config = resolveJoin(fn.Properties.Environment.Variables.ZDT_CONFIG);
    expect(config).toContain('"flagKey":"new-checkout"');
    expect(config).toContain('"service":"flag/TOKEN/TOKEN/new-checkout"');
    expect(config).toContain('"service":"shop"');
    // It restores with AppConfig and frees the lock: the same AppConfig actions as the handler, the lock table's item.
    const policies = JSON.stringify(Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(stack.getLogicalId((created.guardFunction as never as { role: { node: { defaultChild: never } } }).role.node.defaultChild))));
    for (const action of ['appconfig:StartDeployment', 'appconfig:CreateHostedConfigurationVersion', 'appconfig:GetDeployment', 'dynamodb:UpdateItem', 'events:PutEvents', 'cloudwatch:PutMetricData']) {
      expect(policies).toContain(action);
    }
    expect(stack.resolve(created.metricGuardFailures().dimensions)).toEqual({ Service: 'shop', Flag: 'new-checkout' });
  });

  test('a segment plan moves through internal, beta and premium, 15 minutes each, then everyone', () => {
    expect(FlagRolloutPlan.segments().describe()).toEqual([
      'phase 1 (internal): treatment for segments internal, judged for 15 min, every 1 min',
      'phase 2 (beta): treatment for segments internal, beta, judged for 15 min, every 1 min',
      'phase 3 (premium): treatment for segments internal, beta, premium, judged for 15 min, every 1 min',
      'phase 4 (everyone): treatment for 100% of users, not judged',
    ]);
  });
});

describe('the flag-rollout handler against the AppConfig fake', () => {
  const clock = new VirtualClock();
  let restore: () => void;
  let aws: AwsFakes;
  let config: FlagRolloutConfig;
  beforeAll(() => {
    restore = setClock(clock);
    aws = new AwsFakes({ clock }).install();
    const app = aws.appconfig.createApplication('a');
    const env = aws.appconfig.createEnvironment(app);
    const profile = aws.appconfig.createConfigurationProfile(app, 'flags');
    const slow = aws.appconfig.createDeploymentStrategy({ deploymentDurationInMinutes: 20, finalBakeTimeInMinutes: 10, growthFactor: 10 });
    const immediate = aws.appconfig.createDeploymentStrategy({ deploymentDurationInMinutes: 0, finalBakeTimeInMinutes: 0, growthFactor: 100 });
    const v = aws.appconfig.createHostedConfigurationVersion({ ApplicationId: app, ConfigurationProfileId: profile, Content: Buffer.from(JSON.stringify(DOC)), ContentType: 'application/json' });
    aws.appconfig.startDeployment({ ApplicationId: app, EnvironmentId: env, ConfigurationProfileId: profile, ConfigurationVersion: String(v.VersionNumber), DeploymentStrategyId: immediate });
    config = {
      applicationId: app, environmentId: env, configurationProfileId: profile, configurationProfileName: 'flags', deploymentStrategyId: immediate,
      flagKey: 'new-checkout', treatment: 'on',
      analysis: { namespace: 'N', service: 'shop', errorRateFactor: 2, alphaPerTest: 0.001, minRequests: 100, latencyMinRequests: 1000, metricDelaySeconds: 120, propagationSeconds: 60 },
    };
    process.env[CONFIG_ENV] = JSON.stringify(config);
    // Someone else's deployment with AppConfig's canary strategy is in progress on the environment.
    const other = aws.appconfig.createHostedConfigurationVersion({ ApplicationId: app, ConfigurationProfileId: profile, Content: Buffer.from(JSON.stringify(DOC)), ContentType: 'application/json' });
    aws.appconfig.startDeployment({ ApplicationId: app, EnvironmentId: env, ConfigurationProfileId: profile, ConfigurationVersion: String(other.VersionNumber), DeploymentStrategyId: slow });
  });
  afterAll(() => { aws.restore(); restore(); delete process.env[CONFIG_ENV]; });

  const phase = { number: 2, name: 'canary', percent: 5, durationSeconds: 3600, intervalSeconds: 60, judge: true, pause: false };

  test('a phase started while AppConfig deploys something else fails with the retryable conflict error, then deploys once the environment is free', async () => {
    await expect(handler({ action: 'setPhase', phase })).rejects.toMatchObject({ name: 'ZdtFlagDeploymentConflict' });
    clock.advance(31 * 60_000);
    const out = await handler({ action: 'setPhase', phase }) as { changed: boolean; deploymentNumber: number };
    expect(out.changed).toBe(true);
    await expect(handler({ action: 'checkDeployment', deployment: out })).resolves.toEqual({ state: 'COMPLETE' });
    // Re-run (a retried task): the deployed document already is this phase's, nothing is written.
    await expect(handler({ action: 'setPhase', phase })).resolves.toMatchObject({ changed: false });
  });

  test('the rollback puts the flag\'s definition from before the rollout back', async () => {
    const start = await handler({ action: 'start' }) as { originalFlag: string };
    const original = { ...start, originalFlag: JSON.stringify(DOC.flags['new-checkout']) };
    const out = await handler({ action: 'rollback', original }) as { changed: boolean };
    expect(out.changed).toBe(true);
    const content = aws.appconfig.deployedContent(config.applicationId, config.environmentId, config.configurationProfileId)!;
    expect(JSON.parse(content).flags['new-checkout']).toEqual(DOC.flags['new-checkout']);
  });
});
