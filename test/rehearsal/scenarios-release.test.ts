import { RolloutEvent } from '../../lambda/shared/contracts';
import { SCENARIOS } from '../../rehearsal/scenarios';
import { API_SLACK_MS, expectPlannedPlusLatency, observe, Observed, operatorAtMs, STEP_DATA_WAIT_MS, synthEverJust } from './scenarios-support';

const stacks = synthEverJust();
const released = (o: Observed) => {
  expect(o.result.summary.outcome).toBe('RELEASED');
  expect(o.albWeights[o.colors.release]).toBe(100);
  expect(o.stateItem.liveColor).toBe(o.colors.release);
  expect(o.stateItem.lockOwner).toBeUndefined();
};

describe('rehearsal scenarios on the example app: releases and refusals', () => {
  test('a healthy release ends at 100% on the new color, recorded live, lock released', async () => {
    const o = await observe(stacks, 'healthy-release');
    released(o);
    expect(o.weightHistory.slice(1).map((c) => c.weights[o.colors.release])).toEqual([1, 5, 25, 50, 100]);
    expect(o.result.summary.events.map((e) => e.detailType)).toEqual([RolloutEvent.STARTED, ...Array(5).fill(RolloutEvent.STEP_COMPLETED), RolloutEvent.COMPLETED]);
    expect(o.result.summary.failedRequests).toBe(0);
    expectPlannedPlusLatency(o.result.summary.durationMs, 5 * (5 * 60 * 1000 + STEP_DATA_WAIT_MS));
    expect(o.result.summary.estimatedCostUsd).toBeGreaterThan(0);
    expect(o.result.series.length).toBeGreaterThan(0);
    expect(o.result.series[o.result.series.length - 1].weights[o.colors.release]).toBe(100);
  });

  test('ELB throttling on a weight write is retried and the rollout completes', async () => {
    const o = await observe(stacks, 'elb-throttling');
    released(o);
    expect(o.faultsFired).toEqual([2]);
    expect(o.calls.filter((c) => c.command === 'ModifyRule' && c.injected)).toHaveLength(2);
    expect(o.result.timeline.filter((e) => e.kind === 'fault')).toHaveLength(2);
  });

  test('a second rollout started while one runs is refused and the first goes on untouched', async () => {
    const o = await observe(stacks, 'concurrent-rollout');
    expect(o.executions).toHaveLength(2);
    const second = o.executions.find((e) => e.executionArn.endsWith(':second-rollout'))!;
    expect(second.status).toBe('FAILED');
    expect(second.error).toBe('ZdtRolloutInProgress');
    expect(o.events.filter((e) => (e.detail as { execution?: string }).execution === second.executionArn)).toHaveLength(0);
    released(o);
    // No weight write in the second's lifetime beyond the first's own steps: 1, 5, 25, 50, 100.
    expect(o.weightHistory.slice(1).map((c) => c.weights[o.colors.release])).toEqual([1, 5, 25, 50, 100]);
  });

  test('a stack update during a rollout re-points the live route without moving the weights', async () => {
    const o = await observe(stacks, 'stack-update-during-rollout');
    const updateAt = o.originMs + operatorAtMs('stack-update-during-rollout');
    const before = [...o.weightHistory].reverse().find((c) => c.time < updateAt)!;
    const during = (t: number) => t >= updateAt && t < updateAt + API_SLACK_MS;
    const at = o.weightHistory.filter((c) => during(c.time));
    expect(before.weights[o.colors.release]).toBe(5);
    expect(at.every((c) => c.weights[o.colors.release] === 5)).toBe(true);
    const update = o.calls.filter((c) => during(c.time) && c.command === 'ModifyRule');
    expect(update.length).toBeGreaterThan(0);
    expect(o.result.timeline.some((e) => e.kind === 'note' && /cdk deploy .*updated .*LiveRoute/.test(e.text))).toBe(true);
    released(o);
  });

  test('manual pause then promote completes the release', async () => {
    const o = await observe(stacks, 'pause-promote');
    released(o);
    const types = o.result.summary.events.map((e) => e.detailType);
    expect(types).toContain(RolloutEvent.PAUSED);
    const paused = o.result.summary.events.find((e) => e.detailType === RolloutEvent.PAUSED)!;
    const completed = o.result.summary.events.find((e) => e.detailType === RolloutEvent.STEP_COMPLETED)!;
    expect(completed.atMs - paused.atMs).toBeGreaterThanOrEqual(300_000);
    expect(completed.atMs - paused.atMs).toBeLessThan(300_000 + API_SLACK_MS);
  });

  test('zdt promote --full while the canary bakes skips the remaining steps at the next judgement: 1% then 100%, still judged, released', async () => {
    const o = await observe(stacks, 'promote-full');
    released(o);
    expect(o.weightHistory.slice(1).map((c) => c.weights[o.colors.release])).toEqual([1, 100]);
    const types = o.result.summary.events.map((e) => e.detailType);
    expect(types).toEqual([RolloutEvent.STARTED, RolloutEvent.PROMOTED_FULL, RolloutEvent.STEP_COMPLETED, RolloutEvent.COMPLETED]);
    const promoted = o.result.summary.events.find((e) => e.detailType === RolloutEvent.PROMOTED_FULL)!;
    // At the first judgement after the request (judged every 30 s with the release signal), not at the step's end.
    expect(promoted.atMs).toBeGreaterThanOrEqual(operatorAtMs('promote-full'));
    expect(promoted.atMs).toBeLessThan(operatorAtMs('promote-full') + 60_000 + API_SLACK_MS);
    // The 100% step baked its whole bake after the skip: its judgements count from the new shift.
    const completed = o.result.summary.events.find((e) => e.detailType === RolloutEvent.STEP_COMPLETED)!;
    expect(completed.atMs - promoted.atMs).toBeGreaterThanOrEqual(5 * 60_000);
    expect(o.stateItem.promoteFullRequested).toBeUndefined();
  });

  test('zdt promote --full of a bad release: the 100% step is still judged and rolled back', async () => {
    const o = await observe(stacks, 'promote-full-bad-hotfix');
    expect(o.result.summary.outcome).toBe('ROLLED_BACK');
    expect(o.result.summary.cause).toContain('(judge-fail)');
    expect(o.weightHistory.slice(1).map((c) => c.weights[o.colors.release])).toEqual([1, 100, 0]);
    expect(o.albWeights[o.colors.stable]).toBe(100);
    expect(o.stateItem.liveColor ?? o.colors.stable).toBe(o.colors.stable);
    expect(o.stateItem.lockOwner).toBeUndefined();
  });

  test('a pause answered with zdt promote --full: Step Completed for the paused step, then the last step, skipping 50%', async () => {
    const o = await observe(stacks, 'pause-promote-full');
    released(o);
    expect(o.weightHistory.slice(1).map((c) => c.weights[o.colors.release])).toEqual([10, 100]);
    expect(o.result.summary.events.map((e) => e.detailType)).toEqual([
      RolloutEvent.STARTED, RolloutEvent.PAUSED, RolloutEvent.STEP_COMPLETED, RolloutEvent.PROMOTED_FULL, RolloutEvent.STEP_COMPLETED, RolloutEvent.COMPLETED,
    ]);
  });

  test('a new color with no healthy targets is refused before any weight moves', async () => {
    const o = await observe(stacks, 'new-color-unhealthy');
    expect(o.result.summary.outcome).toBe('REFUSED');
    expect(o.result.summary.error).toBe(SCENARIOS['new-color-unhealthy'].expect.error);
    expect(o.weightHistory).toHaveLength(1);
    expect(o.albWeights[o.colors.stable]).toBe(100);
    expect(o.calls.filter((c) => c.time >= o.originMs && (c.command === 'ModifyRule' || c.command === 'CreateRule'))).toHaveLength(0);
    expect(o.stateItem.lockOwner).toBeUndefined();
    expect(o.events).toHaveLength(0);
  });

  test('a missing alarm is refused, never treated as OK', async () => {
    const o = await observe(stacks, 'alarm-missing');
    expect(o.result.summary.outcome).toBe('REFUSED');
    expect(o.result.summary.error).toBe('ZdtAlarmNotFound');
    expect(o.result.summary.cause).toMatch(/GreenHealth/);
    expect(o.weightHistory).toHaveLength(1);
    expect(o.stateItem.lockOwner).toBeUndefined();
  });
});
