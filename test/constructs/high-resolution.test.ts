import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BAKE_TOKEN_WRITE } from '../../lambda/shared/contracts';
import { AnalysisMethod, BlueGreenStacks, Color, ColorHighResolutionAlarms } from '../../lib';
import { definitionOf, handlerConfigOf, network, rollout, testApp } from './fixtures';

describe('ProgressiveRollout highResolutionSignal', () => {
  const f = network();
  const r = rollout(f, { highResolutionSignal: { maxErrorRatePercent: 3, maxLatencyP99: Duration.millis(500) } });
  const template = Template.fromStack(f.stack);
  const states = definitionOf(f.stack).States;

  test('creates 10-second alarms per color on the release signal (Service and Color dimensions), judged with the color\'s alarms', () => {
    const green = r.highResolutionAlarmsOf(Color.GREEN)!;
    expect(green).toBeInstanceOf(ColorHighResolutionAlarms);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 3, EvaluationPeriods: 2, DatapointsToAlarm: 2, TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([Match.objectLike({
        Id: 'r', MetricStat: { Metric: { Namespace: 'ZeroDowntime/Release', MetricName: 'Requests', Dimensions: Match.arrayWith([{ Name: 'Color', Value: 'green' }, { Name: 'Service', Value: 'web' }]) }, Period: 10, Stat: 'Sum' },
      })]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'ZeroDowntime/Release', MetricName: 'Latency', ExtendedStatistic: 'p99', Period: 10, Threshold: 500 });
    const judged = handlerConfigOf(template, 'judge').alarmsByColor;
    expect(judged.green.length).toBe(judged.blue.length);
    expect(judged.green.length).toBe(3); // SEQUENTIAL reads the unhealthy-hosts alarm of the ALB ones, plus the two high-resolution ones
  });

  test('the bake stores its own task token (an SDK UpdateItem, no Lambda) and waits one judge interval; the alarm\'s error rolls back, the timeout judges', () => {
    expect(states.Bake).toMatchObject({
      Type: 'Task', Resource: expect.stringMatching(/^arn:\w+:states:::aws-sdk:dynamodb:updateItem\.waitForTaskToken$/), TimeoutSecondsPath: '$.bake.waitSeconds',
      Parameters: {
        Key: { service: { S: 'web' } },
        UpdateExpression: BAKE_TOKEN_WRITE.UPDATE,
        ConditionExpression: BAKE_TOKEN_WRITE.CONDITION,
        ExpressionAttributeNames: { '#bakeToken': 'bakeToken', '#flag.$': "States.Format('highResolutionAlarm_{}', $.colors.target)" },
        ExpressionAttributeValues: { ':token': { 'S.$': '$$.Task.Token' }, ':owner': { 'S.$': '$.execution' }, ':color': { 'S.$': '$.colors.target' } },
      },
      Next: 'Check Abort',
    });
    expect(states.Bake.Catch).toEqual([
      { ErrorEquals: ['ZdtHighResolutionAlarm'], ResultPath: '$.error', Next: 'High-Resolution Alarm' },
      { ErrorEquals: ['States.Timeout'], ResultPath: null, Next: 'Check Abort' },
      { ErrorEquals: ['DynamoDb.ConditionalCheckFailedException'], ResultPath: '$.bakeError', Next: 'Read High-Resolution Flag' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.bakeError', Next: 'Bake Without Token' },
    ]);
    expect(states['High-Resolution Alarm']).toMatchObject({ Parameters: { 'kind': 'high-resolution-alarm', 'error': 'ZdtHighResolutionAlarm', 'reason.$': '$.error.Cause' }, Next: 'Rollback' });
    // Refused because an alarm of the new color fired before the bake: its flag's reason is the rollback's.
    expect(states['Alarm Fired Before Bake?'].Choices).toContainEqual(expect.objectContaining({ Next: 'Alarm Reason Of Green' }));
    expect(states['Alarm Reason Of Green']).toMatchObject({ Parameters: { 'Cause.$': '$.bakeRefused.item.highResolutionAlarmReason_green.S' }, ResultPath: '$.error', Next: 'High-Resolution Alarm' });
    expect(states['Alarm Fired Before Bake?'].Default).toBe('Bake Without Token');
  });

  test('the sequential judge reads the signal itself: 10-second periods, 20 s delay, every 30 s, ALB minutes as the fallback', () => {
    const analysis = handlerConfigOf(template, 'judge').analysis;
    expect(analysis.signal).toEqual({ namespace: 'ZeroDowntime/Release', service: 'web', periodSeconds: 10, delaySeconds: 20, judgeIntervalSeconds: 30 });
    expect(analysis.windowSeconds).toBe(60); // the ALB fallback reads whole minutes
    expect(r.plan.judgeIntervalSeconds).toBe(30);
    // The judge sets each next wait (a minute on ALB minutes): every step's bake starts at the plan's interval.
    expect(states['Start Bake'].Parameters).toMatchObject({ 'waitSeconds.$': '$.plan.judgeIntervalSeconds' });
    expect(states['Bake Without Token']).toMatchObject({ SecondsPath: '$.bake.waitSeconds' });
  });

  test('judgeInterval takes multiples of 10 seconds with the signal; under THRESHOLDS whole minutes, the signal read over them', () => {
    const g = network();
    rollout(g, { highResolutionSignal: { metricDelay: Duration.seconds(15) }, judgeInterval: Duration.seconds(20) });
    expect(handlerConfigOf(Template.fromStack(g.stack), 'judge').analysis.signal).toMatchObject({ delaySeconds: 15, judgeIntervalSeconds: 20 });
    const h = network();
    const thresholds = rollout(h, { highResolutionSignal: {}, analysis: { method: AnalysisMethod.THRESHOLDS } });
    const hTemplate = Template.fromStack(h.stack);
    expect(handlerConfigOf(hTemplate, 'judge').analysis).toMatchObject({
      method: 'THRESHOLDS', windowSeconds: 60,
      signal: { namespace: 'ZeroDowntime/Release', service: 'web', periodSeconds: 10, delaySeconds: 20, judgeIntervalSeconds: 60 },
    });
    // Whole minutes at the plan's interval: the judge does not set the wait.
    expect(thresholds.plan.judgeIntervalSeconds).toBe(60);
    expect(definitionOf(h.stack).States['Bake Without Token']).toMatchObject({ SecondsPath: '$.plan.judgeIntervalSeconds' });
    const sub = network();
    rollout(sub, { highResolutionSignal: {}, analysis: { method: AnalysisMethod.THRESHOLDS }, judgeInterval: Duration.seconds(30) });
    expect(() => sub.app.synth()).toThrow(/judgeInterval must be from 1 minute to 1 hour, got 30 seconds/);
    const bad = network();
    rollout(bad, { highResolutionSignal: {}, judgeInterval: Duration.seconds(25) });
    expect(() => bad.app.synth()).toThrow(/judgeInterval must be a whole multiple of 10 seconds, got 25 seconds/);
  });

  test('an EventBridge rule on the alarms going to ALARM invokes the release-alarm handler, which may only flag and fail tasks', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'], 'detail': { alarmName: Match.anyValue(), state: { value: ['ALARM'] } } },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 } })],
    });
    const config = handlerConfigOf(template, 'release-alarm');
    expect(config.service).toBe('web');
    expect(config.alarms.map((a: { color: string }) => a.color).sort()).toEqual(['blue', 'blue', 'green', 'green']);
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p.Properties.PolicyDocument));
    const handlerPolicy = policies.find((p) => p.includes('states:SendTaskFailure') && !p.includes('states:SendTaskSuccess'));
    expect(handlerPolicy).toBeDefined();
    expect(handlerPolicy).not.toMatch(/elasticloadbalancing/);
  });

  test('eventDriven false keeps the alarms and the plain wait, without rule or handler', () => {
    const g = network();
    rollout(g, { highResolutionSignal: { eventDriven: false } });
    expect(definitionOf(g.stack).States.Bake).toMatchObject({ Type: 'Wait', SecondsPath: '$.bake.waitSeconds' });
    const t = Template.fromStack(g.stack);
    expect(t.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.cloudwatch'] } } })).toEqual({});
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Namespace: 'ZeroDowntime/Release' }, 2);
  });

  test('a period that is not a high-resolution alarm\'s is refused, naming the prop and the construct', () => {
    expect(() => rollout(network(), { highResolutionSignal: { period: Duration.seconds(20) } }))
      .toThrow(/Service\/Rollout\/HighResolution\/Blue: period must be 10 or 30 seconds .*got 20 seconds/);
  });
});

