/**
 * rehearse(): run a rollout of a synthesized app locally and see what it does.
 *
 *   const app = new App();
 *   createEverJust(app);
 *   const result = await rehearse(app, { scenario: 'error-rate-regression' });
 *   result.summary.outcome;          // 'ROLLED_BACK'
 *   result.summary.failedRequests;   // the blast radius
 *
 * The app's stacks are deployed into stateful AWS fakes (rehearsal/deployer.ts), the rollout state machine runs with
 * aws-local-stepfunctions on a virtual clock with every Lambda bound to the library's real handler code, and a
 * traffic model (rehearsal/traffic-model.ts) feeds CloudWatch. The clock, the SDK clients and the environment are
 * always restored, whatever happens.
 */
import './polyfills';
import type { RolloutInput } from '../lambda/shared/contracts';
import type { RolloutStrategy } from '../lib/rollout/rollout-strategy';
import type { RehearsalResult, TimelineEntry } from './result';
import { OperatorAction, Scenario, ScenarioFault, scenarioNamed } from './scenarios';
import { Simulation, SimulationOptions, SimulationWorld } from './simulation';
import type { RehearsalTarget } from './simulation-target';

export type { RehearsalTarget } from './simulation-target';

export interface RehearseOptions {
  /** The rollout state machine when the app has several: logical id, "<stack>/<logicalId>" or construct path. @default - the only one */
  readonly rollout?: string;
  /** A scenario, or the name of one of SCENARIOS. @default 'healthy-release' */
  readonly scenario?: Scenario | string;
  /**
   * Run this strategy instead of the synthesized one: the rehearsal rewrites the plan the state machine carries
   * (its Plan state: steps, lock TTL, execution timeout), exactly as redeploying the rollout with this strategy
   * would. The judge interval, the inconclusive policy and the circuit breaker stay as synthesized.
   * @default - the scenario's strategy, else the synthesized one
   */
  readonly strategy?: RolloutStrategy;
  /** Faults added to the scenario's. @default - none */
  readonly faults?: readonly ScenarioFault[];
  /** Operator actions added to the scenario's (promote / abort at a time...). @default - none */
  readonly operator?: readonly OperatorAction[];
  /** Input of the execution. @default - the scenario's, else {} */
  readonly input?: RolloutInput;
  /** Called with every timeline entry as it happens. */
  readonly onTimeline?: (entry: TimelineEntry) => void;
  /** Step of the result's series, seconds. @default 10 */
  readonly seriesStepSeconds?: number;
  /** Handler log level (ZDT_LOG_LEVEL). @default 'silent' */
  readonly logLevel?: string;
  /**
   * How long after its minute ends CloudWatch data becomes visible, to the judge and the alarms: try your
   * `metricDelay` against a slower CloudWatch. @default METRIC_INGESTION_DELAY_SECONDS (90)
   */
  readonly metricIngestionDelaySeconds?: number;
  /**
   * Seed of the stochastic traffic model: requests are Poisson, errors binomial, latency percentiles those of
   * sampled requests (rehearsal/traffic-model.ts), so a run can show a noise-driven false rollback or a lucky pass;
   * the same seed gives the same run. Also seeds the retry jitter. See rehearseRuns() for many seeds at once.
   * @default - the deterministic traffic model (expected counts: every rehearsal of a scenario is identical)
   */
  readonly seed?: number;
  /** Your own Lambda functions the rollout invokes (traffic hooks), by logical id: see SimulationOptions.functions. */
  readonly functions?: SimulationOptions['functions'];
  /**
   * Called once the rollout has ended, before the world is torn down: the fake ALB, table, CloudWatch, recorders and
   * every execution can be inspected (tests assert on them).
   */
  readonly inspect?: (world: SimulationWorld & { readonly simulation: Simulation }) => void | Promise<void>;
}

/** Rehearses one rollout of `target` and returns its summary, timeline and series. */
export async function rehearse(target: RehearsalTarget, options: RehearseOptions = {}): Promise<RehearsalResult> {
  if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
    throw new Error(`rehearse: options.seed must be a whole number (or absent for the deterministic traffic model), got ${options.seed}`);
  }
  const base = typeof options.scenario === 'string' ? scenarioNamed(options.scenario) : options.scenario ?? scenarioNamed('healthy-release');
  const scenario: Scenario = {
    ...base,
    faults: [...(base.faults ?? []), ...(options.faults ?? [])],
    operator: [...(base.operator ?? []), ...(options.operator ?? [])],
    input: options.input ?? base.input,
  };
  const simulation = await Simulation.create(target, {
    rollout: options.rollout,
    scenario,
    strategy: options.strategy,
    onTimeline: options.onTimeline,
    seriesStepSeconds: options.seriesStepSeconds,
    logLevel: options.logLevel,
    functions: options.functions,
    metricIngestionDelaySeconds: options.metricIngestionDelaySeconds,
    seed: options.seed,
  });
  try {
    const run = await simulation.run();
    const result = simulation.result(run);
    await options.inspect?.(simulation);
    return result;
  } finally {
    simulation.dispose();
  }
}
