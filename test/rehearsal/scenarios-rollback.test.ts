import { RolloutEvent } from '../../lambda/shared/contracts';
import { SCENARIOS } from '../../rehearsal/scenarios';
import { API_SLACK_MS, expectPlannedPlusLatency, lastRuleWrite, observe, Observed, STEP_DATA_WAIT_MS, synthEverJust } from './scenarios-support';
import { SDK_RETRIES } from '../../lambda/shared/sdk-retries';

const stacks = synthEverJust();

/** Invariant 2: 100% stable written and read back first, then the events, and nothing notified before. */
function rolledBackSafely(o: Observed, trigger: string): void {
  const s = o.result.summary;
  expect(s.outcome).toBe('ROLLED_BACK');
  expect(s.executionStatus).toBe('FAILED');
  expect(s.error).toBe('ZdtRolledBack');
  expect(s.cause).toContain(`(${trigger})`);
  expect(o.albWeights[o.colors.stable]).toBe(100);
  expect(o.stateItem.liveColor ?? o.colors.stable).toBe(o.colors.stable);
  expect(o.stateItem.lockOwner).toBeUndefined();
  const restoreIndex = lastRuleWrite(o);
  const firstRollbackEvent = o.calls.findIndex((c) => c.service === 'events' && JSON.stringify(c.input).includes(RolloutEvent.ROLLED_BACK));
  const firstRollbackMessage = o.calls.findIndex((c) => c.service === 'sns' && JSON.stringify(c.input).includes(RolloutEvent.ROLLED_BACK));
  expect(restoreIndex).toBeGreaterThan(0);
  expect(firstRollbackEvent).toBeGreaterThan(restoreIndex);
  expect(firstRollbackMessage).toBeGreaterThan(firstRollbackEvent);
  const types = s.events.map((e) => e.detailType);
  expect(types.slice(-2)).toEqual([RolloutEvent.ROLLBACK_TRIGGERED, RolloutEvent.ROLLED_BACK]);
  expect(s.detectedAtMs).toBeDefined();
  expect(s.safeAtMs).toBeGreaterThanOrEqual(s.detectedAtMs!);
}

