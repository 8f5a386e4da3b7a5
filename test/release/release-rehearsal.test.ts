/**
 * `zdt rehearse --scenario release-plan-*`: the example app's ReleasePlan rehearsed with its real traffic rollout
 * (rehearse()) and its real flag rollout (rehearseFlagRollout()) as the plan's .sync children; the migration modelled
 * (its real state machine and handler run in release-plan-execution.test.ts). The example app's templates are the
 * validators' (one synth per test run, shared through a file). One scenario (the test-time budget): the flag
 * regression's story runs in release-plan-execution.test.ts, and `zdt rehearse --scenario release-plan-flag-regression`.
 */
import { ReleasePlanErrorName, ReleasePlanEvent } from '../../lambda/release/release-plan-contract';
import { ErrorName } from '../../lambda/shared/contracts';
import { rehearseReleasePlan, RELEASE_SCENARIOS } from '../../rehearsal/release-rehearsal';
import { synthesizedApps } from '../validators/matrix';

const stacks = synthesizedApps().example.map((s) => ({ stackName: s.name, template: s.template }));

describe('release plan rehearsals of the example app', () => {
  test('release-plan-traffic-regression: the traffic rollout rolls back on its own, then the plan rolls the migration back; no flag runs', async () => {
    const r = await rehearseReleasePlan(stacks, { scenario: 'release-plan-traffic-regression' });
    expect(r).toMatchObject({ outcome: RELEASE_SCENARIOS['release-plan-traffic-regression'].expect.outcome, error: ReleasePlanErrorName.ROLLED_BACK });
    expect(r.parts).toEqual({ migration: 'rolled back', traffic: 'ROLLED_BACK', flags: {} });
    expect(r.cause).toMatch(new RegExp(`^traffic failed \\(${ErrorName.ROLLED_BACK}: Rolled back to blue \\(judge-fail\\)`));
    expect(r.events).toEqual([ReleasePlanEvent.STARTED, ReleasePlanEvent.MIGRATION_READY, ReleasePlanEvent.ROLLBACK_TRIGGERED, ReleasePlanEvent.ROLLED_BACK]);
  });

  test('a plan with two flag rollouts is refused by the rehearsal, which models one (not reported as a halted release)', async () => {
    const matrix = synthesizedApps().matrix.filter((st) => st.name === 'ReleasePlanTwoFlags').map((st) => ({ stackName: st.name, template: st.template }));
    await expect(rehearseReleasePlan(matrix)).rejects.toThrow(/the plan ReleasePlanTwoFlags\/Release has 2 flag rollouts; the rehearsal runs a plan with at most one/);
  });
});
