/**
 * A rehearsal's paused rollout answered through the Step Functions API, as `zdt promote` / `zdt abort` answer it
 * (SendTaskSuccess / SendTaskFailure with the pause token the state table records), instead of by the scenario's
 * operator model.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { ErrorName, StateTable } from '../../lambda/shared/contracts';
import { SCENARIOS } from '../../rehearsal/scenarios';
import { Simulation } from '../../rehearsal/simulation';
import { synthEverJust } from './scenarios-support';

const stacks = synthEverJust();
/** When the CLI answers: well after the 10% step's 3-minute bake, well before the 24-hour pause timeout. */
const ANSWER_AT_MS = 10 * 60_000;
const PAUSE_TIMEOUT_MS = 24 * 60 * 60_000;

/** A paused rollout with no operator decision in the scenario; at ANSWER_AT_MS, `answer` is sent with the pause token. */
async function pausedRollout(answer: (token: string) => SendTaskSuccessCommand | SendTaskFailureCommand) {
  const sim = await Simulation.create(stacks, { scenario: { ...SCENARIOS['pause-promote'], name: 'pause-answered-by-api', operator: [] } });
  const sent: string[] = [];
  sim.clock.schedule({
    at: sim.originMs + ANSWER_AT_MS,
    label: 'zdt promote / abort',
    run: async () => {
      const token = sim.stateItem()[StateTable.PAUSE_TOKEN];
      if (typeof token !== 'string') throw new Error(`expected the paused rollout to record its pause token, found ${JSON.stringify(sim.stateItem())}`);
      sent.push(token);
      await new SFNClient({}).send(answer(token) as SendTaskSuccessCommand);
    },
  });
  return { sim, sent };
}

describe('Simulation task tokens', () => {
  test('a paused rollout promoted through SendTaskSuccess continues at that instant and releases', async () => {
    const { sim, sent } = await pausedRollout((token) => new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ promoted: true }) }));
    try {
      const run = await sim.run();

      expect(run.status).toBe('SUCCEEDED');
      expect(sim.albWeights()[sim.colors.release]).toBe(100);
      expect(sent).toHaveLength(1);
      expect(sim.aws.stepfunctions.task(sent[0])).toMatchObject({ status: 'SUCCEEDED', answeredBy: 'api', executionArn: run.executionArn, endedAt: sim.originMs + ANSWER_AT_MS });
      const gateExited = run.events.find((e) => e.type === 'StateExited' && e.state === 'Wait For Promote')!;
      expect(gateExited.at).toBe(sim.originMs + ANSWER_AT_MS);
      // The scenario's operator model did not answer (nor time the pause out).
      expect(sim.timeline.map((t) => t.text)).not.toContainEqual(expect.stringMatching(/nobody answered|operator: promote/));
      expect(sim.aws.stepfunctions.refused()).toEqual([]);
      // The operator model's wait for the 24-hour pause timeout ended with the answer: time does not jump to it.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(sim.clock.now() - sim.originMs).toBeLessThan(PAUSE_TIMEOUT_MS);
    } finally {
      sim.dispose();
    }
  });

  test('a paused rollout failed through SendTaskFailure rolls back through its Catch', async () => {
    const { sim } = await pausedRollout((token) => new SendTaskFailureCommand({ taskToken: token, error: ErrorName.ABORTED, cause: 'customer report' }));
    try {
      const run = await sim.run();

      expect(run).toMatchObject({ status: 'FAILED', error: ErrorName.ROLLED_BACK });
      expect(run.events.find((e) => e.type === 'StateCaught' && e.state === 'Wait For Promote')).toMatchObject({ error: ErrorName.ABORTED, cause: 'customer report' });
      expect(sim.albWeights()[sim.colors.stable]).toBe(100);
      expect(sim.result(run).summary.outcome).toBe('ROLLED_BACK');
    } finally {
      sim.dispose();
    }
  });
});
