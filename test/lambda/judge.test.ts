import 'aws-sdk-client-mock-jest';
import {
  CloudWatchClient, DescribeAlarmsCommand, DescribeAlarmsCommandInput, GetMetricDataCommand, GetMetricDataCommandInput, MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { ErrorName, JudgeConfig, JudgeResult } from '../../lambda/shared/contracts';
import { ANALYSIS } from './support/analysis-config';
import { handler } from '../../lambda/judge/judge-handler';
import { expectInvalidRequest, fixedClock, NOW_MS, setConfig } from './support/env';

type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

const cw = mockClient(CloudWatchClient);
let clock: ReturnType<typeof fixedClock>;
/** The alarms that exist in the fake CloudWatch, metric or composite. */
let alarms: Record<string, { state: State; composite?: boolean; reason?: string }>;


function configure(overrides: Partial<JudgeConfig> = {}): void {
  const config: JudgeConfig = {
    alarmsByColor: { blue: ['web-blue-5xx'], green: ['web-green-5xx', 'web-green-latency'] },
    sharedAlarms: ['web-slo'],
    ...overrides,
  };
  setConfig(config);
}

function allOk(): void {
  alarms = {
    'web-blue-5xx': { state: 'OK' },
    'web-green-5xx': { state: 'OK' },
    'web-green-latency': { state: 'OK' },
    'web-slo': { state: 'OK', composite: true },
  };
}

/** Serves DescribeAlarms from `alarms`, as CloudWatch does: unknown names are simply absent. */
function describeAlarms(input: DescribeAlarmsCommandInput) {
  const found = (input.AlarmNames ?? []).filter((n) => alarms[n]).map((n) => ({ AlarmName: n, StateValue: alarms[n].state, StateReason: alarms[n].reason }));
  return {
    MetricAlarms: found.filter((a) => !alarms[a.AlarmName].composite),
    CompositeAlarms: found.filter((a) => alarms[a.AlarmName].composite),
  };
}

/** GetMetricData results: per color [requests, 5xx, p99 seconds] (undefined: no data point). */
function metricData(data: Partial<Record<'blue' | 'green', { requests?: number[]; errors?: number[]; latency?: number[] }>>): MetricDataResult[] {
  return (['blue', 'green'] as const).flatMap((color) => (['requests', 'errors', 'latency'] as const).map((kind) => ({
    Id: `${color}_${kind}`, Values: data[color]?.[kind] ?? [], StatusCode: 'Complete' as const,
  })));
}

const judgeRequest = (passes = 0, required = 3) => ({ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes, required } });
const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  cw.reset();
  allOk();
  cw.on(DescribeAlarmsCommand).callsFake(describeAlarms);
  clock = fixedClock();
});
afterEach(() => clock.restore());
afterAll(() => cw.restore());

