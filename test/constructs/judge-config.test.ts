import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AnalysisMethod, BaselineDegradedAction, Color, RolloutStrategy } from '../../lib';
import { definitionOf, handlerConfigOf, network, rollout } from './fixtures';

function judgeConfig(props: Parameters<typeof rollout>[1] = {}): any {
  const f = network();
  rollout(f, props);
  return handlerConfigOf(Template.fromStack(f.stack), 'judge');
}

describe('ProgressiveRollout: the judge\'s analysis', () => {
  test('is sequential by default: 1% false rollbacks per rollout, half to the two 5xx tests of the rollout, half to the two latency tests of each step', () => {
    const config = judgeConfig();
    expect(config.analysis).toMatchObject({
      method: 'SEQUENTIAL', minRequests: 50, maxErrorRatePercent: 1, errorRateBaselineFactor: 2, latencyBaselineFactor: 1.5, maxLatencyP99Ms: 2000,
      // The default canary has 5 steps: 0.005 / 2 for each 5xx test, 0.005 / (5 x 2) for each latency test.
      sequential: { falseRollbackRate: 0.01, errorAlphaPerTest: 0.0025, alphaPerTest: 0.0005, steps: 5, rolloutTests: 2, testsPerStep: 2, latencyMinRequests: 1000, missRate: 0.1, bakeExtensionSeconds: 600 },
    });
    expect(config.baselineHoldSeconds).toBe(900);
  });

  test('the miss rate and the bake extension are the user\'s, and the extension is counted in the lock per step (SEQUENTIAL only)', () => {
    const strategy = RolloutStrategy.allAtOnce({ bake: Duration.minutes(10) });
    const f = network();
    const r = rollout(f, { strategy, analysis: { missRatePercent: 5, maxBakeExtension: Duration.minutes(20) } });
    expect(handlerConfigOf(Template.fromStack(f.stack), 'judge').analysis.sequential).toMatchObject({ missRate: 0.05, bakeExtensionSeconds: 1200 });
    const plain = rollout(network(), { strategy, analysis: { maxBakeExtension: Duration.seconds(0) } });
    expect(r.plan.lockTtlSeconds - plain.plan.lockTtlSeconds).toBe(1200);
    const thresholds = rollout(network(), { strategy, analysis: { method: AnalysisMethod.THRESHOLDS } });
    expect(thresholds.plan.lockTtlSeconds).toBe(plain.plan.lockTtlSeconds);
    expect(() => judgeConfig({ analysis: { missRatePercent: 60 } })).toThrow(/analysis\.missRatePercent must be a number from 0.01 to 50, got 60/);
  });

  test('the budget follows the strategy\'s steps and the rate the user sets', () => {
    const config = judgeConfig({ strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(10) }), analysis: { falseRollbackRatePercent: 0.4 } });
    expect(config.analysis.sequential).toMatchObject({ falseRollbackRate: 0.004, errorAlphaPerTest: 0.001, alphaPerTest: 0.001, steps: 1 });
  });

  test('the step\'s 5xx evidence carries into the next step: Plan starts it empty, Start Bake keeps it', () => {
    const f = network();
    rollout(f);
    const states = definitionOf(f.stack).States;
    expect(states.Plan.Parameters.bake).toEqual({ passes: 0, required: 1, evidence: {} });
    expect(states['Start Bake'].Parameters).toMatchObject({ 'passes': 0, 'evidence.$': '$.bake.evidence' });
  });

  test('the fixed thresholds stay selectable, without a sequential budget, watching each color\'s health composite', () => {
    const config = judgeConfig({ analysis: { method: AnalysisMethod.THRESHOLDS } });
    expect(config.analysis.method).toBe('THRESHOLDS');
    expect(config.analysis.sequential).toBeUndefined();
    expect(config.alarmsByColor.green).toHaveLength(1);
  });

  test('under the sequential analysis the judge watches only the unhealthy-hosts alarm: its own tests judge the 5xx and p99 limits', () => {
    // The per-minute 5xx / p99 alarms fire on noise (about 13% of healthy releases at 10 req/s and a 2% baseline):
    // under SEQUENTIAL the limits are the analysis's anytime-valid tests, whose false-rollback rate is budgeted.
    const f = network();
    const r = rollout(f);
    const [fn] = Object.values<any>(Template.fromStack(f.stack).findResources('AWS::Lambda::Function', { Metadata: { 'cdk-zero-downtime:handler': 'judge' } }));
    const raw = JSON.stringify(fn.Properties.Environment.Variables.ZDT_CONFIG);
    const ref = (a: { alarmName: string }) => JSON.stringify(Stack.of(r).resolve(a.alarmName));
    const green = r.healthAlarmsOf(Color.GREEN)!;
    expect(raw).toContain(ref(green.unhealthyHosts));
    for (const a of [green.errorRate, green.latencyP99, green.relativeErrorRate, green.relativeLatencyP99, green.composite]) expect(raw).not.toContain(ref(a));
    expect(handlerConfigOf(Template.fromStack(f.stack), 'judge').alarmsByColor.green).toHaveLength(1);
  });

  test('refuses a smallest regression of 1x or less, naming the prop and the value', () => {
    expect(() => judgeConfig({ analysis: { errorRateBaselineFactor: 1 } })).toThrow(/analysis\.errorRateBaselineFactor must be above 1 with AnalysisMethod\.SEQUENTIAL.*got 1/);
    expect(() => judgeConfig({ analysis: { method: AnalysisMethod.THRESHOLDS, errorRateBaselineFactor: 1 } })).not.toThrow();
  });

  test.each([
    [{ analysis: { falseRollbackRatePercent: 0 } }, /analysis\.falseRollbackRatePercent must be a number from 0.0001 to 50, got 0/],
    [{ analysis: { latencyMinRequests: 0 } }, /analysis\.latencyMinRequests must be an integer from 1 to 10000000, got 0/],
    [{ baselineHoldTimeout: Duration.seconds(30) }, /baselineHoldTimeout/],
  ])('refuses %j', (props, message) => {
    expect(() => judgeConfig(props as never)).toThrow(message);
  });

  test('a degraded baseline: the Verdict choice emits Baseline Degraded when a hold starts, and BASELINE_DEGRADED follows the policy', () => {
    const f = network();
    rollout(f);
    const states = definitionOf(f.stack).States;
    const choices = states.Verdict.Choices as any[];
    const hold = choices.find((c) => JSON.stringify(c).includes('holdStarted'));
    expect(hold.Next).toBe('Baseline Degraded Event');
    expect(states['Baseline Degraded Event'].Parameters.Entries[0].DetailType).toBe('Rollout Baseline Degraded');
    const expired = choices.find((c) => c.StringEquals === 'BASELINE_DEGRADED');
    expect(expired.Next).toBe('Paused Event');
    // The judge returns the whole bake, the step's evidence included.
    expect(states['Record Verdict']).toMatchObject({ InputPath: '$.verdict.bake', ResultPath: '$.bake' });

    const g = network();
    rollout(g, { onBaselineDegraded: BaselineDegradedAction.ROLLBACK });
    const rollingBack = definitionOf(g.stack).States;
    const next = (rollingBack.Verdict.Choices as any[]).find((c) => c.StringEquals === 'BASELINE_DEGRADED').Next;
    expect(next).toBe('Baseline Still Degraded');
    expect(rollingBack['Baseline Still Degraded'].Parameters.kind).toBe('baseline-degraded');
  });
});
