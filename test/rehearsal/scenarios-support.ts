// Shared by the scenario tests: the example app synthesized once per test file, and a rehearsal that also
// captures what the fakes hold at the end (read from the fake ALB, table and recorders, not from the state machine).
import { App } from 'aws-cdk-lib';
import { createEverJust } from '../../bin/everjust';
import { Color } from '../../lambda/shared/contracts';
import type { CallRecord, RecordedEvent, RecordedMessage, WeightChange } from '../../rehearsal/fakes';
import { RehearseOptions, rehearse } from '../../rehearsal/rehearse';
import type { RehearsalResult } from '../../rehearsal/result';
import type { RunResult } from '../../rehearsal/runner';
import type { StackTemplate } from '../../rehearsal/deployer';
import { Role, scenarioNamed } from '../../rehearsal/scenarios';

export function synthEverJust(): StackTemplate[] {
  const app = new App({ builtinCloudFormationValidation: false });
  createEverJust(app);
  return app.synth().stacks.map((s) => ({ stackName: s.stackName, template: s.template }));
}

export interface Observed {
  readonly result: RehearsalResult;
  readonly albWeights: Record<Color, number>;
  readonly stateItem: Record<string, string | number>;
  readonly colors: Record<Role, Color>;
  /** Live rule weight changes by color, in time order (creation first). */
  readonly weightHistory: ReadonlyArray<{ time: number; weights: Record<Color, number> }>;
  readonly events: readonly RecordedEvent[];
  readonly messages: readonly RecordedMessage[];
  readonly calls: readonly CallRecord[];
  readonly faultsFired: readonly number[];
  readonly executions: readonly RunResult[];
  readonly originMs: number;
}

export async function observe(stacks: StackTemplate[], scenario: string, options: RehearseOptions = {}): Promise<Observed> {
  let captured: Omit<Observed, 'result'> | undefined;
  const result = await rehearse(stacks, {
    ...options,
    scenario,
    inspect: (world) => {
      const sim = world.simulation;
      const tg = sim.liveRoute.targetGroupArns;
      const toColors = (c: WeightChange) => {
        const total = Object.values(c.weights).reduce((a, b) => a + b, 0) || 1;
        return { time: c.time, weights: { blue: ((c.weights[tg.blue] ?? 0) * 100) / total, green: ((c.weights[tg.green] ?? 0) * 100) / total } };
      };
      captured = {
        albWeights: sim.albWeights(),
        stateItem: sim.stateItem(),
        colors: sim.colors,
        weightHistory: sim.aws.alb.weightHistory(sim.liveRoute.ruleArn).map(toColors),
        events: sim.aws.events.events(),
        messages: sim.aws.sns.messages(),
        calls: [...sim.aws.calls],
        faultsFired: sim.aws.faults.list().map((f) => f.fired),
        executions: sim.executions.map((e) => e.run),
        originMs: sim.originMs,
      };
    },
  });
  return { result, ...captured! };
}

/** When (ms after the rollout starts) the named scenario's first operator action happens. */
export function operatorAtMs(scenario: string): number {
  const action = scenarioNamed(scenario).operator?.[0];
  if (!action || !('atSeconds' in action) || action.atSeconds === undefined) throw new Error(`scenario ${scenario} has no timed operator action`);
  return action.atSeconds * 1000;
}

/** Index in the call log of the last successful write of the live rule. */
export function lastRuleWrite(o: Observed): number {
  let index = -1;
  o.calls.forEach((c, i) => { if (c.service === 'elbv2' && c.command === 'ModifyRule' && !c.error) index = i; });
  return index;
}

/**
 * Slack for times that include the rehearsal's modelled AWS API latency (rehearsal/simulation.ts API_LATENCY_MS):
 * a few calls of ~100 ms each, never seconds.
 */
export const API_SLACK_MS = 5_000;

/**
 * How much longer than its bake each step of the example app lasts: it waits for CloudWatch data of its own
 * (ProgressiveRollout's default metricDelay, 2 minutes, plus the minute its start costs, judgements reading whole
 * minutes). The rehearsal's metrics land 90 s late (METRIC_INGESTION_DELAY_SECONDS).
 */
export const STEP_DATA_WAIT_MS = 180_000;

/** A duration that includes modelled API latency: at least `planned`, and at most 1% (plus API_SLACK_MS) more. */
export function expectPlannedPlusLatency(actual: number | undefined, planned: number): void {
  expect(actual).toBeGreaterThanOrEqual(planned);
  expect(actual).toBeLessThan(planned * 1.01 + API_SLACK_MS);
}
