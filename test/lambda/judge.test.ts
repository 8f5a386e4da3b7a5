import { GetMetricDataCommand, GetMetricDataInput, MetricDataResult, StateValue } from '@aws-sdk/client-cloudwatch';
import { ErrorName, JudgeConfig, JudgeResult } from '../../lambda/shared/contracts';
import { ANALYSIS } from './support/analysis-config';
import { handler } from '../../lambda/judge/judge-handler';
import { FakeAws, installAwsFakes } from './support/aws';
import { expectInvalidRequest, NOW_MS, setConfig } from './support/env';
import { MetricQuery } from '../../rehearsal/fakes';

type Color = 'blue' | 'green';
/** One color's ALB target-group numbers over the judge's window (absent: no datapoint). */
interface Traffic { requests?: number; errors?: number; latencySeconds?: number }

let fakes: FakeAws;
/** What the ALB metric source answers, per color, for the window that ends now. */
let traffic: Partial<Record<Color, Traffic>>;

function configure(overrides: Partial<JudgeConfig> = {}): void {
  const config: JudgeConfig = {
    alarmsByColor: { blue: ['web-blue-5xx'], green: ['web-green-5xx', 'web-green-latency'] },
    sharedAlarms: ['web-slo'],
    ...overrides,
  };
  setConfig(config);
}

/**
 * A metric alarm in the fake CloudWatch, in `state`. Missing data is ignored, so it keeps the state
 * set here (its metric never gets data).
 */
function metricAlarm(name: string, state: StateValue = StateValue.OK, reason = 'Threshold Crossed: test'): void {
  fakes.aws.cloudwatch.putMetricAlarm({
    AlarmName: name, Namespace: 'Shop', MetricName: name, Statistic: 'Sum', Period: 60, EvaluationPeriods: 1,
    Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'ignore',
  });
  setAlarmState(name, state, reason);
}

function setAlarmState(name: string, state: StateValue, reason = 'Threshold Crossed: test'): void {
  fakes.aws.cloudwatch.setAlarmState({ AlarmName: name, StateValue: state, StateReason: reason });
}

/** The alarms every test starts with, all OK; web-slo is a composite alarm (of an alarm nobody watches). */
function allOk(): void {
  for (const name of ['web-blue-5xx', 'web-green-5xx', 'web-green-latency', 'web-slo-burn']) metricAlarm(name);
  fakes.aws.cloudwatch.putCompositeAlarm({ AlarmName: 'web-slo', AlarmRule: 'ALARM("web-slo-burn")' });
}

/** The ALB's numbers from `traffic`, for the target groups of ANALYSIS; null elsewhere. */
function albMetrics(query: MetricQuery): number | null {
  if (query.namespace !== 'AWS/ApplicationELB' || query.dimensions.LoadBalancer !== ANALYSIS.loadBalancer) return null;
  const color = (Object.keys(ANALYSIS.targetGroups) as Color[]).find((c) => ANALYSIS.targetGroups[c] === query.dimensions.TargetGroup);
  const numbers = color ? traffic[color] : undefined;
  const value = query.metricName === 'RequestCount' ? numbers?.requests
    : query.metricName === 'HTTPCode_Target_5XX_Count' ? numbers?.errors
      : query.metricName === 'TargetResponseTime' ? numbers?.latencySeconds : undefined;
  return value ?? null;
}

/** The inputs of the judge's GetMetricData calls. */
function getMetricDataCalls(): GetMetricDataInput[] {
  return fakes.aws.calls.filter((c) => c.service === 'cloudwatch' && c.command === 'GetMetricData').map((c) => c.input as GetMetricDataInput);
}

function describeAlarmsCalls(): Array<{ AlarmNames?: string[]; AlarmTypes?: string[] }> {
  return fakes.aws.calls.filter((c) => c.service === 'cloudwatch' && c.command === 'DescribeAlarms').map((c) => c.input as { AlarmNames?: string[] });
}

/**
 * Answers GetMetricData with these raw responses instead of the fake (which returns one page and one
 * datapoint per period of the window): for the shapes CloudWatch may return that it cannot produce.
 */
function getMetricDataAnswers(...pages: Array<{ MetricDataResults: MetricDataResult[]; NextToken?: string }>): { inputs: () => GetMetricDataInput[] } {
  const stub = fakes.aws.stub('cloudwatch')!;
  let behaviour = stub.on(GetMetricDataCommand as never);
  for (const page of pages) behaviour = behaviour.resolvesOnce(page as never);
  return { inputs: () => stub.commandCalls(GetMetricDataCommand as never).map((c) => c.args[0].input as GetMetricDataInput) };
}

const judgeRequest = (passes = 0, required = 3) => ({ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes, required } });

beforeEach(() => {
  fakes = installAwsFakes();
  traffic = {};
  fakes.aws.cloudwatch.addMetricSource({ value: albMetrics });
  allOk();
});
afterEach(() => fakes.restore());

