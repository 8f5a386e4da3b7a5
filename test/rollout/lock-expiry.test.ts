import { StateTable } from '../../lambda/shared/contracts';
import { SCENARIOS } from '../../rehearsal/scenarios';
import { Simulation } from '../../rehearsal/simulation';
import { synthEverJust } from '../rehearsal/scenarios-support';

const stacks = synthEverJust();

describe('ProgressiveRollout lock', () => {
  test("a crashed execution's lock blocks rollouts until it expires, then a later rollout succeeds", async () => {
    const sim = await Simulation.create(stacks, { scenario: SCENARIOS['healthy-release'] });
    try {
      const crash = new AbortController();
      // The execution stops, and the guard (the ExecutionEnded rule's target) cannot clean up either: DynamoDB fails
      // every read of every attempt (the SDK's own retries within an invocation, and the rule's redeliveries) while
      // the outage lasts. Only the lock's expiry is left.
      let outage: ReturnType<typeof sim.aws.faults.add> | undefined;
      sim.clock.schedule({
        at: sim.originMs + 90_000,
        label: 'crash',
        run: () => {
          outage = sim.aws.faults.add({ service: 'dynamodb', command: 'GetItem', error: 'InternalServerError', times: Infinity });
          crash.abort();
        },
      });
      const crashed = await sim.run({}, { signal: crash.signal, executionName: 'crashed' });
      expect(crashed.status).toBe('ABORTED');
      const item = sim.stateItem();
      expect(item[StateTable.LOCK_OWNER]).toBe(crashed.executionArn);
      expect(sim.albWeights()[sim.colors.release]).toBe(1);
      expect(sim.ruleInvocations(crashed).map((i) => i.error)).toEqual(['ZdtRetryableError', 'ZdtRetryableError', 'ZdtRetryableError']);

      // DynamoDB is back: the lock is still held by the crashed execution.
      sim.aws.faults.remove(outage!);
      const blocked = await sim.run({}, { executionName: 'blocked' });
      expect(blocked.error).toBe('ZdtRolloutInProgress');

      await sim.clock.advanceTo((Number(item[StateTable.LOCK_EXPIRES_AT]) + 1) * 1000);
      const later = await sim.run({}, { executionName: 'later' });
      expect(later.status).toBe('SUCCEEDED');
      expect(sim.albWeights()[sim.colors.release]).toBe(100);
      expect(sim.stateItem()[StateTable.LIVE_COLOR]).toBe(sim.colors.release);
      expect(sim.stateItem()[StateTable.LOCK_OWNER]).toBeUndefined();
      expect(sim.result(later).summary.outcome).toBe('RELEASED');
    } finally {
      sim.dispose();
    }
    // Three executions on the virtual clock, one of them a whole release: about 15 s of real time on an idle machine.
  }, 180_000);
});
