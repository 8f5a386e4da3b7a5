/**
 * `zdt rehearse`: run a rollout locally on its synthesized state machine and show what happened.
 *
 *   zdt rehearse [--app <cmd>] [--rollout <path>] [--scenario <name>] [--strategy <name>] [--chart <file>] [--json]
 *                [--seed <n>] [--runs <n>]
 *
 * Without --app it rehearses the example app (bin/everjust.ts, synthesized in-process). Without --scenario it runs
 * two: a healthy release and a bad release (error-rate regression). For each it prints the live timeline and a
 * summary and writes a chart (SVG; PNG when the file ends in .png and `rsvg-convert` is installed).
 *
 * Exit codes (a pipeline can gate on them):
 *   0   released (the new color carries 100%)
 *   1   rolled back (traffic restored to 100% stable, verified)
 *   2   refused or failed (preflight refused, or the rehearsal itself failed)
 *   3   rollback failed (traffic could not be restored)
 *   64  usage error
 * With the default pair of scenarios the exit code is 0 when both behaved as expected (healthy released, bad rolled
 * back); otherwise it is the code of the first scenario that did not, and 2 when a bad release was released.
 *
 * `--seed S` rehearses on the stochastic traffic model (rehearsal/traffic-model.ts) with that seed. `--runs N` runs
 * each scenario N times with seeds S, S + 1, ... (S = 1 by default) and prints the distribution instead of a
 * timeline (rehearsal/rehearse-runs.ts); the exit code is then 0 when every run reached the scenario's expected
 * outcome, else the code of the first run that did not (2 for a release that should have rolled back). A flag
 * scenario (rehearsal/flag-scenarios.ts) runs the app's GuardedFlagRollout instead, with --runs as well.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { parseArgs, UsageError } from './args';
import { ExitCode } from './rollout-ops';
import { createEverJust } from '../everjust';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import type { StackTemplate } from '../../rehearsal/deployer';
import { rehearse } from '../../rehearsal/rehearse';
import { checkRuns, DEFAULT_FIRST_SEED, flagRunRecord, RehearsalRunRecord, RehearsalRuns, runRecord, RunOutcome, summarizeRuns } from '../../rehearsal/rehearse-runs';
import { renderRunsSummary } from '../../rehearsal/render-runs';
import type { RehearsalOutcome, RehearsalResult, TimelineEntry } from '../../rehearsal/result';
import { createStyle, wantsColor } from '../../rehearsal/render-format';
import { renderChart } from '../../rehearsal/render-chart';
import { renderJson, renderSummary } from '../../rehearsal/render-summary';
import { TimelinePrinter } from '../../rehearsal/render-timeline';
import { scenarioNamed, SCENARIOS } from '../../rehearsal/scenarios';
import { FLAG_SCENARIOS, isFlagScenario } from '../../rehearsal/flag-scenarios';
import { rehearseFlagRollout, renderFlagRehearsal } from '../../rehearsal/flag-rehearsal';
import { isReleaseScenario, rehearseReleasePlan, RELEASE_SCENARIOS, renderReleaseRehearsal } from '../../rehearsal/release-rehearsal';
import { addEverJustData } from '../everjust-data';
import { RolloutCandidate, rolloutCandidates, selectRollout, stacksOf } from '../../rehearsal/simulation-target';
import type { CfnTemplate } from '../../rehearsal/template';

export const REHEARSE_USAGE = `usage: zdt rehearse [--app <cmd>] [--rollout <path>] [--scenario <name>] [--strategy <name>] [--chart <file>] [--json] [--verbose]
                    [--seed <n>] [--runs <n>]

Runs a rollout locally on its synthesized state machine (no AWS needed): the real handler code against a
simulated load balancer and CloudWatch, on a virtual clock.

  --app <cmd>        synthesize your CDK app with this command (as in cdk.json's "app"); default: the example app
  --rollout <path>   construct path of the rollout's state machine, when the app has several
  --scenario <name>  scenario to run; default: a healthy release and a bad release (error-rate regression);
                     flag-rollout-healthy / -regression / -aborted / -locked rehearse the app's GuardedFlagRollout;
                     release-plan-healthy / -traffic-regression / -flag-regression its ReleasePlan
  --strategy <name>  re-synthesize the example app with this strategy: canary | linear | allAtOnce | segmentFirst
  --chart <file>     where to write the chart (.svg, or .png with rsvg-convert); default: .rehearsal/<scenario>.svg
  --json             print the result as JSON instead of the timeline and summary
  --verbose          also print every state the state machine enters
  --seed <n>         stochastic traffic (Poisson requests, binomial errors, sampled latencies) with this seed;
                     default: the deterministic model (expected counts, every rehearsal identical)
  --runs <n>         run each scenario n times, seeds n0, n0+1, ... (n0 = --seed, default 1), and print the
                     distribution: outcomes, false rollbacks / missed regressions, time to detect and failed
                     requests at p50 and p95 (no timeline, no chart); for a flag scenario: healthy treatments
                     rolled back, regressed ones completed, the treatment's requests failed above its baseline

Exit code: 0 released, 1 rolled back, 2 refused or failed, 3 rollback failed, 64 usage error.
With the default pair of scenarios: 0 when the healthy release released and the bad release rolled back.
With --runs: 0 when every run reached its scenario's expected outcome.`;

/** Strategies `--strategy` accepts (RolloutStrategy factories), each with the example app's 5-minute bake. */
export const STRATEGY_NAMES = ['canary', 'linear', 'allAtOnce', 'segmentFirst'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** The scenarios run when --scenario is not given, and the outcome each must reach for exit code 0. */
export const DEFAULT_SCENARIOS: readonly { readonly name: string; readonly expected: RehearsalOutcome }[] = [
  { name: 'healthy-release', expected: 'RELEASED' },
  { name: 'error-rate-regression', expected: 'ROLLED_BACK' },
];

/** Folder of the default chart files (gitignored). */
export const DEFAULT_CHART_DIR = '.rehearsal';

/** Exit code of one rehearsal's outcome (a flag rollout that completed: released). */
export function exitCodeOf(outcome: RunOutcome): number {
  switch (outcome) {
    case 'RELEASED':
    case 'COMPLETED': return ExitCode.SUCCEEDED;
    case 'ROLLED_BACK': return ExitCode.ROLLED_BACK;
    case 'ROLLBACK_FAILED': return ExitCode.ROLLBACK_FAILED;
    default: return ExitCode.REFUSED_OR_FAILED;
  }
}

/** A synthesized stack as the CLI finds it. */
export type SynthesizedStack = StackTemplate;

/** What the CLI rehearses: the app's stacks, and which state machine is the rollout. */
export interface CliTarget {
  readonly stacks: readonly SynthesizedStack[];
  /** The stack whose template holds the rollout's state machine. */
  readonly stack: SynthesizedStack;
  /** Logical id of the rollout's state machine in that template. */
  readonly stateMachineLogicalId: string;
  /** Construct path of the state machine, when the template records it. */
  readonly stateMachinePath?: string;
  /** Strategy label for the summary. */
  readonly strategyLabel?: string;
}

/** The simulation the CLI drives (rehearsal/rehearse.ts and rehearsal/scenarios.ts). */
export interface RehearsalEngine {
  /** Names of the scenarios that can be run by name. */
  scenarioNames(): readonly string[];
  /** Builds the example app's target, with a strategy when given. */
  exampleTarget(strategy?: StrategyName): CliTarget;
  /**
   * Rehearses the named scenario on the target, calling `onTimeline` with each entry as it happens; with a seed, on
   * the stochastic traffic model.
   */
  run(target: CliTarget, scenario: string, onTimeline: (entry: TimelineEntry) => void, options?: { readonly seed?: number }): Promise<RehearsalResult>;
  /** The outcome the named scenario expects (what --runs counts runs against). @default - none known */
  expectedOutcome?(scenario: string): RehearsalOutcome | undefined;
}

/** Streams and environment of the command (tests pass their own). */
export interface RehearseIo {
  /** Error messages. @default process.stderr */
  readonly err?: (line: string) => void;
  /** Where the progress bar is redrawn; only used when it is a TTY. @default process.stderr */
  readonly progress?: { write(chunk: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Whether `out` goes to a terminal (colour). @default process.stdout.isTTY */
  readonly stdoutIsTTY?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Working directory for default chart paths and cdk.json. @default process.cwd() */
  readonly cwd?: string;
  /** The simulation. @default - rehearsal/rehearse.ts */
  readonly engine?: RehearsalEngine;
}

interface Options {
  readonly app?: string;
  readonly rollout?: string;
  readonly scenario?: string;
  readonly strategy?: StrategyName;
  readonly chart?: string;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly help: boolean;
  readonly seed?: number;
  readonly runs?: number;
}

/** `zdt rehearse ...`; returns the exit code. */
export async function rehearseCommand(argv: string[], out: (line: string) => void, io: RehearseIo = {}): Promise<number> {
  const err = io.err ?? ((line: string) => { process.stderr.write(`${line}\n`); });
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`zdt rehearse: ${e.message}\n\n${REHEARSE_USAGE}`);
      return ExitCode.USAGE;
    }
    throw e;
  }
  if (options.help) { out(REHEARSE_USAGE); return 0; }

  const engine = io.engine ?? loadEngine();
  const cwd = io.cwd ?? process.cwd();
  try {
    const known = engine.scenarioNames();
    if (options.scenario !== undefined && isFlagScenario(options.scenario)) return await runFlagScenario(engine, options, out, io, cwd);
    if (options.scenario !== undefined && isReleaseScenario(options.scenario)) {
      // Its parts are rehearsed on the deterministic traffic, once: a seed or a series would be silently ignored.
      if (options.runs !== undefined || options.seed !== undefined) {
        throw new UsageError(`--runs and --seed rehearse a traffic or a flag scenario; the release plan scenario "${options.scenario}" runs once on the deterministic traffic (rehearse its parts with --runs: --scenario ${RELEASE_SCENARIOS[options.scenario].traffic}, --scenario ${RELEASE_SCENARIOS[options.scenario].flag})`);
      }
      return await runReleaseScenario(options, out, io, cwd);
    }
    if (options.scenario !== undefined && !known.includes(options.scenario)) {
      throw new UsageError(`--scenario: unknown scenario "${options.scenario}"; known: ${[...known, ...Object.keys(FLAG_SCENARIOS), ...Object.keys(RELEASE_SCENARIOS)].join(', ')}`);
    }
    const target = options.app !== undefined
      ? appTarget(options.app, options.rollout, cwd, io.env ?? process.env)
      : withRollout(engine.exampleTarget(options.strategy), options.rollout);
    const plan = options.scenario !== undefined
      ? [{ name: options.scenario, expected: undefined }]
      : DEFAULT_SCENARIOS.map((s) => ({ name: s.name, expected: s.expected as RehearsalOutcome | undefined }));
    for (const s of plan) {
      if (!known.includes(s.name)) throw new Error(`the default scenario "${s.name}" is not among the known scenarios (${known.join(', ')})`);
    }
    if (options.runs !== undefined) {
      const withExpected = plan.map((s) => ({ name: s.name, expected: s.expected ?? engine.expectedOutcome?.(s.name) }));
      return await runSeries(withExpected, options, options.runs, out, io, target.strategyLabel ? ` · ${target.strategyLabel}` : '', async (name, seed) => {
        const started = performance.now();
        const result = await engine.run(target, name, () => undefined, { seed });
        return runRecord(seed, result.summary, performance.now() - started);
      });
    }
    return await runScenarios(engine, target, plan, options, out, err, io, cwd);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`zdt rehearse: ${e.message}\n\n${REHEARSE_USAGE}`);
      return ExitCode.USAGE;
    }
    err(`zdt rehearse: ${(e as Error).message}`);
    return ExitCode.REFUSED_OR_FAILED;
  }
}

