/**
 * rehearseRuns(): one scenario rehearsed N times on the stochastic traffic model, seeds S, S + 1, ..., and the
 * distribution of what happened: how often each outcome, how many false rollbacks of a healthy release or missed
 * regressions, time to detect and failed requests at the median and the 95th percentile.
 *
 *   const runs = await rehearseRuns(app, { scenario: 'healthy-release', runs: 50, seed: 1 });
 *   runs.falseRollbacks;            // healthy releases rolled back by noise
 *   runs.timeToDetectMs.p95;        // for a regression scenario
 *
 * A flag scenario's name (rehearsal/flag-scenarios.ts) rehearses the app's GuardedFlagRollout the same way
 * (rehearseFlagRollout on the stochastic variant traffic): a healthy treatment rolled back is a false rollback, a
 * regressed one that reached 100% a missed regression, and the failed requests are the treatment's above its baseline.
 *
 * The app is synthesized once and its templates reused by every run (each run deploys them into fresh fakes).
 */
import { RolloutEvent } from '../lambda/shared/contracts';
import { FlagRehearsalResult, flagScenarioNamed, rehearseFlagRollout } from './flag-rehearsal';
import { FlagRolloutOutcome, isFlagScenario } from './flag-scenarios';
import { rehearse, RehearseOptions } from './rehearse';
import type { RehearsalOutcome, RehearsalSummary } from './result';
import { Scenario, scenarioNamed } from './scenarios';
import { stacksOf, RehearsalTarget } from './simulation-target';

/** The first seed of a series of runs when none is given. */
export const DEFAULT_FIRST_SEED = 1;
/** Most runs one call accepts (a run takes about a second of real time). */
export const MAX_RUNS = 100_000;
const PERCENT = 100;

/** How a run ended: a traffic rollout's outcome, or a flag rollout's (COMPLETED: the flag reached 100%). */
export type RunOutcome = RehearsalOutcome | FlagRolloutOutcome;

export interface RehearseRunsOptions extends Omit<RehearseOptions, 'onTimeline' | 'inspect' | 'seed'> {
  /** How many runs, 1 or more. */
  readonly runs: number;
  /** Seed of the first run; run i (from 0) uses seed + i. @default 1 */
  readonly seed?: number;
  /** Called after each run, in order (progress). */
  readonly onRun?: (run: RehearsalRunRecord, index: number) => void;
  /** With a flag scenario: the GuardedFlagRollout's flag key when the app has several. @default - the only one */
  readonly flagKey?: string;
}

/** What one run of a series produced (its summary, without timeline and series, to keep N runs small). */
export interface RehearsalRunRecord {
  readonly seed: number;
  readonly outcome: RunOutcome;
  /** `$.trigger.kind` of a rollback (judge-fail, inconclusive, circuit-breaker...), from its "Rollout Rolled Back" event. */
  readonly trigger?: string;
  readonly detectedAtMs?: number;
  readonly timeToDetectMs?: number;
  readonly failedRequests: number;
  readonly totalRequests: number;
  /** Virtual duration of the execution. */
  readonly durationMs: number;
  /** Real time the run took. */
  readonly realDurationMs: number;
}

/** p50 / p95 (nearest rank) of the runs that have the value; every field absent when none has. */
export interface RunDistribution {
  /** How many runs have a value. */
  readonly count: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly min?: number;
  readonly max?: number;
  readonly mean?: number;
}

export interface RehearsalRuns {
  readonly scenario: string;
  /** The outcome the scenario expects (Scenario.expect.outcome), when known. */
  readonly expected?: RunOutcome;
  readonly runs: number;
  readonly firstSeed: number;
  /** How many runs ended with each outcome. */
  readonly outcomes: Readonly<Partial<Record<RunOutcome, number>>>;
  /** Runs that ended with the expected outcome (all runs when none is expected). */
  readonly asExpected: number;
  /** Runs of a scenario expected to release (or a flag to complete) that rolled back: a healthy release rolled back (noise, limits). */
  readonly falseRollbacks: number;
  /** Runs of a scenario expected to roll back that released (or whose flag completed): a regression that got through. */
  readonly missedRegressions: number;
  /** From the regression's first bad request to the decision to roll back, over the runs that detected one. */
  readonly timeToDetectMs: RunDistribution;
  /** Requests failed by the regression (above the baseline), over all runs. */
  readonly failedRequests: RunDistribution;
  /** Real time per run. */
  readonly realDurationMs: RunDistribution;
  /** Every run, in seed order. */
  readonly results: readonly RehearsalRunRecord[];
}

