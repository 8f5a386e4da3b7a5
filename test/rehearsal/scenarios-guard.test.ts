import { RolloutEvent, StateTable } from '../../lambda/shared/contracts';
import { SCENARIOS } from '../../rehearsal/scenarios';
import { Simulation } from '../../rehearsal/simulation';
import { API_SLACK_MS, observe, operatorAtMs, synthEverJust } from './scenarios-support';

const stacks = synthEverJust();
const STOP_AT_MS = operatorAtMs('execution-stopped');

describe('rehearsal scenarios on the example app: the execution guard', () => {
  test('an execution stopped at 5% is restored to 100% stable by the guard, which then releases the lock and says so', async () => {
    const o = await observe(stacks, 'execution-stopped');
    const s = o.result.summary;
    const run = o.executions[0];
    const stopAt = o.originMs + STOP_AT_MS;
    expect(run.status).toBe('ABORTED');
    // The state machine never rolled back itself.
    expect(run.events.some((e) => e.state === 'Rollback')).toBe(false);

    // Split at the stop, then 100% stable: written after the execution ended, i.e. by the guard.
    const before = [...o.weightHistory].reverse().find((c) => c.time <= stopAt)!;
    expect(before.weights[o.colors.release]).toBe(5);
    const writesAfterStop = o.calls.filter((c) => c.time >= stopAt && c.command === 'ModifyRule' && !c.error);
    expect(writesAfterStop).toHaveLength(1);
    expect(writesAfterStop[0].time).toBeGreaterThanOrEqual(run.stoppedAt);
    expect(writesAfterStop[0].time).toBeLessThan(run.stoppedAt + API_SLACK_MS);
    expect(o.weightHistory[o.weightHistory.length - 1].weights[o.colors.stable]).toBe(100);
    expect(o.albWeights[o.colors.stable]).toBe(100);

    // The lock is released; the live color is still the stable one.
    expect(o.stateItem[StateTable.LOCK_OWNER]).toBeUndefined();
    expect(o.stateItem[StateTable.LIVE_COLOR] ?? o.colors.stable).toBe(o.colors.stable);

    // Traffic first, then the guard's events.
    const restoreIndex = o.calls.indexOf(writesAfterStop[0]);
    const guardEventsIndex = o.calls.findIndex((c) => c.service === 'events' && c.time >= stopAt && JSON.stringify(c.input).includes(RolloutEvent.ROLLED_BACK));
    expect(guardEventsIndex).toBeGreaterThan(restoreIndex);
    const guardEvents = o.events.filter((e) => e.time >= stopAt);
    expect(guardEvents.map((e) => e.detailType)).toEqual([RolloutEvent.ROLLBACK_TRIGGERED, RolloutEvent.ROLLED_BACK]);
    expect(guardEvents.every((e) => (e.detail as { trigger?: { kind?: string } }).trigger?.kind === 'execution-ended')).toBe(true);
    expect(guardEvents.every((e) => (e.detail as { execution?: string }).execution === run.executionArn)).toBe(true);

    // The summary: rolled back, by the guard, with the guard's events and invocation.
    expect(s.outcome).toBe(SCENARIOS['execution-stopped'].expect.outcome);
    expect(s.executionStatus).toBe('ABORTED');
    expect(s.cause).toMatch(/StopExecution.*guard.*restored 100% to \w+ \(verified\) and released the lock/);
    expect(s.liveColor).toBe(o.colors.stable);
    expect(s.detectedAtMs).toBe(STOP_AT_MS);
    expect(s.safeAtMs! - s.detectedAtMs!).toBeGreaterThan(0);
    expect(s.safeAtMs! - s.detectedAtMs!).toBeLessThan(API_SLACK_MS);
    expect(s.events.map((e) => e.detailType).slice(-2)).toEqual([RolloutEvent.ROLLBACK_TRIGGERED, RolloutEvent.ROLLED_BACK]);
    expect(s.lambdaInvocations).toBe(Object.values(run.taskInvocations.byFunction).reduce((a, b) => a + b, 0) + 1);

    // The timeline shows the stop, the status change reaching the rule, and the guard's invocation, in that order.
    const at = (re: RegExp) => o.result.timeline.findIndex((e) => re.test(e.text));
    expect(at(/operator: StopExecution/)).toBeGreaterThanOrEqual(0);
    expect(at(/Execution Status Change: ABORTED -> rule .*ExecutionEnded/)).toBeGreaterThan(at(/operator: StopExecution/));
    expect(at(/rule .*ExecutionEnded.* -> guard: restored 100% to/)).toBeGreaterThan(at(/Execution Status Change: ABORTED/));
  });

  test('an execution that cleaned up after itself is left alone by the guard', async () => {
    const o = await observe(stacks, 'error-rate-regression');
    const run = o.executions[0];
    expect(o.result.summary.outcome).toBe('ROLLED_BACK');
    expect(o.result.summary.error).toBe('ZdtRolledBack');
    // The guard ran (FAILED matches the rule) but found the lock released: no write, no event after the execution.
    expect(o.result.timeline.some((e) => /-> guard: none \(the execution released its lock\)/.test(e.text))).toBe(true);
    expect(o.calls.filter((c) => c.time > run.stoppedAt && (c.command === 'ModifyRule' || c.service === 'events'))).toHaveLength(0);
  });

  test('a successful execution does not reach the rule', async () => {
    const sim = await Simulation.create(stacks, { scenario: SCENARIOS['healthy-release'] });
    try {
      const run = await sim.run();
      expect(run.status).toBe('SUCCEEDED');
      expect(sim.bus.rules.some((r) => r.logicalId.includes('ExecutionEnded') && r.enabled)).toBe(true);
      expect(sim.ruleInvocations()).toHaveLength(0);
      // The rollout's own events reach the example's notification rules; none reaches the guard's rule.
      expect(sim.bus.matched.filter((m) => m.rules.some((r) => r.includes('ExecutionEnded')))).toHaveLength(0);
    } finally {
      sim.dispose();
    }
  });
});