/**
 * A guarded flag rollout scenario (rehearsal/flag-scenarios.ts): the app's GuardedFlagRollout, days of phases on the
 * virtual clock; exit code 0 when it reached the scenario's expected outcome. With --runs, its distribution over the
 * seeds, as a traffic scenario's.
 */
async function runFlagScenario(engine: RehearsalEngine, options: Options, out: (line: string) => void, io: RehearseIo, cwd: string): Promise<number> {
  const target = options.app !== undefined ? appTarget(options.app, options.rollout, cwd, io.env ?? process.env) : engine.exampleTarget(options.strategy);
  const scenario = FLAG_SCENARIOS[options.scenario!];
  if (options.runs !== undefined) {
    return runSeries([{ name: scenario.name, expected: scenario.expect.outcome }], options, options.runs, out, io, '', async (_name, seed) => {
      const started = performance.now();
      return flagRunRecord(seed, await rehearseFlagRollout(target.stacks, { scenario, seed }), performance.now() - started);
    });
  }
  const result = await rehearseFlagRollout(target.stacks, { scenario, seed: options.seed });
  out(options.json ? JSON.stringify(result, null, 2) : renderFlagRehearsal(result));
  return result.outcome === scenario.expect.outcome ? 0 : ExitCode.REFUSED_OR_FAILED;
}

