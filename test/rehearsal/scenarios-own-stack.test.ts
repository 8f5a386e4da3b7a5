import { Duration } from 'aws-cdk-lib';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { AnalysisMethod } from '../../lib/rollout/analysis-method';
import { clock, systemClock } from '../../lambda/shared/clock';
import { rehearse } from '../../rehearsal/rehearse';
import { network, rollout } from '../constructs/fixtures';
import { STEP_DATA_WAIT_MS } from './scenarios-support';

describe('rehearse() on a user\'s own small stack', () => {
  test('runs the only rollout of a stack, with a strategy override, and restores the clock', async () => {
    const f = network();
    rollout(f, { strategy: RolloutStrategy.canary({ bake: Duration.minutes(5) }) });
    const entries: string[] = [];
    const result = await rehearse(f.stack, {
      strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(2) }),
      onTimeline: (e) => entries.push(e.kind),
    });
    expect(result.summary.outcome).toBe('RELEASED');
    expect(result.summary.strategy).toMatch(/^allAtOnce 100%/);
    // The bake, plus the wait for the step's own CloudWatch data (default metricDelay 2 min, plus a minute).
    expect(result.summary.durationMs).toBeGreaterThanOrEqual(2 * 60 * 1000 + STEP_DATA_WAIT_MS);
    expect(result.summary.durationMs).toBeLessThan(2 * 60 * 1000 + STEP_DATA_WAIT_MS + 5_000);
    expect(result.summary.finalWeights).toEqual({ blue: 0, green: 100 });
    expect(entries).toContain('weights');
    expect(clock()).toBe(systemClock);
  });

  test('a metricDelay shorter than CloudWatch\'s real delay reads empty minutes: with fixed thresholds, the healthy release is INCONCLUSIVE and rolls back', async () => {
    const f = network();
    rollout(f, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(2) }), analysis: { method: AnalysisMethod.THRESHOLDS } });
    const late = await rehearse(f.stack, { metricIngestionDelaySeconds: 200 });
    expect(late.summary.outcome).toBe('ROLLED_BACK');
    expect(late.summary.cause).toMatch(/served 0 request\(s\)/);
    const onTime = await rehearse(f.stack, { metricIngestionDelaySeconds: 110 });
    expect(onTime.summary.outcome).toBe('RELEASED');
  });

  test('the sequential judge reads a step\'s minutes again until they arrive: late data still clears the step', async () => {
    const f = network();
    rollout(f, { strategy: RolloutStrategy.allAtOnce({ bake: Duration.minutes(2) }) });
    const late = await rehearse(f.stack, { metricIngestionDelaySeconds: 200 });
    expect(late.summary.outcome).toBe('RELEASED');
    expect(late.timeline.some((e) => e.kind === 'verdict' && e.verdict === 'PASS')).toBe(true);
  });

  test('a bad release on a user stack rolls back and counts its blast radius', async () => {
    const f = network();
    rollout(f);
    const result = await rehearse(f.stack, { scenario: 'error-rate-regression' });
    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.failedRequests).toBeGreaterThan(0);
    expect(result.summary.finalWeights).toEqual({ blue: 100, green: 0 });
  });
});
