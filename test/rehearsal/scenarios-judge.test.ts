import { RolloutEvent } from '../../lambda/shared/contracts';
import { observe, synthEverJust } from './scenarios-support';

const stacks = synthEverJust();

describe('rehearsal scenarios on the example app: the sequential judge', () => {
  test('a healthy release at 100 req/s with both colors at 0.5% 5xx is RELEASED', async () => {
    const o = await observe(stacks, 'healthy-moderate-traffic');
    const s = o.result.summary;
    expect(s.outcome).toBe('RELEASED');
    expect(o.albWeights[o.colors.release]).toBe(100);
    expect(s.events.map((e) => e.detailType)).toEqual([RolloutEvent.STARTED, ...Array(5).fill(RolloutEvent.STEP_COMPLETED), RolloutEvent.COMPLETED]);
    // Every canary judgement saw the new color's occasional 5xx, and none decided on it.
    const verdicts = o.result.timeline.filter((e) => e.kind === 'verdict').map((e) => e.verdict);
    expect(verdicts).not.toContain('FAIL');
    expect(verdicts.filter((v) => v === 'PASS')).toHaveLength(5);
  });

  test('with noise (the seeded stochastic traffic model), the same healthy release is RELEASED on every seed tried', async () => {
    for (const seed of [1, 2, 3]) {
      const o = await observe(stacks, 'healthy-moderate-traffic', { seed });
      expect({ seed, outcome: o.result.summary.outcome, cause: o.result.summary.cause }).toEqual({ seed, outcome: 'RELEASED', cause: undefined });
    }
  });

  test('at 10 req/s the 1% step is merged into the next (step sizing), saying why in Step Completed, and the release completes', async () => {
    const o = await observe(stacks, 'healthy-low-traffic');
    const s = o.result.summary;
    expect(s.outcome).toBe('RELEASED');
    const first = s.events.find((e) => e.detailType === RolloutEvent.STEP_COMPLETED)!;
    expect((first.detail as { reasons: string[] }).reasons.join(' ')).toMatch(/a step needs at least [\d.]+% of the traffic .* This step's 1% is below it: the step is merged into the next one/);
    // The conclusion alone, as a string a notification's text can hold.
    expect((first.detail as { reason: string }).reason).toMatch(/^This step's 1% is below it: the step is merged into the next one/);
    expect((s.events.filter((e) => e.detailType === RolloutEvent.STEP_COMPLETED).at(-1)!.detail as { reason: string }).reason).toMatch(/the step completes\.$/);
    // Merged at its first judgement: the new color held 1% for one judge interval, not a bake.
    expect(o.result.timeline.filter((e) => e.kind === 'verdict').map((e) => e.verdict)[0]).toBe('PASS');
  });

  test('a degraded baseline holds the step, emits Baseline Degraded once, then pauses: the release never reaches 100%', async () => {
    const o = await observe(stacks, 'baseline-degraded');
    const s = o.result.summary;
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(s.cause).toContain('(aborted)');
    expect(Math.max(...o.weightHistory.map((c) => c.weights[o.colors.release]))).toBeLessThan(100);
    const types = s.events.map((e) => e.detailType);
    expect(types.filter((t) => t === RolloutEvent.BASELINE_DEGRADED)).toHaveLength(1);
    // hold, then the policy (PAUSE) after the 15-minute hold, then the operator's abort
    expect(types.indexOf(RolloutEvent.PAUSED)).toBeGreaterThan(types.indexOf(RolloutEvent.BASELINE_DEGRADED));
    const degraded = s.events.find((e) => e.detailType === RolloutEvent.BASELINE_DEGRADED)!;
    const paused = s.events.find((e) => e.detailType === RolloutEvent.PAUSED)!;
    expect(paused.atMs - degraded.atMs).toBeGreaterThanOrEqual(15 * 60_000);
    expect(JSON.stringify(degraded.detail)).toMatch(/\(the stable color\) is degraded/);
    const verdicts = o.result.timeline.filter((e) => e.kind === 'verdict');
    expect(verdicts.some((e) => e.verdict === 'HOLD')).toBe(true);
    expect(verdicts.some((e) => e.verdict === 'BASELINE_DEGRADED')).toBe(true);
    // No step completed while the baseline was degraded.
    const completedAfter = s.events.filter((e) => e.detailType === RolloutEvent.STEP_COMPLETED && e.atMs > degraded.atMs);
    expect(completedAfter).toHaveLength(0);
  });
});