/** Rehearses `options.scenario` `options.runs` times with seeds seed, seed + 1, ... and returns the distribution. */
export async function rehearseRuns(target: RehearsalTarget, options: RehearseRunsOptions): Promise<RehearsalRuns> {
  checkRuns(options.runs, options.seed, 'rehearseRuns');
  const firstSeed = options.seed ?? DEFAULT_FIRST_SEED;
  // Synthesize once: an App would otherwise be synthesized again by every run.
  const stacks = stacksOf(target);
  const { runs, onRun, seed: _seed, flagKey, ...rehearseOptions } = options;
  let name: string;
  let expected: RunOutcome;
  let runOnce: (seed: number) => Promise<RehearsalRunRecord>;
  if (typeof options.scenario === 'string' && isFlagScenario(options.scenario)) {
    const flag = flagScenarioNamed(options.scenario);
    ({ name, expect: { outcome: expected } } = flag);
    runOnce = async (seed) => {
      const started = performance.now();
      const result = await rehearseFlagRollout(stacks, { scenario: flag, seed, flagKey, logLevel: options.logLevel });
      return flagRunRecord(seed, result, performance.now() - started);
    };
  } else {
    const scenario: Scenario = typeof options.scenario === 'string' ? scenarioNamed(options.scenario) : options.scenario ?? scenarioNamed('healthy-release');
    ({ name, expect: { outcome: expected } } = scenario);
    runOnce = async (seed) => {
      const started = performance.now();
      const result = await rehearse(stacks, { ...rehearseOptions, scenario, seed });
      return runRecord(seed, result.summary, performance.now() - started);
    };
  }
  const records: RehearsalRunRecord[] = [];
  for (let i = 0; i < runs; i++) {
    const record = await runOnce(firstSeed + i);
    records.push(record);
    onRun?.(record, i);
  }
  return summarizeRuns(name, expected, records);
}

/** Refuses a count of runs or a first seed that cannot be used, naming the option (`what`: --runs or rehearseRuns). */
export function checkRuns(runs: number, seed: number | undefined, what: string): void {
  if (!Number.isSafeInteger(runs) || runs < 1 || runs > MAX_RUNS) {
    throw new Error(`${what}: runs must be a whole number from 1 to ${MAX_RUNS}, got ${runs}`);
  }
  if (seed !== undefined && (!Number.isSafeInteger(seed) || !Number.isSafeInteger(seed + runs))) {
    throw new Error(`${what}: seed must be a whole number, got ${seed}`);
  }
}

/** The record of one run from its summary. */
export function runRecord(seed: number, summary: RehearsalSummary, realDurationMs: number): RehearsalRunRecord {
  const rolledBack = summary.events.find((e) => e.detailType === RolloutEvent.ROLLED_BACK);
  const trigger = (rolledBack?.detail as { trigger?: { kind?: string } } | undefined)?.trigger?.kind;
  return recordOf(seed, { ...summary, trigger }, realDurationMs);
}

/** The record of one run of a flag scenario from its result (rehearseFlagRollout). */
export function flagRunRecord(seed: number, result: FlagRehearsalResult, realDurationMs: number): RehearsalRunRecord {
  return recordOf(seed, result, realDurationMs);
}

/** What a record keeps of a run, under the names a traffic summary and a flag result both use; absent values stay absent. */
function recordOf(seed: number, run: Omit<RehearsalRunRecord, 'seed' | 'realDurationMs'>, realDurationMs: number): RehearsalRunRecord {
  return {
    seed,
    outcome: run.outcome,
    ...(run.trigger !== undefined ? { trigger: run.trigger } : {}),
    ...(run.detectedAtMs !== undefined ? { detectedAtMs: run.detectedAtMs } : {}),
    ...(run.timeToDetectMs !== undefined ? { timeToDetectMs: run.timeToDetectMs } : {}),
    failedRequests: run.failedRequests,
    totalRequests: run.totalRequests,
    durationMs: run.durationMs,
    realDurationMs,
  };
}

/** Outcomes that released: the new color carries 100% (traffic), the flag reached 100% (flag). */
const RELEASED_OUTCOMES: readonly RunOutcome[] = ['RELEASED', 'COMPLETED'];

/** The distribution of a series of runs of one scenario. */
export function summarizeRuns(scenario: string, expected: RunOutcome | undefined, records: readonly RehearsalRunRecord[]): RehearsalRuns {
  const outcomes: Partial<Record<RunOutcome, number>> = {};
  for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const count = (o: RunOutcome) => outcomes[o] ?? 0;
  return {
    scenario,
    ...(expected !== undefined ? { expected } : {}),
    runs: records.length,
    firstSeed: records.length > 0 ? Math.min(...records.map((r) => r.seed)) : DEFAULT_FIRST_SEED,
    outcomes,
    asExpected: expected === undefined ? records.length : count(expected),
    falseRollbacks: expected !== undefined && RELEASED_OUTCOMES.includes(expected) ? count('ROLLED_BACK') : 0,
    missedRegressions: expected === 'ROLLED_BACK' ? RELEASED_OUTCOMES.reduce((n, o) => n + count(o), 0) : 0,
    timeToDetectMs: distribution(records.map((r) => r.timeToDetectMs)),
    failedRequests: distribution(records.map((r) => r.failedRequests)),
    realDurationMs: distribution(records.map((r) => r.realDurationMs)),
    results: records,
  };
}

/** Nearest-rank percentile (0-100) of sorted values: the smallest value with at least p% of the values at or below it. */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('nearestRank: no values');
  const rank = Math.max(1, Math.ceil((p / PERCENT) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function distribution(values: ReadonlyArray<number | undefined>): RunDistribution {
  const present = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (present.length === 0) return { count: 0 };
  return {
    count: present.length,
    p50: nearestRank(present, 50),
    p95: nearestRank(present, 95),
    min: present[0],
    max: present[present.length - 1],
    mean: present.reduce((a, v) => a + v, 0) / present.length,
  };
}