/**
 * A release plan scenario (rehearsal/release-rehearsal.ts): the app's ReleasePlan with its traffic and flag rollouts
 * rehearsed for real; without --app, the example app with its data stack. Exit code 0 when it reached the scenario's
 * expected outcome.
 */
async function runReleaseScenario(options: Options, out: (line: string) => void, io: RehearseIo, cwd: string): Promise<number> {
  let stacks: readonly SynthesizedStack[];
  if (options.app !== undefined) stacks = synthesizeApp(options.app, cwd, io.env ?? process.env);
  else {
    const app = new App({ builtinCloudFormationValidation: false });
    addEverJustData(app, createEverJust(app));
    stacks = app.synth().stacks.map((st) => ({ stackName: st.stackName, template: st.template as CfnTemplate }));
  }
  const scenario = RELEASE_SCENARIOS[options.scenario!];
  const result = await rehearseReleasePlan([...stacks], { scenario });
  out(options.json ? JSON.stringify(result, null, 2) : renderReleaseRehearsal(result));
  return result.outcome === scenario.expect.outcome ? 0 : ExitCode.REFUSED_OR_FAILED;
}

function parseOptions(argv: string[]): Options {
  const args = parseArgs(argv, { values: ['app', 'rollout', 'scenario', 'strategy', 'chart', 'seed', 'runs'], flags: ['json', 'verbose', 'help'] });
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"; options start with --`);
  const str = (name: string) => {
    const v = args.options[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
    return v;
  };
  const strategy = str('strategy');
  if (strategy !== undefined && !(STRATEGY_NAMES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of ${STRATEGY_NAMES.join(', ')}, got "${strategy}"`);
  }
  const app = str('app');
  if (strategy !== undefined && app !== undefined) {
    throw new UsageError('--strategy is only supported for the example app; with --app, set the strategy in your app (RolloutStrategy) and synthesize it again');
  }
  const chart = str('chart');
  if (chart !== undefined && !['.svg', '.png'].includes(extname(chart).toLowerCase())) {
    throw new UsageError(`--chart must name an .svg or .png file, got "${chart}"`);
  }
  const whole = (name: string, min: number) => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${v}"`);
    return n;
  };
  const seed = whole('seed', Number.MIN_SAFE_INTEGER);
  const runs = whole('runs', 1);
  if (runs !== undefined) {
    try {
      checkRuns(runs, seed, '--runs');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (chart !== undefined) throw new UsageError('--chart draws one run; with --runs, rehearse the run you want to see with --seed <its seed> and no --runs');
    if (args.options.verbose === true) throw new UsageError('--verbose prints one run\'s states; with --runs, rehearse one run with --seed <its seed> and no --runs');
  }
  return {
    seed,
    runs,
    app,
    rollout: str('rollout'),
    scenario: str('scenario'),
    strategy: strategy as StrategyName | undefined,
    chart,
    json: args.options.json === true,
    verbose: args.options.verbose === true,
    help: args.options.help === true,
  };
}

async function runScenarios(
  engine: RehearsalEngine,
  target: CliTarget,
  plan: readonly { name: string; expected: RehearsalOutcome | undefined }[],
  options: Options,
  out: (line: string) => void,
  err: (line: string) => void,
  io: RehearseIo,
  cwd: string,
): Promise<number> {
  const env = io.env ?? process.env;
  const style = createStyle(!options.json && wantsColor({ isTTY: io.stdoutIsTTY ?? process.stdout.isTTY, env }));
  const progressStream = io.progress ?? process.stderr;
  const liveProgress = !options.json && progressStream.isTTY === true && !env.CI;
  const results: RehearsalResult[] = [];
  let exitCode: number | undefined;

  for (const [i, scenario] of plan.entries()) {
    if (!options.json) {
      if (i > 0) out('');
      out(style.bold(`▶ Rehearsal ${i + 1}/${plan.length}: ${scenario.name}${target.strategyLabel ? ` · ${target.strategyLabel}` : ''}${target.stateMachinePath ? ` · ${target.stateMachinePath}` : ''}`));
    }
    const printer = new TimelinePrinter(
      { line: options.json ? () => undefined : out, progress: liveProgress ? progressStream : undefined },
      { style, showStates: options.verbose, label: scenario.name },
    );
    const started = performance.now();
    let result: RehearsalResult;
    try {
      result = await engine.run(target, scenario.name, (entry) => printer.onEntry(entry), options.seed === undefined ? undefined : { seed: options.seed });
    } finally {
      printer.finish();
    }
    const realMs = performance.now() - started;
    results.push(result);
    const chartPath = chartFile(options.chart, result.summary.scenario, plan.length, cwd);
    writeChart(chartPath, renderChart(result));
    if (!options.json) {
      out('');
      for (const line of renderSummary(result, { style, chartPath: displayPath(chartPath, cwd), realDurationMs: realMs })) out(line);
    }
    const code = exitCodeOf(result.summary.outcome);
    if (scenario.expected === undefined) {
      exitCode ??= code;
    } else if (result.summary.outcome !== scenario.expected) {
      const unexpected = code === ExitCode.SUCCEEDED ? ExitCode.REFUSED_OR_FAILED : code;
      exitCode ??= unexpected;
      if (!options.json) out(style.bad(`✗ ${scenario.name}: expected ${scenario.expected}, got ${result.summary.outcome}`));
    } else if (!options.json) {
      out(style.good(`✓ ${scenario.name}: ${result.summary.outcome} as expected`));
    }
  }
  if (options.json) out(renderJson(results.length === 1 ? results[0] : results));
  else if (plan.length > 1) {
    const ok = exitCode === undefined;
    out('');
    out(ok ? style.good(`All ${plan.length} scenarios behaved as expected (exit 0).`) : style.bad(`A scenario did not behave as expected (exit ${exitCode}).`));
  }
  void err;
  return exitCode ?? ExitCode.SUCCEEDED;
}

/**
 * `--runs N`: each scenario N times with seeds S, S + 1, ... (`runOnce`: one run of a traffic or a flag scenario),
 * then its distribution (or JSON of all of them). `label` follows the scenario's name in its heading.
 */
async function runSeries(
  plan: readonly { name: string; expected: RunOutcome | undefined }[],
  options: Options,
  runs: number,
  out: (line: string) => void,
  io: RehearseIo,
  label: string,
  runOnce: (scenario: string, seed: number) => Promise<RehearsalRunRecord>,
): Promise<number> {
  const env = io.env ?? process.env;
  const style = createStyle(!options.json && wantsColor({ isTTY: io.stdoutIsTTY ?? process.stdout.isTTY, env }));
  const progressStream = io.progress ?? process.stderr;
  const liveProgress = !options.json && progressStream.isTTY === true && !env.CI;
  const firstSeed = options.seed ?? DEFAULT_FIRST_SEED;
  const series: RehearsalRuns[] = [];
  let exitCode: number | undefined;
  for (const [i, scenario] of plan.entries()) {
    const expected = scenario.expected;
    if (!options.json) {
      if (i > 0) out('');
      out(style.bold(`▶ Rehearsal ${i + 1}/${plan.length}: ${scenario.name}${label} · ${runs} runs`));
    }
    const records: RehearsalRunRecord[] = [];
    for (let r = 0; r < runs; r++) {
      const seed = firstSeed + r;
      if (liveProgress) progressStream.write(`\r  run ${r + 1}/${runs} (seed ${seed})`);
      records.push(await runOnce(scenario.name, seed));
    }
    if (liveProgress) progressStream.write('\r\x1b[K');
    const summary = summarizeRuns(scenario.name, expected, records);
    series.push(summary);
    const unexpected = expected === undefined ? undefined : records.find((r) => r.outcome !== expected);
    if (unexpected) {
      const code = exitCodeOf(unexpected.outcome);
      exitCode ??= code === ExitCode.SUCCEEDED ? ExitCode.REFUSED_OR_FAILED : code;
    } else if (expected === undefined) {
      exitCode ??= exitCodeOf(records[0].outcome);
    }
    if (!options.json) {
      for (const line of renderRunsSummary(summary, style)) out(line);
      if (expected !== undefined) {
        out(unexpected
          ? style.bad(`✗ ${scenario.name}: ${runs - summary.asExpected} of ${runs} runs did not end ${expected} (first: seed ${unexpected.seed}, ${unexpected.outcome}; see it with --seed ${unexpected.seed})`)
          : style.good(`✓ ${scenario.name}: ${expected} in all ${runs} runs as expected`));
      }
    }
  }
  if (options.json) out(JSON.stringify(series.length === 1 ? series[0] : series, null, 2));
  return exitCode ?? ExitCode.SUCCEEDED;
}

/** --chart as given (one scenario) or with the scenario name added (several); default .rehearsal/<scenario>.svg. */
export function chartFile(option: string | undefined, scenario: string, scenarioCount: number, cwd: string): string {
  const safe = scenario.replace(/[^A-Za-z0-9._-]+/g, '-');
  if (option === undefined) return resolve(cwd, DEFAULT_CHART_DIR, `${safe}.svg`);
  const full = resolve(cwd, option);
  if (scenarioCount === 1) return full;
  const ext = extname(full);
  return join(dirname(full), `${basename(full, ext)}-${safe}${ext}`);
}

function writeChart(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (extname(path).toLowerCase() !== '.png') { writeFileSync(path, svg); return; }
  const converted = spawnSync('rsvg-convert', ['--format', 'png', '--output', path], { input: svg });
  if (converted.error || converted.status !== 0) {
    const why = converted.error ? converted.error.message : converted.stderr.toString().trim();
    throw new Error(`--chart ${path}: writing a PNG needs rsvg-convert (Debian: apt-get install librsvg2-bin), which failed: ${why}; `
      + 'ask for an .svg file instead');
  }
}

function displayPath(path: string, cwd: string): string {
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

// ---------------------------------------------------------------------------------------------
// --app: synthesize the user's app like the CDK CLI does, and find the rollout's state machine
// ---------------------------------------------------------------------------------------------

/** Context the CDK CLI sets by default and that the rehearsal needs (construct paths in the template). */
const CLI_DEFAULT_CONTEXT = { 'aws:cdk:enable-path-metadata': true };

interface ManifestArtifact {
  readonly type: string;
  readonly properties?: { readonly templateFile?: string; readonly directoryName?: string; readonly stackName?: string };
  readonly displayName?: string;
}

/** Runs `command` with CDK_OUTDIR set to a fresh folder, reads the cloud assembly, and picks the rollout. */
export function appTarget(command: string, rolloutPath: string | undefined, cwd: string, env: Readonly<Record<string, string | undefined>>): CliTarget {
  return pickRollout(synthesizeApp(command, cwd, env), rolloutPath, `--app "${command}"`);
}

/** Runs `command` with CDK_OUTDIR set to a fresh folder (as the CDK CLI does) and reads every stack of the cloud assembly. */
export function synthesizeApp(command: string, cwd: string, env: Readonly<Record<string, string | undefined>>): SynthesizedStack[] {
  const outdir = mkdtempSync(join(tmpdir(), 'zdt-rehearse-'));
  try {
    const context = { ...readCdkJsonContext(cwd), ...CLI_DEFAULT_CONTEXT, ...parseJson(env.CDK_CONTEXT_JSON) };
    const run = spawnSync(command, {
      cwd,
      shell: true,
      env: { ...env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.error || run.status !== 0) {
      const output = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').slice(-20).join('\n');
      throw new Error(`--app "${command}": expected the command to synthesize a cloud assembly and exit 0, it ${run.error ? `failed to start: ${run.error.message}` : `exited ${run.status}`}${output ? `:\n${output}` : ''}`);
    }
    return readAssembly(outdir, command);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every stack template in a cloud assembly folder (nested assemblies, e.g. Stages, included). */
export function readAssembly(dir: string, what: string): SynthesizedStack[] {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new Error(`${what}: expected a cloud assembly with manifest.json in CDK_OUTDIR (${dir}), found none; does the app call app.synth() (new App() does on exit)?`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { artifacts?: Record<string, ManifestArtifact> };
  const stacks: SynthesizedStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      const template = JSON.parse(readFileSync(join(dir, artifact.properties.templateFile), 'utf8')) as CfnTemplate;
      stacks.push({ stackName: artifact.properties.stackName ?? artifact.displayName ?? id, template });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      stacks.push(...readAssembly(join(dir, artifact.properties.directoryName), what));
    }
  }
  return stacks;
}

/**
 * The rollout state machine: the only one, or the one `rolloutPath` names (construct path or a prefix of it, or a
 * logical id), chosen by the rehearsal's own selectRollout; a choice that fails is a usage error.
 */
export function pickRollout(stacks: readonly SynthesizedStack[], rolloutPath: string | undefined, what: string): CliTarget {
  if (rolloutCandidates(stacks).length === 0) {
    throw new Error(`${what}: expected a state machine (a ProgressiveRollout) in the synthesized stacks (${stacks.map((s) => s.stackName).join(', ') || 'none'}), found none`);
  }
  let chosen: RolloutCandidate;
  try {
    chosen = selectRollout(stacks, rolloutPath?.replace(/^\/+|\/+$/g, ''), '--rollout');
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^rehearse: /, ''));
  }
  const stack = stacks.find((s) => s.stackName === chosen.stackName)!;
  return { stacks, stack, stateMachineLogicalId: chosen.logicalId, stateMachinePath: chosen.path };
}

function withRollout(target: CliTarget, rolloutPath: string | undefined): CliTarget {
  if (rolloutPath === undefined) return target;
  const picked = pickRollout(target.stacks, rolloutPath, 'the example app');
  return { ...target, ...picked, strategyLabel: target.strategyLabel };
}

function readCdkJsonContext(cwd: string): Record<string, unknown> {
  const path = join(cwd, 'cdk.json');
  if (!existsSync(path)) return {};
  const parsed = parseJson(readFileSync(path, 'utf8')) as { context?: Record<string, unknown> };
  return parsed.context ?? {};
}

function parseJson(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try { return JSON.parse(text) as Record<string, unknown>; } catch { return {}; }
}

// ---------------------------------------------------------------------------------------------
// The simulation
// ---------------------------------------------------------------------------------------------

/** The example app's bake per step (bin/everjust.ts), kept when --strategy swaps the strategy. */
const EXAMPLE_BAKE = Duration.minutes(5);

/** The strategy each --strategy name builds, with the example's bake. */
export const STRATEGY_FACTORIES: Record<StrategyName, () => RolloutStrategy> = {
  canary: () => RolloutStrategy.canary({ bake: EXAMPLE_BAKE }),
  linear: () => RolloutStrategy.linear({ bake: EXAMPLE_BAKE }),
  allAtOnce: () => RolloutStrategy.allAtOnce({ bake: EXAMPLE_BAKE }),
  segmentFirst: () => RolloutStrategy.segmentFirst({ bake: EXAMPLE_BAKE }),
};

/**
 * The example app (bin/everjust.ts) synthesized in-process, with path metadata as the CDK CLI would.
 * Without aws-cdk-lib's built-in CloudFormation validation: it spent about 2/3 of `npm start`'s CPU checking a
 * template the rehearsal does not test (BENCHMARKS.md); `cdk synth` and test/constructs/example-app.test.ts keep it.
 */
export function synthesizeExample(strategy?: StrategyName): SynthesizedStack[] {
  const app = new App({ context: { ...CLI_DEFAULT_CONTEXT }, builtinCloudFormationValidation: false, stackTraces: false, treeMetadata: false });
  createEverJust(app, strategy ? { strategy: STRATEGY_FACTORIES[strategy]() } : {});
  return stacksOf(app);
}

/** The simulation: rehearsal/rehearse.ts (rehearse) and rehearsal/scenarios.ts (SCENARIOS). */
function loadEngine(): RehearsalEngine {
  // The SDK's Node 20 end-of-support notice would interleave with the timeline; the handlers run on Node 22+ in AWS.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return {
    scenarioNames: () => Object.keys(SCENARIOS),
    exampleTarget: (strategy) => ({
      ...pickRollout(synthesizeExample(strategy), undefined, 'the example app'),
      strategyLabel: strategy === undefined ? 'example app (canary)' : `example app (--strategy ${strategy})`,
    }),
    run: (target, scenario, onTimeline, options) => rehearse([...target.stacks], {
      rollout: `${target.stack.stackName}/${target.stateMachineLogicalId}`,
      scenario,
      onTimeline,
      seed: options?.seed,
    }),
    expectedOutcome: (scenario) => scenarioNamed(scenario).expect.outcome,
  };
}
