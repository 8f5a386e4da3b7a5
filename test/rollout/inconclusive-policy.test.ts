import { Duration } from 'aws-cdk-lib';
import { RolloutEvent } from '../../lambda/shared/contracts';
import { InconclusiveAction } from '../../lib/rollout/inconclusive-action';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { AnalysisMethod } from '../../lib/rollout/analysis-method';
import type { RunResult } from '../../rehearsal/runner';
import { rehearse } from '../../rehearsal/rehearse';
import { Scenario, scenarioNamed } from '../../rehearsal/scenarios';
import { network, rollout } from '../constructs/fixtures';

/** The low-traffic scenario with almost no traffic (a request a minute): too few for the judge, every judgement INCONCLUSIVE. */
const SILENT: Scenario = { ...scenarioNamed('low-traffic'), name: 'silent', traffic: { requestsPerSecond: 1 / 60 } };

async function lowTrafficRollout(onInconclusive: InconclusiveAction, scenario: Scenario | string = SILENT) {
  const f = network();
  rollout(f, { onInconclusive, strategy: RolloutStrategy.canary({ percent: 10, bake: Duration.minutes(2) }), analysis: { method: AnalysisMethod.THRESHOLDS } });
  const executions: RunResult[] = [];
  const result = await rehearse(f.stack, {
    scenario,
    inspect: (world) => { executions.push(...world.simulation.executions.map((e) => e.run)); },
  });
  return { result, execution: executions[0] };
}

describe('onInconclusive PROCEED', () => {
  test('a release whose every judgement was inconclusive says so in its events and its outcome', async () => {
    const { result, execution } = await lowTrafficRollout(InconclusiveAction.PROCEED);
    expect(result.summary.outcome).toBe('RELEASED');
    const types = result.summary.events.map((e) => e.detailType);
    expect(types).toContain(RolloutEvent.RELEASED_UNJUDGED);
    const completed = result.summary.events.find((e) => e.detailType === RolloutEvent.COMPLETED)!;
    expect(completed.detail).toMatchObject({ judged: false });
    expect(completed.detail.inconclusiveJudgements).toBeGreaterThanOrEqual(2);
    expect(completed.detail.unjudgedSteps).toBe(2);
    expect((execution.output as any).release).toMatchObject({ judged: false, summary: expect.stringMatching(/WITHOUT JUDGEMENT/) });
  });

  test('a release judged healthy says it was judged, with how many judgements were inconclusive', async () => {
    const { result, execution } = await lowTrafficRollout(InconclusiveAction.PROCEED, 'healthy-release');
    expect(result.summary.outcome).toBe('RELEASED');
    expect(result.summary.events.map((e) => e.detailType)).not.toContain(RolloutEvent.RELEASED_UNJUDGED);
    const completed = result.summary.events.find((e) => e.detailType === RolloutEvent.COMPLETED)!;
    expect(completed.detail).toMatchObject({ judged: true, inconclusiveJudgements: 0, unjudgedSteps: 0 });
    expect((execution.output as any).release).toMatchObject({ judged: true });
  });
});