describe('rehearsal scenarios on the example app: rollbacks', () => {
  test('an error-rate regression is rolled back at the canary, with a small blast radius', async () => {
    const o = await observe(stacks, 'error-rate-regression');
    rolledBackSafely(o, 'judge-fail');
    const s = o.result.summary;
    expect(Math.max(...o.weightHistory.map((c) => c.weights[o.colors.release]))).toBe(1);
    // The release gets traffic once preflight's API calls are done (the rehearsal models their latency).
    expect(s.regressionStartedAtMs).toBeLessThan(API_SLACK_MS);
    // The first judgement whose data holds the canary's first whole minute: that minute ends ~60 s in, and the
    // judge reads it 120 s later (metricDelay; CloudWatch has it after 90 s). Alarms see it no sooner.
    expect(s.timeToDetectMs).toBeGreaterThanOrEqual(180_000);
    expect(s.timeToDetectMs).toBeLessThan(180_000 + API_SLACK_MS);
    // Safe = the rollback's write and its verifying read: API latency, not minutes.
    expect(s.timeToSafeMs).toBeGreaterThan(0);
    expect(s.timeToSafeMs).toBeLessThan(API_SLACK_MS);
    // 1% of 1,000 req/s for 180 s, 20% failing, minus the 0.1% baseline: ~358.
    expect(s.failedRequests).toBeGreaterThan(330);
    expect(s.failedRequests).toBeLessThan(390);
  });

  test('a latency regression is rolled back', async () => {
    const o = await observe(stacks, 'latency-regression');
    rolledBackSafely(o, 'judge-fail');
    // 3x slower everywhere: the median comparison sees it first (p50 120 ms against 40 ms), on a few dozen requests.
    expect(o.result.summary.cause).toMatch(/p50 latency this step: \w+ 120 ms against \w+ 40 ms/);
  });

  test('a regression that starts only at 50% is rolled back from 50%', async () => {
    const o = await observe(stacks, 'regression-from-50-percent');
    rolledBackSafely(o, 'judge-fail');
    expect(Math.max(...o.weightHistory.map((c) => c.weights[o.colors.release]))).toBe(50);
    expectPlannedPlusLatency(o.result.summary.regressionStartedAtMs, 3 * (300_000 + STEP_DATA_WAIT_MS));
  });

  test('low traffic is INCONCLUSIVE and the policy (ROLLBACK) rolls back', async () => {
    const o = await observe(stacks, 'low-traffic');
    rolledBackSafely(o, 'inconclusive');
    expect(o.result.timeline.some((e) => e.kind === 'verdict' && e.verdict === 'INCONCLUSIVE')).toBe(true);
    // Step sizing: at 30 requests a minute not even 100% could clear within the bake, so the first judgement says so
    // (after the 1% step's first minute), instead of every step exposing users first.
    expect(o.result.summary.cause).toMatch(/not even 100% of the traffic gives the new color enough requests/);
    expect(Math.max(...o.weightHistory.map((c) => c.weights[o.colors.release]))).toBe(1);
  });

  test('N consecutive judge errors trip the circuit breaker and roll back', async () => {
    const o = await observe(stacks, 'judge-api-errors');
    rolledBackSafely(o, 'circuit-breaker');
    expect(o.result.summary.cause).toMatch(/^Rolled back to \w+ \(circuit-breaker\): 5 consecutive judge errors/);
    // 5 judgements x 4 attempts each (READ_RETRY: the first + MaxAttempts 3 retries), every one failed by the fault.
    expect(o.faultsFired).toEqual([20]);
    expect(o.result.timeline.filter((e) => e.kind === 'state' && e.text === 'Count Judge Error')).toHaveLength(5);
  });

  test('a rollback write that fails transiently is retried and verified', async () => {
    const o = await observe(stacks, 'rollback-write-transient');
    rolledBackSafely(o, 'judge-fail');
    expect(o.faultsFired).toEqual([3]);
  });

  test('a rollback that fails for good ends ROLLBACK_FAILED, says so, and reports the traffic left split', async () => {
    const o = await observe(stacks, 'rollback-fails');
    const s = o.result.summary;
    expect(s.outcome).toBe(SCENARIOS['rollback-fails'].expect.outcome);
    expect(s.error).toBe('ZdtRollbackFailed');
    expect(s.events.map((e) => e.detailType)).toContain(RolloutEvent.ROLLBACK_FAILED);
    expect(s.events.map((e) => e.detailType)).not.toContain(RolloutEvent.ROLLED_BACK);
    expect(s.finalWeights).toEqual(o.albWeights);
    expect(o.albWeights[o.colors.release]).toBe(1);
    expect(s.liveColor).toBeNull();
    expect(s.safeAtMs).toBeUndefined();
    // The state machine's rollback: the first attempt + ROLLBACK_RETRY's 7 retries.
    const stoppedAt = o.executions[0].stoppedAt;
    expect(o.calls.filter((c) => c.injected && c.time <= stoppedAt)).toHaveLength(8);
    // The execution ended FAILED holding the lock: the ExecutionEnded rule's guard tries too (its first invocation
    // and Lambda's 2 asynchronous retries), each with its SDK client's attempts (lambda/shared/sdk-retries.ts: the
    // guard's caller does not retry promptly), and fails the same way. The state machine's handlers make one attempt.
    const guardAttempts = 3 * SDK_RETRIES.maxAttempts;
    expect(o.calls.filter((c) => c.injected && c.time > stoppedAt)).toHaveLength(guardAttempts);
    expect(o.faultsFired[0]).toBe(8 + guardAttempts);
  });

  test('manual pause then abort rolls back', async () => {
    const o = await observe(stacks, 'pause-abort');
    rolledBackSafely(o, 'aborted');
    expect(o.result.summary.cause).toContain('release notes say no');
  });

  test('zdt abort while baking rolls back at the next judgement', async () => {
    const o = await observe(stacks, 'abort-while-baking');
    rolledBackSafely(o, 'aborted');
    // The abort lands at 150 s; the bake checks it before every judgement, at most one judge interval later (the
    // example app's judge reads ALB minutes here, its application emitting no signal: a minute).
    expect(o.result.summary.detectedAtMs).toBeGreaterThanOrEqual(150_000);
    expect(o.result.summary.detectedAtMs).toBeLessThan(150_000 + 60_000 + API_SLACK_MS);
    expect(o.stateItem.abortRequested).toBeUndefined();
  });
});
