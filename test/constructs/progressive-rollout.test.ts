import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { BaselineDegradedAction, Color, InconclusiveAction, RolloutStrategy } from '../../lib';
import { withStrategy } from '../../rehearsal/simulation-target';
import { definitionOf, handlerConfigOf, network, rollout } from './fixtures';

describe('ProgressiveRollout', () => {
  test('can be created with default configuration: a Standard state machine, logged and traced', () => {
    const f = network();
    const r = rollout(f);
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
    expect(r.plan.steps.map((s) => s.percent)).toEqual([1, 5, 25, 50, 100]);
    t.allResourcesProperties('AWS::Lambda::Function', Match.objectLike({ Runtime: Match.stringLikeRegexp('^nodejs(2[2-9]|[3-9][0-9])') }));
  });

  test('renders the strategy into the plan the state machine iterates', () => {
    const f = network();
    rollout(f, { strategy: RolloutStrategy.linear({ stepPercent: 50, bake: Duration.minutes(3) }), judgeInterval: Duration.minutes(1) });
    const plan = definitionOf(f.stack).States.Plan.Parameters.plan;
    expect(plan.steps).toEqual([
      { number: 1, percent: 50, segments: [], bakeSeconds: 180, bakeIntervals: 3, pause: false },
      { number: 2, percent: 100, segments: [], bakeSeconds: 180, bakeIntervals: 3, pause: false },
    ]);
    expect(plan).toMatchObject({ service: 'web', stepCount: 2, judgeIntervalSeconds: 60, onInconclusive: 'ROLLBACK', maxJudgeErrors: 5, maxJudgeErrorsInWindow: 5, judgeErrorWindow: 10 });
  });

  test('rollback restores traffic before any event, lock release or failure', () => {
    const f = network();
    rollout(f);
    const states = definitionOf(f.stack).States;
    expect(states.Rollback.Next).toBe('Rolled Back Event');
    expect(states['Rolled Back Event'].Next).toBe('Rolled Back Notification');
    const entries = states['Rolled Back Event'].Parameters.Entries.map((e: any) => e.DetailType);
    expect(entries).toEqual(['Rollout Rollback Triggered', 'Rollout Rolled Back']);
    // Every trigger goes to the rollback first.
    for (const trigger of ['Step Failed', 'Regression Found', 'Inconclusive', 'Circuit Breaker Open', 'Aborted']) {
      expect(states[trigger].Next).toBe('Rollback');
    }
    expect(states['Rolled Back']).toMatchObject({ Type: 'Fail', Error: 'ZdtRolledBack' });
  });

  test('retries weight writes on throttling and verification mismatch, and catches into a rollback', () => {
    const f = network();
    rollout(f);
    const states = definitionOf(f.stack).States;
    expect(states['Shift Traffic'].Retry).toContainEqual(expect.objectContaining({
      ErrorEquals: ['ZdtRetryableError', 'ZdtWeightVerificationFailed'], MaxAttempts: 5, BackoffRate: 2,
    }));
    expect(states['Shift Traffic'].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Step Failed' }]);
    expect(states.Rollback.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: expect.arrayContaining(['ZdtRetryableError', 'ZdtWeightVerificationFailed']) }));
    expect(states.Rollback.Catch[0].Next).toBe('Rollback Failed Event');
  });

  test('judge errors feed a circuit breaker of maxConsecutiveJudgeErrors', () => {
    const f = network();
    rollout(f, { maxConsecutiveJudgeErrors: 3 });
    const states = definitionOf(f.stack).States;
    expect(states.Judge.Catch[0].Next).toBe('Count Judge Error');
    expect(states['Circuit Breaker'].Choices[0]).toMatchObject({ Variable: '$.judge.errors', NumericGreaterThanEquals: 3, Next: 'Circuit Breaker Open' });
  });

  test('judge errors also trip the circuit breaker on a rate: maxJudgeErrorsInWindow of the last judgeErrorWindow judgements', () => {
    const f = network();
    rollout(f, { maxJudgeErrorsInWindow: 3, judgeErrorWindow: 8 });
    const states = definitionOf(f.stack).States;
    expect(states.Plan.Parameters.judge).toEqual({ errors: 0, count: 0, e1: 0, e2: 0, e3: 0 });
    // An error shifts the window's slots and appends when it leaves the window: this judgement's count + 8.
    expect(states['Count Judge Error'].Parameters).toEqual({
      'errors.$': 'States.MathAdd($.judge.errors, 1)',
      'count.$': 'States.MathAdd($.judge.count, 1)',
      'e1.$': '$.judge.e2',
      'e2.$': '$.judge.e3',
      'e3.$': 'States.MathAdd($.judge.count, 9)',
    });
    expect(states['Reset Judge Errors'].Parameters).toMatchObject({ 'errors': 0, 'count.$': 'States.MathAdd($.judge.count, 1)', 'e1.$': '$.judge.e1' });
    expect(states['Circuit Breaker'].Choices[1]).toMatchObject({ Variable: '$.judge.e1', NumericGreaterThanPath: '$.judge.count', Next: 'Judge Error Rate Too High' });
    expect(definitionOf(f.stack).States.Plan.Parameters.plan).toMatchObject({ maxJudgeErrorsInWindow: 3, judgeErrorWindow: 8 });
  });

  test('INCONCLUSIVE follows the policy; PROCEED keeps the bake the judge returned (its count and its evidence)', () => {
    for (const [policy, next] of [[InconclusiveAction.ROLLBACK, 'Inconclusive'], [InconclusiveAction.PROCEED, 'Record Inconclusive Judgement'], [InconclusiveAction.PAUSE, 'Paused Event']] as const) {
      const f = network();
      rollout(f, { onInconclusive: policy });
      const states = definitionOf(f.stack).States;
      const choice = states.Verdict.Choices.find((c: any) => c.StringEquals === 'INCONCLUSIVE');
      expect(choice.Next).toBe(next);
      // Nothing rebuilds $.bake after Record Verdict: the judge counts an inconclusive judgement itself.
      const rebuilds = Object.entries<any>(states).filter(([name, s]) => s.ResultPath === '$.bake' && !['Record Verdict', 'Start Bake'].includes(name));
      expect(rebuilds.map(([name]) => name)).toEqual([]);
    }
  });

  test('manual pauses wait on a task token with a timeout that rolls back', () => {
    const f = network();
    rollout(f, { pauseTimeout: Duration.hours(2), strategy: RolloutStrategy.steps([{ percent: 10, pause: true }, { percent: 100 }]) });
    const states = definitionOf(f.stack).States;
    expect(states['Wait For Promote']).toMatchObject({
      Resource: expect.stringContaining('lambda:invoke.waitForTaskToken'),
      TimeoutSeconds: 7200,
      Parameters: { Payload: expect.objectContaining({ 'action': 'pause', 'taskToken.$': '$$.Task.Token' }) },
    });
    expect(states['Wait For Promote'].Catch[0].Next).toBe('Aborted');
  });

  test('the lock outlives the planned rollout, and the execution never outlives the lock', () => {
    const f = network();
    const r = rollout(f, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(10) }) });
    // 10 min bake + 1 judge interval + the step's wait for its own data (2 min metric delay + 1 min), x1.5, + 30 min slack,
    // + one degraded-baseline episode: the 15 min hold and the 24 h pause its policy (PAUSE) then makes, + the step's
    // longest bake extension (10 min, the sequential judge's default).
    const baselineEpisode = 900 + 86400 + 600;
    expect(r.plan.lockTtlSeconds).toBe(Math.ceil(840 * 1.5) + 1800 + baselineEpisode);
    const sf = network();
    const slower = rollout(sf, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(10) }), metricDelay: Duration.minutes(5) });
    expect(slower.plan.lockTtlSeconds).toBe(Math.ceil(1020 * 1.5) + 1800 + baselineEpisode);
    const rollingBack = rollout(network(), { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(10) }), onBaselineDegraded: BaselineDegradedAction.ROLLBACK });
    expect(rollingBack.plan.lockTtlSeconds).toBe(Math.ceil(840 * 1.5) + 1800 + 900 + 600);
    // The plan carries the delay, so a rehearsal's strategy override recomputes the same lifetime.
    expect(withStrategy(definitionOf(sf.stack), RolloutStrategy.allAtOnce({ bake: Duration.minutes(10) })).TimeoutSeconds).toBe(slower.plan.lockTtlSeconds);
    Template.fromStack(f.stack).hasResource('AWS::StepFunctions::StateMachine', {
      Properties: Match.objectLike({ DefinitionString: Match.anyValue() }),
    });
    const sm = Object.values<any>(Template.fromStack(f.stack).findResources('AWS::StepFunctions::StateMachine'))[0];
    const definition = JSON.stringify(sm.Properties.DefinitionString);
    expect(definition).toContain(`"TimeoutSeconds\\":${r.plan.lockTtlSeconds}`);
  });

  test('an execution that ends holding the lock (stopped, timed out, failed unexpectedly) triggers the guard', () => {
    const f = network();
    rollout(f);
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        'detail': { stateMachineArn: [{ Ref: Match.stringLikeRegexp('RolloutStateMachine') }], status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
      },
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutGuard'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutGuardDeadLetterQueue'), 'Arn'] } },
      })],
    });
  });

  test('a guard that fails keeps trying for the lock\'s lifetime, then lands in an alarmed dead-letter queue', () => {
    const f = network();
    const r = rollout(f);
    const t = Template.fromStack(f.stack);
    // Lambda's two retries, then the invocation record goes to the retry queue...
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('RolloutGuard') },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutGuardRetryQueue'), 'Arn'] } } },
    });
    // ...which the guard consumes, a failed try coming back every 12 minutes (6 x its 2-minute timeout)...
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: Match.stringLikeRegexp('RolloutGuard') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const queues = t.findResources('AWS::SQS::Queue');
    const retry = Object.entries<any>(queues).find(([id]) => id.includes('GuardRetryQueue'))![1];
    expect(retry.Properties.VisibilityTimeout).toBe(720);
    // ...as many times as fit in the lock's time to live, then the dead-letter queue.
    expect(retry.Properties.RedrivePolicy.maxReceiveCount).toBe(Math.ceil(r.plan.lockTtlSeconds / 720));
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutGuardDeadLetterQueue'), 'QueueName'] } }],
      Threshold: 1,
    });
    expect(r.guardGaveUpAlarm).toBeDefined();
    expect(f.stack.resolve(r.metricGuardFailures().metricName)).toBe('GuardFailures');
  });

  test('creates health alarms per color, combined into a composite the judge watches', () => {
    const f = network();
    rollout(f);
    const t = Template.fromStack(f.stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 11); // 5 per color, and the guard's gave-up alarm
    t.resourceCountIs('AWS::CloudWatch::CompositeAlarm', 2);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(rN >= 10, (100 * FILL(eN, 0) / rN), 0)' })]),
      Threshold: 5,
      TreatMissingData: 'notBreaching',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('- 2 \\* \\(100 \\* FILL\\(eS, 0\\) / FILL\\(rS, 1\\)\\)') })]),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 2 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UnHealthyHostCount', Threshold: 1 });
  });

  test('alarms added after construction reach the judge', () => {
    const f = network();
    const r = rollout(f, { healthAlarms: { enabled: false } });
    const late = new cloudwatch.Alarm(f.stack, 'Late', {
      metric: new cloudwatch.Metric({ namespace: 'EverJust', metricName: 'CheckoutErrors' }), threshold: 1, evaluationPeriods: 1,
    });
    r.addAlarm(late);
    const judge = Object.values<any>(Template.fromStack(f.stack).findResources('AWS::Lambda::Function'))
      .find((fn) => fn.Metadata?.['cdk-zero-downtime:handler'] === 'judge');
    expect(JSON.stringify(judge.Properties.Environment.Variables.ZDT_CONFIG)).toContain('"Ref":"Late');
  });

  test('tells the judge the metric delay: 2 minutes unless given', () => {
    const judgeConfig = (props: Parameters<typeof rollout>[1]) => {
      const f = network();
      rollout(f, props);
      return handlerConfigOf(Template.fromStack(f.stack), 'judge');
    };
    expect(judgeConfig({})).toMatchObject({ metricDelaySeconds: 120 });
    expect(judgeConfig({ metricDelay: Duration.seconds(0) })).toMatchObject({ metricDelaySeconds: 0 });
  });

  test('scopes IAM to the listener, its rules, the alarms and the state table', () => {
    const f = network();
    rollout(f);
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('RolloutRouterRole') }],
      PolicyDocument: { Statement: Match.arrayWith([
        Match.objectLike({ Action: 'elasticloadbalancing:CreateRule', Resource: { Ref: Match.stringLikeRegexp('LbHttp') } }),
        Match.objectLike({ Action: Match.arrayWith(['elasticloadbalancing:ModifyRule']), Resource: { 'Fn::Join': ['', Match.arrayWith([':listener-rule/'])] } }),
      ]) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([
        // Each color's unhealthy-hosts alarm: the only health alarm the sequential judge reads.
        Match.objectLike({ Action: 'cloudwatch:DescribeAlarms', Resource: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutBlueHealthUnhealthyHosts'), 'Arn'] },
          { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutGreenHealthUnhealthyHosts'), 'Arn'] },
        ] }),
      ]) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('RolloutLockRole') }],
      PolicyDocument: { Statement: Match.arrayWith([
        Match.objectLike({ Action: ['dynamodb:UpdateItem', 'dynamodb:GetItem'], Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutStateTable'), 'Arn'] }] }),
      ]) },
    });
  });

  test('notifications go to an encrypted topic, events to EventBridge', () => {
    const f = network();
    rollout(f);
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    expect(JSON.stringify(definitionOf(f.stack).States['Completed Event'].Parameters.Entries[0])).toContain('"Source":"cdk-zero-downtime"');
  });

  test('grants and metrics', () => {
    const f = network();
    const r = rollout(f);
    const role = new iam.Role(f.stack, 'Pipeline', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
    r.grantStartRollout(role);
    r.grantOperate(role);
    const t = Template.fromStack(f.stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Pipeline') }],
      PolicyDocument: { Statement: Match.arrayWith([
        Match.objectLike({ Action: 'states:StartExecution', Resource: { Ref: Match.stringLikeRegexp('RolloutStateMachine') } }),
        Match.objectLike({ Action: Match.arrayWith(['states:SendTaskSuccess', 'states:SendTaskFailure']) }),
        // zdt abort sets the abort flag on the state item.
        Match.objectLike({ Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutStateTable'), 'Arn'] }] }),
      ]) },
    });
    expect(f.stack.resolve(r.metricRollbacks().toMetricConfig().metricStat)).toMatchObject({
      namespace: 'CdkZeroDowntime', metricName: 'Rollbacks', dimensions: [{ name: 'Service', value: 'web' }],
    });
    expect(r.metricSucceeded().metricName).toBe('ExecutionsSucceeded');
  });
});

describe('ProgressiveRollout with a routing that starts on green', () => {
  test('the lock and the guard take green as the live color until a rollout records one', () => {
    const f = network();
    rollout(f, {}, { initialColor: Color.GREEN });
    const functions = Object.values<any>(Template.fromStack(f.stack).findResources('AWS::Lambda::Function'));
    for (const handler of ['lock', 'guard']) {
      const fn = functions.find((r) => r.Metadata?.['cdk-zero-downtime:handler'] === handler);
      expect(JSON.stringify(fn.Properties.Environment.Variables.ZDT_CONFIG)).toContain('\\"initialLiveColor\\":\\"green\\"');
    }
  });
});