describe('Judge', () => {
  describe('checkAlarms', () => {
    test('reports the state of the new color\'s alarms, the shared ones and the stable color\'s own (its baseline health)', async () => {
      configure();
      await expect(handler({ action: 'checkAlarms', targetColor: 'green' })).resolves.toEqual({
        alarms: [
          { name: 'web-green-5xx', state: 'OK' },
          { name: 'web-green-latency', state: 'OK' },
          { name: 'web-slo', state: 'OK' },
          { name: 'web-blue-5xx', state: 'OK' },
        ],
      });
      expect(describeAlarmsCalls()).toEqual([expect.objectContaining({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })]);
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
      for (const name of many) metricAlarm(name);
      configure({ alarmsByColor: { blue: [], green: many }, sharedAlarms: [] });
      const result = await handler({ action: 'checkAlarms', targetColor: 'green' });
      expect((result as { alarms: unknown[] }).alarms).toHaveLength(150);
      expect(describeAlarmsCalls().map((input) => input.AlarmNames!.length)).toEqual([100, 50]);
    });

    test('turns throttling into a ZdtRetryableError naming the operation', async () => {
      configure();
      fakes.aws.faults.add({ service: 'cloudwatch', command: 'DescribeAlarms', error: 'Throttling' });
      await expect(handler({ action: 'checkAlarms', targetColor: 'green' })).rejects.toMatchObject({
        name: ErrorName.RETRYABLE,
        message: expect.stringContaining('DescribeAlarms'),
      });
    });
  });

  describe('judge', () => {
    test('an alarm that does not exist is ALARM_NOT_FOUND, never OK', async () => {
      configure();
      fakes.aws.cloudwatch.deleteAlarms({ AlarmNames: ['web-slo'] });
      await expect(handler(judgeRequest())).rejects.toMatchObject({
        name: ErrorName.ALARM_NOT_FOUND,
        message: expect.stringContaining('web-slo'),
      });
    });

    test('fails when an alarm is in ALARM, naming it, without counting a pass or reading metrics', async () => {
      configure({ analysis: ANALYSIS });
      setAlarmState('web-green-5xx', StateValue.ALARM, 'Threshold Crossed: 1 datapoint [12.0] was greater than 5.0');
      const result = await handler(judgeRequest(2, 3));
      expect(result).toMatchObject({ verdict: 'FAIL', bake: { passes: 2, required: 3 } });
      expect((result as JudgeResult).reasons).toEqual(['Alarm web-green-5xx is in ALARM: Threshold Crossed: 1 datapoint [12.0] was greater than 5.0', 'Rolling back to blue.']);
      expect(getMetricDataCalls()).toHaveLength(0);
    });

    test('a shared composite alarm in ALARM fails the release', async () => {
      configure();
      setAlarmState('web-slo-burn', StateValue.ALARM);
      await expect(handler(judgeRequest(2, 3))).resolves.toMatchObject({ verdict: 'FAIL', reasons: [expect.stringContaining('Alarm web-slo is in ALARM'), 'Rolling back to blue.'] });
    });

    test('the stable color\'s own alarm in ALARM holds the step: not counted, the hold starts, and it says so', async () => {
      configure({ baselineHoldSeconds: 900 });
      setAlarmState('web-blue-5xx', StateValue.ALARM, 'Threshold Crossed: 5.2 > 5');
      const result = await handler(judgeRequest(1, 3)) as JudgeResult;
      expect(result).toMatchObject({ verdict: 'HOLD', bake: { passes: 1, required: 3, evidence: { heldSince: new Date(NOW_MS).toISOString() } }, baseline: { color: 'blue', degraded: true, holdStarted: true } });
      expect(result.reasons[0]).toBe('blue (the stable color) is degraded: Alarm web-blue-5xx is in ALARM: Threshold Crossed: 5.2 > 5');
      expect(result.reasons.at(-1)).toMatch(/does not count toward the bake \(1 of 3\); holding for up to 15 min, then the rollout's baseline policy/);
    });

    test('a hold that has lasted the hold timeout is BASELINE_DEGRADED; a hold already running does not start again', async () => {
      configure({ baselineHoldSeconds: 900 });
      setAlarmState('web-blue-5xx', StateValue.ALARM);
      const heldAt = (secondsAgo: number) => ({ ...judgeRequest(1, 3), bake: { passes: 1, required: 3, evidence: { heldSince: new Date(NOW_MS - secondsAgo * 1000).toISOString() } } });
      await expect(handler(heldAt(899))).resolves.toMatchObject({ verdict: 'HOLD', baseline: { holdStarted: false } });
      const expired = await handler(heldAt(900)) as JudgeResult;
      expect(expired).toMatchObject({ verdict: 'BASELINE_DEGRADED', bake: { passes: 1 } });
      expect(expired.reasons.at(-1)).toMatch(/longer than the 15 min the baseline hold allows: the rollout's baseline policy decides/);
    });

    test('once the stable color recovers, the hold ends and judgements count again', async () => {
      configure({ baselineHoldSeconds: 900 });
      const request = { ...judgeRequest(1, 3), bake: { passes: 1, required: 3, evidence: { heldSince: new Date(NOW_MS - 60_000).toISOString() } } };
      const result = await handler(request) as JudgeResult;
      expect(result).toMatchObject({ verdict: 'WAIT', bake: { passes: 2 }, baseline: { degraded: false } });
      expect(result.bake.evidence?.heldSince).toBeUndefined();
    });

    test('an alarm with insufficient data does not fail the release', async () => {
      configure();
      setAlarmState('web-green-latency', StateValue.INSUFFICIENT_DATA, 'Insufficient Data: 1 datapoint was unknown');
      await expect(handler(judgeRequest(0, 3))).resolves.toMatchObject({ verdict: 'WAIT', reasons: [expect.stringMatching(/^Healthy so far: bake 1 of 3/)] });
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
        await handler(judgeRequest());
        const input = getMetricDataCalls()[0];
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

      test.each([
        [0, 60, 0, 60], [120, 300, 120, 420], [90, 60, 120, 180], [0, 600, 0, 600],
      ])('with a metric delay of %d s, a %d s window reads the whole minutes that ended by then: %d to %d s ago, one period', async (metricDelaySeconds, windowSeconds, endAgo, startAgo) => {
        configure({ analysis: { ...ANALYSIS, windowSeconds }, metricDelaySeconds });
        await handler(judgeRequest());
        const input = getMetricDataCalls()[0];
        expect(new Set(input.MetricDataQueries!.map((q) => q.MetricStat!.Period))).toEqual(new Set([windowSeconds]));
        expect({ start: input.StartTime, end: input.EndTime }).toEqual({ start: new Date(NOW_MS - startAgo * 1000), end: new Date(NOW_MS - endAgo * 1000) });
      });

      test('reports the window\'s numbers, the p99 in ms, and counts missing data as 0 / null', async () => {
        configure({ analysis: ANALYSIS });
        traffic = { green: { requests: 1000, errors: 3, latencySeconds: 0.25 } };
        const result = await handler(judgeRequest());
        expect(result).toMatchObject({
          metrics: {
            green: { requests: 1000, errors: 3, errorRatePercent: 0.3, latencyP99Ms: 250 },
            blue: { requests: 0, errors: 0, errorRatePercent: 0, latencyP99Ms: null },
          },
        });
      });

      test('sums counts over every period CloudWatch returns and takes the worst p99', async () => {
        configure({ analysis: ANALYSIS });
        const values = { green_requests: [400, 600], green_errors: [1, 2], green_latency: [0.12, 0.25], blue_requests: [] };
        getMetricDataAnswers({ MetricDataResults: Object.entries(values).map(([Id, Values]) => ({ Id, Values, StatusCode: 'Complete' })) });
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
        const answers = getMetricDataAnswers(
          { MetricDataResults: [{ Id: 'green_requests', Values: [500] }], NextToken: 'page-2' },
          { MetricDataResults: [{ Id: 'green_requests', Values: [500] }] },
        );
        const result = await handler(judgeRequest());
        expect(answers.inputs()).toHaveLength(2);
        expect(answers.inputs()[1].NextToken).toBe('page-2');
        expect(result).toMatchObject({ metrics: { green: { requests: 1000 } } });
      });

      test('too few requests is INCONCLUSIVE, its bake counting the judgement should the policy proceed (PROCEED keeps the judge\'s bake)', async () => {
        configure({ analysis: ANALYSIS });
        traffic = { green: { requests: 12 }, blue: { requests: 900 } };
        const result = await handler(judgeRequest(1, 3));
        expect(result).toMatchObject({ verdict: 'INCONCLUSIVE', bake: { passes: 2, required: 3 } });
        expect((result as JudgeResult).reasons[0]).toMatch(/green served 12 request\(s\)/);
      });

      test('a regression against the stable color is a FAIL with the numbers', async () => {
        configure({ analysis: ANALYSIS });
        traffic = { green: { requests: 1000, errors: 80, latencySeconds: 0.2 }, blue: { requests: 1000, errors: 2, latencySeconds: 0.2 } };
        const result = await handler(judgeRequest(2, 3));
        expect(result).toMatchObject({ verdict: 'FAIL', bake: { passes: 2, required: 3 } });
        expect((result as JudgeResult).reasons).toEqual([expect.stringMatching(/green answered 8% of 1000 requests/), 'Rolling back to blue.']);
      });

      test('healthy metrics count a pass', async () => {
        configure({ analysis: ANALYSIS });
        traffic = { green: { requests: 1000, errors: 1, latencySeconds: 0.2 }, blue: { requests: 1000, errors: 1, latencySeconds: 0.19 } };
        await expect(handler(judgeRequest(2, 3))).resolves.toMatchObject({ verdict: 'PASS', bake: { passes: 3, required: 3 }, reasons: ['Bake done (3 of 3) with no regression found: the step completes.'] });
      });
    });

    describe('only the step\'s own data clears it', () => {
      const HEALTHY = { green: { requests: 1000, errors: 1, latencySeconds: 0.2 }, blue: { requests: 1000, errors: 1, latencySeconds: 0.2 } };
      /** A request of a step whose bake began `secondsAgo` before now. */
      const stepRequest = (secondsAgo: number, passes = 0) => ({ ...judgeRequest(passes, 3), bake: { passes, required: 3, startedAt: new Date(NOW_MS - secondsAgo * 1000).toISOString() } });

      test('healthy data that began before the step\'s shift is a WAIT that keeps the passes, and says why', async () => {
        configure({ analysis: ANALYSIS, metricDelaySeconds: 120 });
        traffic = HEALTHY;
        // Data read: 420 s to 120 s ago; the step began 400 s ago.
        const result = await handler(stepRequest(400, 1)) as JudgeResult;
        expect(result).toMatchObject({ verdict: 'WAIT', bake: { passes: 1, required: 3, startedAt: new Date(NOW_MS - 400_000).toISOString() } });
        expect(result.reasons).toEqual([expect.stringMatching(/^Waiting for this step's data: the step began at .*120 s metric delay.* this judgement does not count toward the bake/)]);
      });

      test('once the data read began after the shift, a healthy judgement counts and carries the step\'s start', async () => {
        configure({ analysis: ANALYSIS, metricDelaySeconds: 120 });
        traffic = HEALTHY;
        const startedAt = new Date(NOW_MS - 420_000).toISOString();
        await expect(handler(stepRequest(420, 1))).resolves.toMatchObject({ verdict: 'WAIT', bake: { passes: 2, required: 3, startedAt } });
      });

      test('too few requests before the step began is no INCONCLUSIVE: it waits', async () => {
        configure({ analysis: ANALYSIS, metricDelaySeconds: 120 });
        traffic = { green: { requests: 3 }, blue: { requests: 900 } };
        await expect(handler(stepRequest(60))).resolves.toMatchObject({ verdict: 'WAIT', bake: { passes: 0 } });
      });

      test('a regression of the new color in that data fails at once', async () => {
        configure({ analysis: ANALYSIS, metricDelaySeconds: 120 });
        traffic = { green: { requests: 1000, errors: 80, latencySeconds: 0.2 }, blue: { requests: 1000, errors: 2, latencySeconds: 0.2 } };
        await expect(handler(stepRequest(200))).resolves.toMatchObject({ verdict: 'FAIL', reasons: [expect.stringMatching(/green answered 8% of 1000 requests/), 'Rolling back to blue.'] });
      });

      test('an alarm in ALARM fails at once, whatever the data', async () => {
        configure({ analysis: ANALYSIS, metricDelaySeconds: 120 });
        setAlarmState('web-green-5xx', StateValue.ALARM);
        await expect(handler(stepRequest(10))).resolves.toMatchObject({ verdict: 'FAIL' });
      });

      test('without analysis, the last whole minute CloudWatch has must be the step\'s', async () => {
        configure({ metricDelaySeconds: 120 });
        await expect(handler(stepRequest(179))).resolves.toMatchObject({ verdict: 'WAIT', bake: { passes: 0 }, reasons: [expect.stringMatching(/^Waiting for this step's data/)] });
        await expect(handler(stepRequest(180))).resolves.toMatchObject({ verdict: 'WAIT', bake: { passes: 1 }, reasons: [expect.stringMatching(/^Healthy so far/)] });
        expect(getMetricDataCalls()).toEqual([]);
      });
    });

    test.each([
      [{ analysis: { ...ANALYSIS, windowSeconds: 90 } }, 'windowSeconds', '90'],
      [{ analysis: { ...ANALYSIS, windowSeconds: 30 } }, 'windowSeconds', '30'],
      [{ metricDelaySeconds: -1 }, 'metricDelaySeconds', '-1'],
    ] as Array<[Partial<JudgeConfig>, string, string]>)('refuses a configuration %j with INVALID_REQUEST naming the field: windows are whole minutes', async (overrides, field, given) => {
      configure(overrides);
      await expectInvalidRequest(handler(judgeRequest()), field, given);
    });

    test.each([
      [{ action: 'judge', targetColor: 'green', stableColor: 'blue', bake: { passes: 0, required: 1, startedAt: 'yesterday' } }, 'startedAt', '"yesterday"'],
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