describe('BlueGreenStacks release signal environment', () => {
  function colorStack(id: string, releaseSignalEnvironment?: boolean): { green: Template; seen: Array<Record<string, string>> } {
    const seen: Array<Record<string, string>> = [];
    const pair = new BlueGreenStacks(testApp(), id, {
      stackProps: { env: { region: 'us-east-1' } },
      network: { createNetwork: (stack: Stack) => networkIn(stack) },
      colorEnvironment: {
        createEnvironment: (stack, context) => {
          seen.push(context.releaseSignalEnvironment);
          new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
        },
      },
      rollout: { highResolutionSignal: { metricNamespace: 'Shop/Release' } },
      releaseSignalEnvironment,
    });
    return { green: Template.fromStack(pair.greenStack), seen };
  }

  test('sets ZDT_RELEASE_SERVICE, _COLOR and _NAMESPACE on the compute of each color stack and hands them to the factory', () => {
    const { green, seen } = colorStack('Shop');
    green.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { ZDT_RELEASE_SERVICE: 'Shop', ZDT_RELEASE_COLOR: 'green', ZDT_RELEASE_NAMESPACE: 'Shop/Release' } },
    });
    expect(seen.map((e) => e.ZDT_RELEASE_COLOR)).toEqual(['blue', 'green']);
  });

  test('releaseSignalEnvironment false leaves the compute alone', () => {
    colorStack('ShopOff', false).green.hasResourceProperties('AWS::Lambda::Function', { Environment: Match.absent() });
  });
});

function networkIn(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  return { vpc, loadBalancer, listener };
}
