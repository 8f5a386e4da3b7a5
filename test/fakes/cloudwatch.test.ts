import {
  CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand,
  GetMetricStatisticsCommand, MetricDataQuery, PutCompositeAlarmCommand, PutMetricAlarmCommand, PutMetricAlarmCommandInput,
  PutMetricDataCommand, SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { AwsFakes, MetricQuery, MetricSource } from '../../rehearsal/fakes';
import { ManualClock } from './manual-clock';
import { expectError } from './expect-error';

const MINUTE = 60_000;
const ALB = 'AWS/ApplicationELB';
const DIMENSIONS = [{ Name: 'LoadBalancer', Value: 'app/shop/0123456789abcdef' }, { Name: 'TargetGroup', Value: 'targetgroup/shop-green/0123456789abcdef' }];

/** A stand-in for the rehearsal's traffic model: per-minute request and 5xx counts. */
class TrafficSource implements MetricSource {
  readonly requests = new Map<number, number>();
  readonly errors = new Map<number, number>();
  readonly queries: MetricQuery[] = [];
  value(query: MetricQuery): number | null {
    this.queries.push(query);
    if (query.namespace !== ALB || query.dimensions.TargetGroup !== DIMENSIONS[1].Value || query.statistic !== 'Sum') return null;
    const table = query.metricName === 'RequestCount' ? this.requests : query.metricName === 'HTTPCode_Target_5XX_Count' ? this.errors : undefined;
    if (!table) return null;
    let sum = 0;
    let any = false;
    for (let t = query.periodStart; t < query.periodStart + query.periodSeconds * 1000; t += MINUTE) {
      const v = table.get(t);
      if (v !== undefined) { sum += v; any = true; }
    }
    return any ? sum : null;
  }
}

function metric(name: string, stat = 'Sum', period = 60): MetricDataQuery['MetricStat'] {
  return { Metric: { Namespace: ALB, MetricName: name, Dimensions: DIMENSIONS }, Period: period, Stat: stat };
}


describe('FakeCloudWatch', () => {
  let clock: ManualClock;
  let aws: AwsFakes;
  let cw: CloudWatchClient;
  let traffic: TrafficSource;
  let t0: number;

  /** Traffic for the minute starting `minute` minutes after t0. */
  function minute(index: number, requests: number, errors?: number): void {
    traffic.requests.set(t0 + index * MINUTE, requests);
    if (errors !== undefined) traffic.errors.set(t0 + index * MINUTE, errors);
  }

  async function state(name: string): Promise<string | undefined> {
    const out = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    return [...out.MetricAlarms!, ...out.CompositeAlarms!][0]?.StateValue;
  }

  const errorRateAlarm = (name: string, overrides: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput => ({
    AlarmName: name,
    Metrics: [
      { Id: 'errors', MetricStat: metric('HTTPCode_Target_5XX_Count'), ReturnData: false },
      { Id: 'requests', MetricStat: metric('RequestCount'), ReturnData: false },
      { Id: 'rate', Expression: '100 * errors / requests', Label: 'Error rate (%)' },
    ],
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    Threshold: 5,
    ComparisonOperator: 'GreaterThanThreshold',
    ...overrides,
  });

  beforeEach(() => {
    clock = new ManualClock();
    t0 = clock.now();
    aws = new AwsFakes({ clock }).install();
    traffic = new TrafficSource();
    aws.cloudwatch.addMetricSource(traffic);
    cw = new CloudWatchClient({ region: 'us-east-1' });
  });

  afterEach(() => aws.restore());

  test('GetMetricData reads the metric source per period, newest first, only periods that have ended', async () => {
    minute(0, 100, 1);
    minute(1, 200, 4);
    minute(2, 300, 9);
    clock.advance(2.5 * MINUTE);
    const out = await cw.send(new GetMetricDataCommand({
      StartTime: new Date(t0), EndTime: new Date(clock.now()),
      MetricDataQueries: [
        { Id: 'requests', MetricStat: metric('RequestCount') },
        { Id: 'errors', MetricStat: metric('HTTPCode_Target_5XX_Count'), ReturnData: false },
        { Id: 'rate', Expression: '100 * errors / requests' },
      ],
    }));
    expect(out.MetricDataResults!.map((r) => r.Id)).toEqual(['requests', 'rate']);
    expect(out.MetricDataResults![0]).toMatchObject({ Label: 'RequestCount', Values: [200, 100], StatusCode: 'Complete' });
    expect(out.MetricDataResults![0].Timestamps).toEqual([new Date(t0 + MINUTE), new Date(t0)]);
    expect(out.MetricDataResults![1].Values).toEqual([2, 1]);
    expect(traffic.queries[0]).toMatchObject({ namespace: ALB, metricName: 'RequestCount', statistic: 'Sum', periodSeconds: 60, dimensions: { LoadBalancer: DIMENSIONS[0].Value, TargetGroup: DIMENSIONS[1].Value } });
  });

  test('GetMetricData aggregates a window into one period whose start is rounded down to the minute', async () => {
    for (let i = 0; i < 5; i++) minute(i, 10);
    clock.advance(5 * MINUTE + 30_000);
    const out = await cw.send(new GetMetricDataCommand({
      StartTime: new Date(clock.now() - 5 * MINUTE), EndTime: new Date(clock.now()),
      MetricDataQueries: [{ Id: 'requests', MetricStat: metric('RequestCount', 'Sum', 300) }],
    }));
    expect(out.MetricDataResults![0].Timestamps).toEqual([new Date(t0)]);
    expect(out.MetricDataResults![0].Values).toEqual([50]);
  });

  test('GetMetricData answers high-resolution periods (10 s, start rounded down to the period) and returns none of them once the start is over 3 hours old', async () => {
    const second = 1000;
    const perPeriod: MetricSource = { value: (q) => (q.namespace === 'Shop/Release' ? q.periodSeconds : null) };
    aws.cloudwatch.addMetricSource(perPeriod);
    const requests = (period: number) => ({ Id: 'r', MetricStat: { Metric: { Namespace: 'Shop/Release', MetricName: 'Requests' }, Period: period, Stat: 'Sum' } });
    clock.advance(2 * MINUTE);
    const recent = await cw.send(new GetMetricDataCommand({ StartTime: new Date(t0 + 23 * second), EndTime: new Date(t0 + MINUTE), MetricDataQueries: [requests(10)], ScanBy: 'TimestampAscending' }));
    expect(recent.MetricDataResults![0].Timestamps).toEqual([20, 30, 40, 50].map((s2) => new Date(t0 + s2 * second)));
    expect(recent.MetricDataResults![0].Values).toEqual([10, 10, 10, 10]);
    clock.advance(3 * 60 * MINUTE);
    const old = { StartTime: new Date(t0), EndTime: new Date(t0 + MINUTE) };
    expect((await cw.send(new GetMetricDataCommand({ ...old, MetricDataQueries: [requests(10)] }))).MetricDataResults![0].Values).toEqual([]);
    expect((await cw.send(new GetMetricDataCommand({ ...old, MetricDataQueries: [requests(60)] }))).MetricDataResults![0].Values).toEqual([60]);
  });

  test('GetMetricData rejects periods CloudWatch does not accept and unknown ids in expressions', async () => {
    const window = { StartTime: new Date(t0), EndTime: new Date(t0 + 10 * MINUTE) };
    await expectError(cw.send(new GetMetricDataCommand({ ...window, MetricDataQueries: [{ Id: 'r', MetricStat: metric('RequestCount', 'Sum', 90) }] })),
      'InvalidParameterValueException', /multiple of 60/);
    await expectError(cw.send(new GetMetricDataCommand({ ...window, MetricDataQueries: [{ Id: 'r', MetricStat: metric('RequestCount') }, { Id: 'e', Expression: 'r / x' }] })),
      'ValidationError', /Unrecognized metric or expression id 'x'/);
    await expectError(cw.send(new GetMetricDataCommand({ ...window, MetricDataQueries: [{ Id: 'R', MetricStat: metric('RequestCount') }] })),
      'ValidationError', /must start with a lower-case letter/);
  });

  test('stores PutMetricData datapoints (never in AWS/ namespaces) and answers GetMetricStatistics from them', async () => {
    await cw.send(new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [
      { MetricName: 'Latency', Values: [100, 200, 900], Counts: [5, 4, 1], Timestamp: new Date(t0 + 10_000) },
      { MetricName: 'Latency', Value: 300, Timestamp: new Date(t0 + MINUTE + 1000) },
    ] }));
    await expectError(cw.send(new PutMetricDataCommand({ Namespace: ALB, MetricData: [{ MetricName: 'RequestCount', Value: 1 }] })),
      'InvalidParameterValueException', /AWS\//);
    clock.advance(2 * MINUTE);
    const out = await cw.send(new GetMetricStatisticsCommand({
      Namespace: 'Shop', MetricName: 'Latency', StartTime: new Date(t0), EndTime: new Date(clock.now()), Period: 60,
      Statistics: ['SampleCount', 'Average', 'Maximum'], ExtendedStatistics: ['p90'],
    }));
    expect(out.Datapoints).toEqual([
      { Timestamp: new Date(t0), SampleCount: 10, Average: 220, Maximum: 900, ExtendedStatistics: { p90: 200 } },
      { Timestamp: new Date(t0 + MINUTE), SampleCount: 1, Average: 300, Maximum: 300, ExtendedStatistics: { p90: 300 } },
    ]);
  });

  test('a metric math alarm goes to ALARM when 2 of the last 3 error rates exceed the threshold, at the minute CloudWatch would notice', async () => {
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('green-errors')));
    expect(await state('green-errors')).toBe('INSUFFICIENT_DATA');
    minute(0, 100, 10); // 10 %
    minute(1, 100, 0);  // 0 %
    minute(2, 100, 8);  // 8 %
    clock.advance(3 * MINUTE + 20_000);
    expect(await state('green-errors')).toBe('ALARM');
    const history = await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'green-errors', HistoryItemType: 'StateUpdate' }));
    // At 1 min the one known datapoint (10 %) breaches but is too recent to alarm on (the premature-alarm guard): the
    // alarm stays INSUFFICIENT_DATA; at 2 min a non-breaching datapoint makes it OK; at 3 min 2 of 3 breach.
    expect(history.AlarmHistoryItems!.map((h) => [h.HistorySummary, h.Timestamp])).toEqual([
      ['Alarm updated from OK to ALARM', new Date(t0 + 3 * MINUTE)],
      ['Alarm updated from INSUFFICIENT_DATA to OK', new Date(t0 + 2 * MINUTE)],
    ]);
    const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['green-errors'] }))).MetricAlarms![0];
    expect(alarm.StateReason).toMatch(/2 out of the last 3 datapoints .* were greater than the threshold \(5\.0\)/);
    expect(alarm.StateTransitionedTimestamp).toEqual(new Date(t0 + 3 * MINUTE));
  });

  test('zero requests make the error rate missing (division by zero): notBreaching stays OK, breaching fires', async () => {
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('quiet-ok', { TreatMissingData: 'notBreaching' })));
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('quiet-alarm', { TreatMissingData: 'breaching' })));
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('quiet-missing')));
    for (let i = 0; i < 3; i++) minute(i, 0, 0);
    clock.advance(3 * MINUTE);
    expect(await state('quiet-ok')).toBe('OK');
    expect(await state('quiet-alarm')).toBe('ALARM');
    expect(await state('quiet-missing')).toBe('INSUFFICIENT_DATA');
  });

  test('FILL turns absent 5xx counts into zeros so a healthy canary is OK rather than unknown', async () => {
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('filled', {
      Metrics: [
        { Id: 'errors', MetricStat: metric('HTTPCode_Target_5XX_Count'), ReturnData: false },
        { Id: 'requests', MetricStat: metric('RequestCount'), ReturnData: false },
        { Id: 'rate', Expression: '100 * FILL(errors, 0) / requests' },
      ],
    })));
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('unfilled')));
    for (let i = 0; i < 3; i++) minute(i, 100); // ALB publishes no 5xx metric when there are none
    clock.advance(3 * MINUTE);
    expect(await state('filled')).toBe('OK');
    expect(await state('unfilled')).toBe('INSUFFICIENT_DATA');
  });

  test('a single-metric alarm reads its statistic and period from the source', async () => {
    await cw.send(new PutMetricAlarmCommand({
      AlarmName: 'requests-low', Namespace: ALB, MetricName: 'RequestCount', Dimensions: DIMENSIONS, Statistic: 'Sum', Period: 120,
      EvaluationPeriods: 1, Threshold: 50, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching',
    }));
    minute(0, 10);
    minute(1, 10);
    clock.advance(2 * MINUTE);
    expect(await state('requests-low')).toBe('ALARM');
    expect(traffic.queries.some((q) => q.periodSeconds === 120 && q.periodStart === t0)).toBe(true);
  });

  test('validates alarms like CloudWatch', async () => {
    await expectError(cw.send(new PutMetricAlarmCommand(errorRateAlarm('bad', { DatapointsToAlarm: 4 }))), 'InvalidParameterValueException', /DatapointsToAlarm \(4\)/);
    await expectError(cw.send(new PutMetricAlarmCommand(errorRateAlarm('bad', { ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' }))),
      'InvalidParameterValueException', /not supported .*anomaly/);
    await expectError(cw.send(new PutMetricAlarmCommand(errorRateAlarm('bad', { TreatMissingData: 'zero' }))), 'InvalidParameterValueException', /TreatMissingData/);
    await expectError(cw.send(new PutMetricAlarmCommand(errorRateAlarm('bad', {
      Metrics: [{ Id: 'a', MetricStat: metric('RequestCount') }, { Id: 'b', MetricStat: metric('RequestCount') }],
    }))), 'ValidationError', /Exactly one element .* must return data/);
    await expectError(cw.send(new PutMetricAlarmCommand(errorRateAlarm('bad', {
      Metrics: [{ Id: 'a', MetricStat: metric('RequestCount'), ReturnData: false }, { Id: 'b', MetricStat: metric('RequestCount'), ReturnData: false }, { Id: 'm', Expression: 'MAX(a, b)' }],
    }))), 'ValidationError', /MAX\(\[a, b\]\)/);
    await expectError(cw.send(new PutMetricAlarmCommand({ AlarmName: 'bad', Namespace: ALB, MetricName: 'RequestCount', Statistic: 'Sum', Period: 45, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' })),
      'InvalidParameterValueException', /multiple of 60/);
    await expectError(cw.send(new PutMetricAlarmCommand({ AlarmName: 'bad', Namespace: ALB, MetricName: 'RequestCount', Statistic: 'Sum', Period: 3600, EvaluationPeriods: 200, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' })),
      'ValidationError', /must not exceed 604800 seconds/);
    expect((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
  });

  test('composite alarms follow their children, accept ARNs, and refuse rules naming alarms that do not exist', async () => {
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('errors', { TreatMissingData: 'notBreaching' })));
    await cw.send(new PutMetricAlarmCommand({
      AlarmName: 'latency', Namespace: ALB, MetricName: 'TargetResponseTime', Dimensions: DIMENSIONS, ExtendedStatistic: 'p99', Period: 60,
      EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
    }));
    await cw.send(new PutCompositeAlarmCommand({
      AlarmName: 'green-health', AlarmRule: 'ALARM("errors") OR ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:latency")',
    }));
    await expectError(cw.send(new PutCompositeAlarmCommand({ AlarmName: 'broken', AlarmRule: 'ALARM("errors") OR ALARM("nope")' })), 'ValidationError', /\[nope\] .* do not exist/);
    await expectError(cw.send(new PutCompositeAlarmCommand({ AlarmName: 'broken', AlarmRule: 'ALARM("errors") OR' })), 'ValidationError', /Invalid AlarmRule/);
    for (let i = 0; i < 3; i++) minute(i, 100, 1);
    clock.advance(3 * MINUTE);
    expect(await state('green-health')).toBe('OK');
    for (let i = 3; i < 6; i++) minute(i, 100, 50);
    clock.advance(3 * MINUTE);
    expect(await state('errors')).toBe('ALARM');
    expect(await state('green-health')).toBe('ALARM');
    const children = await cw.send(new DescribeAlarmsCommand({ ChildrenOfAlarmName: 'green-health', AlarmTypes: ['MetricAlarm'] }));
    expect(children.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['errors', 'latency']);
  });

  test('DescribeAlarms returns metric alarms only unless AlarmTypes asks for composites, omits unknown names, and pages', async () => {
    for (const name of ['c', 'a', 'b']) {
      await cw.send(new PutMetricAlarmCommand({ AlarmName: name, Namespace: 'Shop', MetricName: 'M', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    }
    await cw.send(new PutCompositeAlarmCommand({ AlarmName: 'all', AlarmRule: 'ALARM(a) OR ALARM(b)' }));
    const byName = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['a', 'all', 'missing'] }));
    expect(byName.MetricAlarms!.map((a) => a.AlarmName)).toEqual(['a']);
    expect(byName.CompositeAlarms).toEqual([]);
    const both = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['a', 'all', 'missing'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    expect(both.CompositeAlarms!.map((a) => a.AlarmName)).toEqual(['all']);
    const prefixed = await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'a', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
    expect([...prefixed.MetricAlarms!, ...prefixed.CompositeAlarms!].map((a) => a.AlarmName)).toEqual(['a', 'all']);
    const page1 = await cw.send(new DescribeAlarmsCommand({ MaxRecords: 2 }));
    const page2 = await cw.send(new DescribeAlarmsCommand({ MaxRecords: 2, NextToken: page1.NextToken }));
    expect([...page1.MetricAlarms!, ...page2.MetricAlarms!].map((a) => a.AlarmName)).toEqual(['a', 'b', 'c']);
    expect(page2.NextToken).toBeUndefined();
    await expectError(cw.send(new DescribeAlarmsCommand({ NextToken: 'garbage' })), 'InvalidNextToken');
  });

  test('SetAlarmState changes the state until the next evaluation, and unknown alarms are ResourceNotFound', async () => {
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('errors', { TreatMissingData: 'notBreaching' })));
    clock.advance(MINUTE);
    expect(await state('errors')).toBe('OK');
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'errors', StateValue: 'ALARM', StateReason: 'testing the rollback' }));
    expect(await state('errors')).toBe('ALARM');
    clock.advance(MINUTE);
    expect(await state('errors')).toBe('OK');
    await expectError(cw.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'ALARM', StateReason: 'x' })), 'ResourceNotFound');
    await expectError(cw.send(new DeleteAlarmsCommand({ AlarmNames: ['nope'] })), 'ResourceNotFound');
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['errors'] }));
    expect(await state('errors')).toBeUndefined();
  });

  test('alarm actions on SNS topics publish CloudWatch notifications', async () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:rollout-alerts';
    await cw.send(new PutMetricAlarmCommand(errorRateAlarm('errors', { AlarmActions: [topic], EvaluationPeriods: 1, DatapointsToAlarm: 1 })));
    minute(0, 10, 5);
    clock.advance(MINUTE);
    aws.cloudwatch.evaluateAlarms();
    const messages = aws.sns.messages(topic);
    expect(messages).toHaveLength(1);
    expect(messages[0].subject).toBe('ALARM: "errors" in us-east-1');
    expect(JSON.parse(messages[0].message)).toMatchObject({ AlarmName: 'errors', NewStateValue: 'ALARM', OldStateValue: 'INSUFFICIENT_DATA' });
    expect(aws.cloudwatch.stateChanges('errors')).toEqual([expect.objectContaining({ from: 'INSUFFICIENT_DATA', to: 'ALARM', time: t0 + MINUTE })]);
  });

  describe('evaluation as the CloudWatch User Guide documents it ("Using Amazon CloudWatch alarms")', () => {
    /** A metric the test defines as a function of its period (any namespace, statistic and period). */
    const source = (value: (q: MetricQuery) => number | null): MetricSource & { queries: MetricQuery[] } => {
      const queries: MetricQuery[] = [];
      return { queries, value: (q) => { queries.push(q); return q.namespace === 'Custom' ? value(q) : null; } };
    };
    const history = async (name: string) => (await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate', ScanBy: 'TimestampAscending', AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })))
      .AlarmHistoryItems!.map((h) => [h.HistorySummary!.replace('Alarm updated from ', ''), (h.Timestamp!.getTime() - t0) / 1000]);

    test('evaluates over an evaluation range of EvaluationPeriods + 2 periods ending at the evaluation', async () => {
      const metric = source(() => 1);
      aws.cloudwatch.addMetricSource(metric);
      await cw.send(new PutMetricAlarmCommand({
        AlarmName: 'range', Namespace: 'Custom', MetricName: 'Queue', Statistic: 'Maximum', Period: 60, EvaluationPeriods: 3, Threshold: 5, ComparisonOperator: 'GreaterThanThreshold',
      }));
      clock.advance(MINUTE);
      await state('range');
      expect([...new Set(metric.queries.map((q) => (q.periodStart - t0) / MINUTE))].sort((a, b) => a - b)).toEqual([-4, -3, -2, -1, 0]);
    });

    test('with delayed data (90 s ingestion), a 2-of-3 notBreaching alarm evaluates the most recent datapoints it has and alarms', async () => {
      aws.restore();
      aws = new AwsFakes({ clock, metricIngestionDelaySeconds: 90 }).install();
      aws.cloudwatch.addMetricSource(traffic);
      cw = new CloudWatchClient({ region: 'us-east-1' });
      await cw.send(new PutMetricAlarmCommand(errorRateAlarm('late', { TreatMissingData: 'notBreaching' })));
      for (let i = 0; i < 10; i++) minute(i, 100, 20); // 20 % from the first minute on
      clock.advance(10 * MINUTE);
      // Minute 0 is visible from 2 min 30 s (OK on one breaching datapoint, the two newest not yet in), minute 1
      // from 3 min 30 s: at the 4-minute evaluation two real datapoints breach.
      expect(await history('late')).toEqual([['INSUFFICIENT_DATA to OK', 60], ['OK to ALARM', 240]]);
    });

    test('an alarm of a period of a minute or more is evaluated every minute, on a window sliding with it (period 5 min: minutes 1 to 6 at minute 6)', async () => {
      const metric = source((q) => (q.periodSeconds === 300 && q.periodStart === t0 + MINUTE ? 9 : 1));
      aws.cloudwatch.addMetricSource(metric);
      await cw.send(new PutMetricAlarmCommand({
        AlarmName: 'five-minutes', Namespace: 'Custom', MetricName: 'Queue', Statistic: 'Maximum', Period: 300, EvaluationPeriods: 1, Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
      }));
      clock.advance(8 * MINUTE);
      expect(await history('five-minutes')).toEqual([['INSUFFICIENT_DATA to OK', 60], ['OK to ALARM', 360], ['ALARM to OK', 420]]);
    });

    test('an alarm of a 10 s or 30 s period is evaluated every 10 seconds', async () => {
      aws.cloudwatch.addMetricSource(source((q) => (q.periodStart >= t0 + 40_000 ? 9 : 1)));
      await cw.send(new PutMetricAlarmCommand({
        AlarmName: 'high-resolution', Namespace: 'Custom', MetricName: 'Latency', Statistic: 'Maximum', Period: 30, EvaluationPeriods: 1, Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
      }));
      clock.advance(2 * MINUTE);
      // The 30-second period from 40 s ends at 70 s: an evaluation every 30 s would only see it at 90 s.
      expect(await history('high-resolution')).toEqual([['INSUFFICIENT_DATA to OK', 10], ['OK to ALARM', 70]]);
    });

    test('an alarm created after the metric was reported evaluates the datapoints from before its creation', async () => {
      for (let i = 0; i < 3; i++) minute(i, 100, 30);
      clock.advance(3 * MINUTE + 30_000);
      await cw.send(new PutMetricAlarmCommand(errorRateAlarm('late-comer')));
      clock.advance(30_000);
      expect(await history('late-comer')).toEqual([['INSUFFICIENT_DATA to ALARM', 240]]);
    });

    test('a composite alarm changes state at the instant its child does, and at once when SetAlarmState changes a child', async () => {
      await cw.send(new PutMetricAlarmCommand(errorRateAlarm('child', { TreatMissingData: 'notBreaching' })));
      await cw.send(new PutCompositeAlarmCommand({ AlarmName: 'parent', AlarmRule: 'ALARM("child")' }));
      for (let i = 0; i < 6; i++) minute(i, 100, i < 3 ? 0 : 50);
      clock.advance(6 * MINUTE);
      const childChanges = await history('child');
      expect(childChanges.at(-1)).toEqual(['OK to ALARM', 300]);
      expect((await history('parent')).at(-1)).toEqual(['OK to ALARM', 300]);
      clock.advance(10_000);
      await cw.send(new SetAlarmStateCommand({ AlarmName: 'child', StateValue: 'OK', StateReason: 'test' }));
      expect((await history('parent')).at(-1)).toEqual(['ALARM to OK', 370]);
    });

    test('an alarm on an AWS/DynamoDB metric ignores missing data whatever its TreatMissingData says', async () => {
      let reporting = true;
      const dynamo: MetricSource = { value: (q) => (q.namespace === 'AWS/DynamoDB' && reporting ? 50 : null) };
      aws.cloudwatch.addMetricSource(dynamo);
      const alarm = (name: string, namespace: string) => cw.send(new PutMetricAlarmCommand({
        AlarmName: name, Namespace: namespace, MetricName: 'ThrottledRequests', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
      }));
      await alarm('throttles', 'AWS/DynamoDB');
      await alarm('custom-throttles', 'Custom');
      clock.advance(2 * MINUTE);
      expect(await state('throttles')).toBe('ALARM');
      reporting = false;
      clock.advance(10 * MINUTE);
      expect(await state('throttles')).toBe('ALARM');
      expect(await state('custom-throttles')).toBe('OK');
      const described = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['throttles'] }))).MetricAlarms![0];
      expect(described.TreatMissingData).toBe('notBreaching');
    });

    test('a percentile alarm with EvaluateLowSampleCountPercentile=ignore does not change state on too few samples (fewer than 1000 for p99)', async () => {
      let samples = 200;
      aws.cloudwatch.addMetricSource(source((q) => (q.statistic === 'SampleCount' ? samples : 3)));
      const p99 = (name: string, mode?: string) => cw.send(new PutMetricAlarmCommand({
        AlarmName: name, Namespace: 'Custom', MetricName: 'Latency', ExtendedStatistic: 'p99', Period: 60, EvaluationPeriods: 1, Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold', EvaluateLowSampleCountPercentile: mode,
      }));
      await p99('ignoring', 'ignore');
      await p99('evaluating');
      clock.advance(2 * MINUTE);
      expect(await state('ignoring')).toBe('INSUFFICIENT_DATA');
      expect(await state('evaluating')).toBe('ALARM');
      samples = 1000;
      clock.advance(MINUTE);
      expect(await state('ignoring')).toBe('ALARM');
      await expectError(p99('bad', 'sometimes'), 'InvalidParameterValueException', /EvaluateLowSampleCountPercentile is invalid; expected one of evaluate, ignore/);
    });
  });
});