describe('Judge', () => {
  describe('checkAlarms', () => {
    test('reports the state of the new color\'s alarms and the shared ones', async () => {
      configure();
      await expect(handler({ action: 'checkAlarms', targetColor: 'green' })).resolves.toEqual({
        alarms: [
          { name: 'web-green-5xx', state: 'OK' },
          { name: 'web-green-latency', state: 'OK' },
          { name: 'web-slo', state: 'OK' },
        ],
      });
      expect(cw).toHaveReceivedCommandWith(DescribeAlarmsCommand, { AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    });

    test('fails with ALARM_NOT_FOUND listing every missing alarm', async () => {
      configure({ alarmsByColor: { blue: [], green: ['web-green-5xx', 'typo-latency'] }, sharedAlarms: ['deleted-slo'] });
      const error = await handler({ action: 'checkAlarms', targetColor: 'green' }).catch((e: Error) => e);
      expect(error).toMatchObject({ name: ErrorName.ALARM_NOT_FOUND });
      expect((error as Error).message).toContain('typo-latency, deleted-slo');
      expect((error as Error).message).not.toContain('web-green-5xx,');
    });

    test('asks for at most 100 alarms per call', async () => {
      const many = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);
      for (const name of many) alarms[name] = { state: 'OK' };
      configure({ alarmsByColor: { blue: [], green: many }, sharedAlarms: [] });
      const result = await handler({ action: 'checkAlarms', targetColor: 'green' });
      expect((result as { alarms: unknown[] }).alarms).toHaveLength(150);
      const sizes = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames!.length);
      expect(sizes).toEqual([100, 50]);
    });

    test('turns throttling into a ZdtRetryableError naming the operation', async () => {
      configure();
      cw.on(DescribeAlarmsCommand).rejects(throttled());
      await expect(handler({ action: 'checkAlarms', targetColor: 'green' })).rejects.toMatchObject({
        name: ErrorName.RETRYABLE,
        message: expect.stringContaining('DescribeAlarms'),
      });
    });
  });

  describe('judge', () => {
    test('an alarm that does not exist is ALARM_NOT_FOUND, never OK', async () => {
      configure();
      delete alarms['web-slo'];
      await expect(handler(judgeRequest())).rejects.toMatchObject({
        name: ErrorName.ALARM_NOT_FOUND,
        message: expect.stringContaining('web-slo'),
      });
    });

    test('fails when an alarm is in ALARM, naming it, without counting a pass or reading metrics', async () => {
      configure({ analysis: ANALYSIS });
      alarms['web-green-5xx'] = { state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [12.0] was greater than 5.0' };
      const result = await handler(judgeRequest(2, 3));
      expect(result).toMatchObject({ verdict: 'FAIL', bake: { passes: 2, required: 3 } });
      expect((result as JudgeResult).reasons).toEqual(['Alarm web-green-5xx is in ALARM: Threshold Crossed: 1 datapoint [12.0] was greater than 5.0']);
      expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
    });

    test('ignores the stable color\'s own alarms', async () => {
      configure();
      alarms['web-blue-5xx'] = { state: 'ALARM' };
      await expect(handler(judgeRequest(0, 3))).resolves.toMatchObject({ verdict: 'WAIT' });
    });

    test('an alarm with insufficient data does not fail the release', async () => {
      configure();
      alarms['web-green-latency'] = { state: 'INSUFFICIENT_DATA' };
      await expect(handler(judgeRequest(0, 3))).resolves.toMatchObject({ verdict: 'WAIT', reasons: [] });
    });

    test.each([
      [0, 3, 'WAIT', 1],
      [1, 3, 'WAIT', 2],
      [2, 3, 'PASS', 3],
      [0, 1, 'PASS', 1],
    ])('healthy with %d of %d passes: %s with %d passes', async (passes, required, verdict, after) => {
      configure();
      await expect(handler(judgeRequest(passes, required))).resolves.toMatchObject({ verdict, bake: { passes: after, required } });
    });

    describe('with metric analysis', () => {
      test('reads the window ending now from the ALB target-group metrics, one period long', async () => {
        configure({ analysis: ANALYSIS });
        cw.on(GetMetricDataCommand).resolves({ MetricDataResults: metricData({}) });
        await handler(judgeRequest());
        const input = cw.commandCalls(GetMetricDataCommand)[0].args[0].input as GetMetricDataCommandInput;
        expect(input.StartTime).toEqual(new Date(NOW_MS - 300_000));
        expect(input.EndTime).toEqual(new Date(NOW_MS));
        const green = input.MetricDataQueries!.filter((q) => q.Id!.startsWith('green'));
        expect(green.map((q) => [q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual([
          ['RequestCount', 'Sum', 300],
          ['HTTPCode_Target_5XX_Count', 'Sum', 300],
          ['TargetResponseTime', 'p99', 300],
        ]);
        expect(green[0].MetricStat!.Metric!.Namespace).toBe('AWS/ApplicationELB');
        expect(green[0].MetricStat!.Metric!.Dimensions).toEqual([
          { Name: 'LoadBalancer', Value: ANALYSIS.loadBalancer },
          { Name: 'TargetGroup', Value: ANALYSIS.targetGroups.green },
        ]);
      });

      test.each([[30, 60], [60, 60], [90, 120], [600, 600]])('a %d s window reads one period of %d s', async (windowSeconds, period) => {
        configure({ analysis: { ...ANALYSIS, windowSeconds } });
        cw.on(GetMetricDataCommand).resolves({ MetricDataResults: metricData({}) });
        await handler(judgeRequest());
        const input = cw.commandCalls(GetMetricDataCommand)[0].args[0].input as GetMetricDataCommandInput;
        expect(new Set(input.MetricDataQueries!.map((q) => q.MetricStat!.Period))).toEqual(new Set([period]));
        expect(input.StartTime).toEqual(new Date(NOW_MS - windowSeconds * 1000));
      });

      test('sums counts over the periods returned, takes the worst p99, in ms, and counts missing data as 0 / null', async () => {
        configure({ analysis: ANALYSIS });
        cw.on(GetMetricDataCommand).resolves({
          MetricDataResults: metricData({ green: { requests: [400, 600], errors: [1, 2], latency: [0.12, 0.25] }, blue: { requests: [] } }),
        });
        const result = await handler(judgeRequest());
        expect(result).toMatchObject({
          metrics: {
            green: { requests: 1000, errors: 3, errorRatePercent: 0.3, latencyP99Ms: 250 },
            blue: { requests: 0, errors: 0, errorRatePercent: 0, latencyP99Ms: null },
          },
        });
      });

      test('follows GetMetricData pages', async () => {
        configure({ analysis: ANALYSIS });
        cw.on(GetMetricDataCommand)
          .resolvesOnce({ MetricDataResults: [{ Id: 'green_requests', Values: [500] }], NextToken: 'page-2' })
          .resolvesOnce({ MetricDataResults: [{ Id: 'green_requests', Values: [500] }] });
        const result = await handler(judgeRequest());
        expect(cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
        expect(cw.commandCalls(GetMetricDataCommand)[1].args[0].input.NextToken).toBe('page-2');
        expect(result).toMatchObject({ metrics: { green: { requests: 1000 } } });
      });

      test('too few requests is INCONCLUSIVE and keeps the passes', async () => {
        configure({ analysis: ANALYSIS });
        cw.on(GetMetricDataCommand).resolves({ MetricDataResults: metricData({ green: { requests: [12] }, blue: { requests: [900] } }) });
        const result = await handler(judgeRequest(1, 3));
        expect(result).toMatchObject({ verdict: 'INCONCLUSIVE', bake: { passes: 1, required: 3 } });
        expect((result as JudgeResult).reasons[0]).toMatch(/green served 12 request\(s\)/);
      });

      test('a regression against the stable color is a FAIL with the numbers', async () => {
        configure({ analysis: ANALYSIS });
        cw.on(GetMetricDataCommand).resolves({
          MetricDataResults: metricData({ green: { requests: [1000], errors: [80], latency: [0.2] }, blue: { requests: [1000], errors: [2], latency: [0.2] } }),
        });
        const result = await handler(judgeRequest(2, 3));
        expect(result).toMatchObject({ verdict: 'FAIL', bake: { passes: 2, required: 3 } });
        expect((result as JudgeResult).reasons).toEqual([expect.stringMatching(/green answered 8% of 1000 requests/)]);
      });

      test('healthy metrics count a pass', async () => {
        configure({ analysis: ANALYSIS });
        cw.on(GetMetricDataCommand).resolves({
          MetricDataResults: metricData({ green: { requests: [1000], errors: [1], latency: [0.2] }, blue: { requests: [1000], errors: [1], latency: [0.19] } }),
        });
        await expect(handler(judgeRequest(2, 3))).resolves.toMatchObject({ verdict: 'PASS', bake: { passes: 3, required: 3 }, reasons: [] });
      });
    });

    test.each([
      [{ action: 'judge', targetColor: 'green', stableColor: 'green', bake: { passes: 0, required: 1 } }, 'stableColor', '"green"'],
      [{ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes: -1, required: 1 } }, 'passes', '-1'],
      [{ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes: 0, required: 0 } }, 'required', '0'],
      [{ action: 'judge', targetColor: 'green', stableColor: 'blue' }, 'bake', 'undefined'],
      [{ action: 'checkAlarms' }, 'targetColor', 'undefined'],
    ])('refuses %j with INVALID_REQUEST naming the field and the value', async (request, field, given) => {
      configure();
      await expectInvalidRequest(handler(request), field, given);
    });
  });
});
