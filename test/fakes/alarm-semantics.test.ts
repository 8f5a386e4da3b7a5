import { AlarmRule, AlarmRuleError, evaluateAlarm, MathValue, MetricExpression, MetricMathError, minimumSamplesForPercentile, TreatMissingData } from '../../rehearsal/fakes';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function points(...values: Array<number | null>) {
  return values.map((value, i) => ({ timestamp: T0 + i * MINUTE, value }));
}

function judge(values: Array<number | null>, treatMissingData: TreatMissingData, options: { m?: number; current?: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' } = {}) {
  return evaluateAlarm({
    datapoints: points(...values),
    threshold: 5,
    comparisonOperator: 'GreaterThanThreshold',
    datapointsToAlarm: options.m ?? values.length,
    treatMissingData,
    currentState: options.current ?? 'OK',
  });
}

describe('evaluateAlarm (CloudWatch alarm semantics)', () => {
  test('goes to ALARM when M out of N datapoints breach (2 of 3)', () => {
    const result = judge([9, 1, 7], 'missing', { m: 2 });
    expect(result.state).toBe('ALARM');
    expect(result.reason).toMatch(/^Threshold Crossed: 2 out of the last 3 datapoints \[7\.0 \(24\/11\/26 12:02:00\), 9\.0 \(24\/11\/26 12:00:00\)\] were greater than the threshold \(5\.0\)/);
  });

  test('stays OK when fewer than M datapoints breach (1 of 3, M = 2)', () => {
    expect(judge([9, 1, 2], 'missing', { m: 2 }).state).toBe('OK');
  });

  test('treats the threshold itself as not breaching for GreaterThanThreshold', () => {
    expect(judge([5, 5, 5], 'missing').state).toBe('OK');
  });

  test.each<[TreatMissingData, string]>([
    ['missing', 'INSUFFICIENT_DATA'],
    ['notBreaching', 'OK'],
    ['breaching', 'ALARM'],
    ['ignore', 'ALARM'],
  ])('with no data at all and TreatMissingData=%s goes to %s (ignore keeps the current state)', (treat, expected) => {
    expect(judge([null, null, null], treat, { current: 'ALARM' }).state).toBe(expected);
  });

  test('with gaps, breaching counts missing datapoints against the service and notBreaching for it', () => {
    expect(judge([9, null, null], 'breaching', { m: 3 }).state).toBe('ALARM');
    expect(judge([9, null, null], 'notBreaching', { m: 2 }).state).toBe('OK');
    expect(judge([9, null, 8], 'missing', { m: 2 }).state).toBe('ALARM');
    expect(judge([9, null, 1], 'ignore', { m: 2, current: 'ALARM' }).state).toBe('OK');
  });

  test('reports unknown datapoints in the INSUFFICIENT_DATA reason', () => {
    expect(judge([null, null], 'missing').reason).toBe('Insufficient Data: 2 datapoints were unknown.');
  });
});

/**
 * The rules of the CloudWatch User Guide, "Using Amazon CloudWatch alarms" (rehearsal/fakes/alarm-evaluation.ts
 * R1-R7 quotes them). Ranges are written as the guide writes them, oldest first: 0 a non-breaching datapoint,
 * X a breaching one, - a missing one; the threshold is 5 (GreaterThanThreshold), Evaluation Periods 3, the
 * evaluation range 5.
 */
describe('evaluateAlarm: the User Guide\'s rules', () => {
  type State = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  const parse = (row: string) => row.split(' ').map((c) => (c === '-' ? null : c === 'X' ? 9 : 1));
  const evaluate = (row: string, treat: TreatMissingData, m: number, current: State = 'INSUFFICIENT_DATA', n = 3) => evaluateAlarm({
    datapoints: points(...parse(row)), evaluationPeriods: n, threshold: 5, comparisonOperator: 'GreaterThanThreshold',
    datapointsToAlarm: m, treatMissingData: treat, currentState: current,
  });
  const RETAIN = 'retain';
  const TREATMENTS: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

  // "How alarm state is evaluated when data is missing", first table (Datapoints to Alarm 3), and the two rows of
  // its 2019 edition that the current one dropped ("- - - - X", "X - - - -").
  test.each([
    ['0 - X - X', 'OK', 'OK', 'OK', 'OK'],
    ['0 - - - -', 'OK', 'OK', 'OK', 'OK'],
    ['- - - - -', 'INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK'],
    ['0 X X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['- - X - -', 'ALARM', RETAIN, 'ALARM', 'OK'],
    ['- - - - X', 'INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK'],
    ['X - - - -', 'ALARM', RETAIN, 'ALARM', 'OK'],
  ])('3 out of 3, range "%s": MISSING %s, IGNORE %s, BREACHING %s, NOT BREACHING %s (the guide\'s table)', (row, ...expected) => {
    TREATMENTS.forEach((treat, i) => {
      const want = expected[i] === RETAIN ? 'INSUFFICIENT_DATA' : expected[i];
      expect([treat, evaluate(row, treat, 3).state]).toEqual([treat, want]);
      // "Retain current state" retains any state.
      if (expected[i] === RETAIN) expect(evaluate(row, treat, 3, 'ALARM').state).toBe('ALARM');
    });
  });

  // Second table: a 2 out of 3 (M out of N) alarm, and the 2019 edition's "- - - - X".
  test.each([
    ['0 - X - X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['0 0 X 0 X', 'ALARM', 'ALARM', 'ALARM', 'ALARM'],
    ['0 - X - -', 'OK', 'OK', 'ALARM', 'OK'],
    ['- - - - 0', 'OK', 'OK', 'ALARM', 'OK'],
    ['- - - X -', 'ALARM', RETAIN, 'ALARM', 'OK'],
    ['- - - - X', 'INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK'],
  ])('2 out of 3, range "%s": MISSING %s, IGNORE %s, BREACHING %s, NOT BREACHING %s (the guide\'s table)', (row, ...expected) => {
    TREATMENTS.forEach((treat, i) => {
      const want = expected[i] === RETAIN ? 'INSUFFICIENT_DATA' : expected[i];
      expect([treat, evaluate(row, treat, 2).state]).toEqual([treat, want]);
      if (expected[i] === RETAIN) expect(evaluate(row, treat, 2, 'OK').state).toBe('OK');
    });
  });

  test('R2: with enough real datapoints in the range, the most recent real ones are evaluated and TreatMissingData is not needed', () => {
    // Delayed data: the two newest periods are not ingested yet; the three before them breach.
    for (const treat of TREATMENTS) {
      const result = evaluate('X X X - -', treat, 3, 'OK');
      expect([treat, result.state, result.rule, result.filled]).toEqual([treat, 'ALARM', 'enough-data', 0]);
      expect(result.evaluated.map((p) => p.value)).toEqual([9, 9, 9]);
    }
    // Without gaps, only the newest N count: the two older breaching datapoints are ignored.
    expect(evaluate('X X 0 0 0', 'breaching', 2).state).toBe('OK');
  });

  test('R3: Datapoints to Alarm breaching datapoints need not be consecutive', () => {
    expect(evaluate('0 0 X 0 X', 'missing', 2).state).toBe('ALARM');
    expect(evaluate('0 0 X 0 0', 'missing', 2).state).toBe('OK');
  });

  test('R4: with too few real datapoints, only the missing ones needed are filled, every real one counts', () => {
    const result = evaluate('0 - - - -', 'breaching', 3);
    // 1 real (not breaching) + 2 filled as breaching: 2 < 3.
    expect([result.state, result.filled, result.breaching]).toEqual(['OK', 2, 2]);
    expect(result.reason).toMatch(/\(2 missing treated as breaching\)/);
    // Once the non-breaching datapoint leaves the range, the next evaluation alarms (the guide's comment on row 2).
    expect(evaluate('- - - - -', 'breaching', 3).state).toBe('ALARM');
  });

  test('R5: a range with no datapoint at all: missing -> INSUFFICIENT_DATA, ignore keeps the state', () => {
    expect(evaluate('- - - - -', 'missing', 3, 'OK').reason).toBe('Insufficient Data: 5 datapoints were unknown.');
    expect(evaluate('- - - - -', 'ignore', 3, 'OK').state).toBe('OK');
  });

  test('R6: a lone breaching datapoint alarms only once it is Datapoints to Alarm periods old (premature alarm)', () => {
    expect(evaluate('- - - - X', 'missing', 3).rule).toBe('waiting-for-data');
    expect(evaluate('- - - X -', 'missing', 3).state).toBe('INSUFFICIENT_DATA');
    const old = evaluate('- - X - -', 'missing', 3);
    expect([old.state, old.rule]).toEqual(['ALARM', 'premature-alarm']);
    expect(old.reason).toMatch(/is 3 periods old/);
  });

  test('R7: a percentile from fewer than 10/(1-p) samples (10/p below p50) changes nothing when the alarm says ignore', () => {
    expect([99, 90, 50, 10, 100].map(minimumSamplesForPercentile)).toEqual([1000, 100, 20, 100, undefined]);
    const p99 = (samples: number, mode: 'evaluate' | 'ignore') => evaluateAlarm({
      datapoints: [0, 1, 2].map((i) => ({ timestamp: T0 + i * MINUTE, value: 9, sampleCount: samples })),
      threshold: 5, comparisonOperator: 'GreaterThanThreshold', datapointsToAlarm: 3, treatMissingData: 'missing', currentState: 'OK',
      percentile: 99, evaluateLowSampleCountPercentile: mode,
    });
    expect(p99(999, 'ignore')).toMatchObject({ state: 'OK', rule: 'low-sample-count' });
    expect(p99(999, 'ignore').reason).toMatch(/fewer than 1000 samples \(the minimum for p99\)/);
    expect(p99(1000, 'ignore').state).toBe('ALARM');
    expect(p99(10, 'evaluate').state).toBe('ALARM');
  });
});

describe('MetricExpression (CloudWatch metric math)', () => {
  const series = (...values: Array<number | null>): MathValue => ({ kind: 'series', values });
  function run(expression: string, vars: Record<string, MathValue>, length = 3): MathValue {
    return MetricExpression.parse(expression).evaluate((id) => {
      if (!vars[id]) throw new MetricMathError(`unknown id ${id}`);
      return vars[id];
    }, length, 60);
  }

  test('computes an error rate per period and drops periods with zero requests (division by zero)', () => {
    expect(run('100 * errors / requests', { errors: series(1, 0, 3), requests: series(10, 0, 30) })).toEqual(series(10, null, 10));
  });

  test('has a value only where both time series have one', () => {
    expect(run('errors / requests', { errors: series(null, 1, 2), requests: series(10, 10, null) })).toEqual(series(null, 0.1, null));
  });

  test('FILL replaces missing datapoints with a value, the last value (REPEAT) or an interpolation (LINEAR)', () => {
    expect(run('FILL(m, 0)', { m: series(null, 2, null) })).toEqual(series(0, 2, 0));
    expect(run('FILL(m, REPEAT)', { m: series(1, null, 3, null) }, 4)).toEqual(series(1, 1, 3, 3));
    expect(run('FILL(m, LINEAR)', { m: series(1, null, 3) })).toEqual(series(1, 2, 3));
  });

  test('IF picks per period, with no value where the condition has none', () => {
    expect(run('IF(requests > 5, errors, 0)', { requests: series(10, 1, null), errors: series(4, 4, 4) })).toEqual(series(4, 0, null));
    expect(run('IF(requests >= 10 AND errors > 0, 1)', { requests: series(10, 10, 1), errors: series(1, 0, 1) })).toEqual(series(1, null, null));
  });

  test('respects precedence, parentheses, unary minus and powers', () => {
    expect(run('2 + 3 * 4', {})).toEqual({ kind: 'scalar', value: 14 });
    expect(run('(2 + 3) * 4', {})).toEqual({ kind: 'scalar', value: 20 });
    expect(run('-2 ^ 2 + 10 / 4', {})).toEqual({ kind: 'scalar', value: -1.5 });
  });

  test('MAX of one time series is a number; MAX of an array is a time series', () => {
    expect(run('MAX(m)', { m: series(1, 7, null) })).toEqual({ kind: 'scalar', value: 7 });
    expect(run('MAX([a, b])', { a: series(1, 5, null), b: series(3, 2, null) })).toEqual(series(3, 5, null));
    expect(run('MIN([a, b])', { a: series(1, 5, null), b: series(3, 2, 4) })).toEqual(series(1, 2, 4));
  });

  test('rejects MAX with two arguments, as CloudWatch does, naming the array form', () => {
    expect(() => run('MAX(a, b)', { a: series(1, 2, 3), b: series(1, 2, 3) })).toThrow(/MAX\(\[a, b\]\)/);
  });

  test('reports syntax errors with their position, and unsupported functions by name', () => {
    expect(() => MetricExpression.parse('100 * (errors / requests')).toThrow(/Expected '\)'/);
    expect(() => MetricExpression.parse('errors +* 2')).toThrow(/position 9/);
    expect(() => MetricExpression.parse('RATE(m1)')).toThrow(/RATE is CloudWatch metric math that .* does not evaluate/);
    expect(() => MetricExpression.parse('FOO(m1)')).toThrow(/Unknown function 'FOO'/);
  });

  test('lists the ids an expression references', () => {
    expect(MetricExpression.parse('100 * FILL(errors, 0) / MAX([requests, floor_])').references().sort()).toEqual(['errors', 'floor_', 'requests']);
  });
});

describe('AlarmRule (composite alarm rules)', () => {
  const states: Record<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'> = { errors: 'ALARM', latency: 'OK', canary: 'INSUFFICIENT_DATA' };
  const holds = (rule: string) => AlarmRule.parse(rule).evaluate((name) => states[name]);

  test('evaluates ALARM, OK and INSUFFICIENT_DATA with AND, OR, NOT and parentheses', () => {
    expect(holds('ALARM("errors") OR ALARM("latency")')).toBe(true);
    expect(holds('ALARM("errors") AND ALARM("latency")')).toBe(false);
    expect(holds('ALARM(errors) AND NOT (OK(latency) AND INSUFFICIENT_DATA("canary"))')).toBe(false);
    expect(holds('INSUFFICIENT_DATA(canary) AND OK("latency")')).toBe(true);
    expect(holds('TRUE AND NOT FALSE')).toBe(true);
  });

  test('accepts alarm ARNs for names', () => {
    const rule = AlarmRule.parse('ALARM("arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors")');
    expect(rule.alarms()).toEqual(['errors']);
    expect(rule.evaluate((name) => states[name])).toBe(true);
  });

  test('treats an alarm that does not exist as in no state', () => {
    expect(holds('ALARM("gone") OR OK("gone") OR INSUFFICIENT_DATA("gone")')).toBe(false);
  });

  test('rejects malformed rules with the position of the error', () => {
    expect(() => AlarmRule.parse('ALARM("errors") AND')).toThrow(AlarmRuleError);
    expect(() => AlarmRule.parse('ALARM("errors"')).toThrow(/Expected '\)'/);
    expect(() => AlarmRule.parse('ALERT("errors")')).toThrow(/position 1/);
  });
});
