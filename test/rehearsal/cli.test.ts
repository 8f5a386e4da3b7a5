import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appTarget, chartFile, pickRollout, rehearseCommand, type RehearsalEngine, type CliTarget, type SynthesizedStack } from '../../bin/commands/rehearse';
import type { RehearsalResult } from '../../rehearsal/result';
import type { RehearsalRuns } from '../../rehearsal/rehearse-runs';
import { badRelease, healthyRelease } from './render-fixtures';

const stateMachineStack = (stackName: string, paths: string[]): SynthesizedStack => ({
  stackName,
  template: {
    Resources: Object.fromEntries(paths.map((path, i) => [`Machine${i}`, { Type: 'AWS::StepFunctions::StateMachine', Properties: {}, Metadata: { 'aws:cdk:path': path } }])),
  },
});

/** A stand-in simulation: each scenario returns a fixture (or a hand-made outcome), feeding the timeline as it goes. */
function fakeEngine(results: Record<string, (seed?: number) => RehearsalResult>): RehearsalEngine & { runs: { scenario: string; target: CliTarget; seed?: number }[]; strategies: (string | undefined)[] } {
  const stack = stateMachineStack('EverJust-router', ['EverJust/Router/Rollout/StateMachine/Resource']);
  const runs: { scenario: string; target: CliTarget; seed?: number }[] = [];
  const strategies: (string | undefined)[] = [];
  return {
    runs,
    strategies,
    scenarioNames: () => Object.keys(results),
    exampleTarget: (strategy) => {
      strategies.push(strategy);
      return { stacks: [stack], stack, stateMachineLogicalId: 'Machine0', stateMachinePath: 'EverJust/Router/Rollout/StateMachine/Resource', strategyLabel: strategy ?? 'canary' };
    },
    run: async (target, scenario, onTimeline, options) => {
      runs.push({ scenario, target, ...(options?.seed !== undefined ? { seed: options.seed } : {}) });
      const result = results[scenario](options?.seed);
      for (const e of result.timeline) onTimeline(e);
      return result;
    },
  };
}

const withOutcome = (make: () => RehearsalResult, outcome: RehearsalResult['summary']['outcome'], scenario?: string) => () => {
  const r = make();
  return { ...r, summary: { ...r.summary, outcome, scenario: scenario ?? r.summary.scenario } };
};

describe('zdt rehearse', () => {
  let cwd: string;
  let out: string[];
  let err: string[];
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'zdt-cli-test-'));
    out = [];
    err = [];
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  const run = (argv: string[], engine: RehearsalEngine) => rehearseCommand(argv, (l) => out.push(l), {
    err: (l) => err.push(l), cwd, engine, env: {}, stdoutIsTTY: false, progress: { write: () => true, isTTY: false },
  });
  const defaults = () => fakeEngine({ 'healthy-release': healthyRelease, 'error-rate-regression': badRelease });

  test.each([
    [['--strategy', 'bluegreen'], /--strategy must be one of canary, linear, allAtOnce, segmentFirst, got "bluegreen"/],
    [['--app', 'node app.js', '--strategy', 'linear'], /--strategy is only supported for the example app/],
    [['--colour'], /unknown option --colour/],
    [['--scenario'], /--scenario needs a value/],
    [['--scenario', 'nope'], /--scenario: unknown scenario "nope"; known: healthy-release, error-rate-regression/],
    [['--chart', 'out.jpg'], /--chart must name an \.svg or \.png file, got "out.jpg"/],
    [['healthy-release'], /unexpected argument "healthy-release"/],
    [['--rollout', 'Nowhere/Rollout'], /expected --rollout "Nowhere\/Rollout" to name one state machine .*found 0; candidates: EverJust\/Router\/Rollout\/StateMachine\/Resource/],
    [['--runs', '0'], /--runs must be a whole number of at least 1, got "0"/],
    [['--runs', 'many'], /--runs must be a whole number of at least 1, got "many"/],
    [['--seed', '1.5'], /--seed must be a whole number, got "1.5"/],
    [['--runs', '3', '--chart', 'a.svg'], /--chart draws one run; with --runs, rehearse the run you want to see with --seed/],
    [['--runs', '3', '--verbose'], /--verbose prints one run's states/],
    [['--scenario', 'release-plan-healthy', '--runs', '2'], /--runs and --seed rehearse a traffic or a flag scenario; the release plan scenario "release-plan-healthy" runs once .*--scenario healthy-release, --scenario flag-rollout-healthy/],
    [['--scenario', 'release-plan-traffic-regression', '--seed', '4'], /the release plan scenario "release-plan-traffic-regression" runs once on the deterministic traffic/],
  ])('%j is a usage error (exit 64) that names the option', async (argv, message) => {
    const engine = defaults();
    expect(await run(argv as string[], engine)).toBe(64);
    expect(err.join('\n')).toMatch(message);
    expect(err.join('\n')).toContain('usage: zdt rehearse');
    expect(engine.runs).toHaveLength(0);
  });

  test('--help prints the usage with the exit codes and exits 0', async () => {
    expect(await run(['--help'], defaults())).toBe(0);
    expect(out.join('\n')).toMatch(/Exit code: 0 released, 1 rolled back, 2 refused or failed, 3 rollback failed, 64 usage error/);
  });

  test('by default runs a healthy and a bad release, prints timeline and summary, writes both charts, exits 0', async () => {
    const engine = defaults();
    expect(await run([], engine)).toBe(0);
    expect(engine.runs.map((r) => r.scenario)).toEqual(['healthy-release', 'error-rate-regression']);
    const text = out.join('\n');
    expect(text).toMatch(/Rehearsal 1\/2: healthy-release/);
    expect(text).toMatch(/^05:05 {2}verdict {3}PASS/m);
    expect(text).toMatch(/outcome +RELEASED/);
    expect(text).toMatch(/outcome +ROLLED BACK/);
    expect(text).toMatch(/All 2 scenarios behaved as expected \(exit 0\)/);
    for (const scenario of ['healthy-release', 'error-rate-regression']) {
      const svg = readFileSync(join(cwd, '.rehearsal', `${scenario}.svg`), 'utf8');
      expect(svg).toMatch(/^<svg /);
      expect(text).toContain(`.rehearsal/${scenario}.svg`);
    }
  });

  test('with the default pair, exits non-zero when the bad release is not rolled back', async () => {
    const released = fakeEngine({ 'healthy-release': healthyRelease, 'error-rate-regression': withOutcome(badRelease, 'RELEASED') });
    expect(await run([], released)).toBe(2);
    expect(out.join('\n')).toMatch(/error-rate-regression: expected ROLLED_BACK, got RELEASED/);
    const healthyRolledBack = fakeEngine({ 'healthy-release': withOutcome(healthyRelease, 'ROLLED_BACK'), 'error-rate-regression': badRelease });
    expect(await run([], healthyRolledBack)).toBe(1);
  });

  test.each([
    ['RELEASED', 0], ['ROLLED_BACK', 1], ['REFUSED', 2], ['FAILED', 2], ['ROLLBACK_FAILED', 3],
  ] as const)('one named scenario ending %s exits %d', async (outcome, code) => {
    const engine = fakeEngine({ 'healthy-release': healthyRelease, 'error-rate-regression': badRelease, custom: withOutcome(badRelease, outcome, 'custom') });
    expect(await run(['--scenario', 'custom'], engine)).toBe(code);
    expect(engine.runs.map((r) => r.scenario)).toEqual(['custom']);
  });

  test('--json prints only the RehearsalResult as JSON, and --chart writes where asked', async () => {
    const engine = defaults();
    expect(await run(['--scenario', 'error-rate-regression', '--json', '--chart', 'charts/bad.svg'], engine)).toBe(1);
    const parsed = JSON.parse(out.join('\n')) as RehearsalResult;
    expect(parsed.summary.outcome).toBe('ROLLED_BACK');
    expect(parsed.series.length).toBeGreaterThan(0);
    expect(existsSync(join(cwd, 'charts', 'bad.svg'))).toBe(true);
  });

  test('--chart with the default pair writes one file per scenario', async () => {
    expect(await run(['--chart', 'out/run.svg'], defaults())).toBe(0);
    expect(existsSync(join(cwd, 'out', 'run-healthy-release.svg'))).toBe(true);
    expect(existsSync(join(cwd, 'out', 'run-error-rate-regression.svg'))).toBe(true);
  });

  test('--strategy re-synthesizes the example with that strategy', async () => {
    const engine = defaults();
    expect(await run(['--strategy', 'linear', '--scenario', 'healthy-release'], engine)).toBe(0);
    expect(engine.strategies).toEqual(['linear']);
    expect(out.join('\n')).toMatch(/Rehearsal 1\/1: healthy-release · linear/);
  });

  test('a failing --app command exits 2 with its output', async () => {
    expect(await run(['--app', 'echo synth broke >&2; exit 3'], defaults())).toBe(2);
    expect(err.join('\n')).toMatch(/--app "echo synth broke >&2; exit 3": expected the command to synthesize a cloud assembly and exit 0, it exited 3:\nsynth broke/);
  });
});

describe('chartFile', () => {
  test('defaults to .rehearsal/<scenario>.svg and adds the scenario to --chart when several run', () => {
    expect(chartFile(undefined, 'bad release', 2, '/w')).toBe('/w/.rehearsal/bad-release.svg');
    expect(chartFile('c.svg', 'bad', 1, '/w')).toBe('/w/c.svg');
    expect(chartFile('out/c.png', 'bad', 2, '/w')).toBe('/w/out/c-bad.png');
  });
});

describe('pickRollout', () => {
  const stacks = [stateMachineStack('A', ['App/A/Rollout/StateMachine/Resource']), stateMachineStack('B', ['App/B/Rollout/StateMachine/Resource', 'App/B/Other/Resource'])];

  test('asks for --rollout when there are several, listing their construct paths', () => {
    expect(() => pickRollout(stacks, undefined, 'app')).toThrow(/found 3 \(App\/A\/Rollout\/StateMachine\/Resource, .*\); pick one with --rollout/);
  });

  test('picks by construct path or a prefix of it', () => {
    const picked = pickRollout(stacks, 'App/B/Rollout', 'app');
    expect(picked.stack.stackName).toBe('B');
    expect(picked.stateMachineLogicalId).toBe('Machine0');
    expect(pickRollout(stacks, '/App/A/Rollout/StateMachine/Resource', 'app').stack.stackName).toBe('A');
  });

  test('refuses an app without a state machine', () => {
    expect(() => pickRollout([{ stackName: 'Empty', template: { Resources: {} } }], undefined, '--app "x"')).toThrow(/expected a state machine \(a ProgressiveRollout\) in the synthesized stacks \(Empty\), found none/);
  });
});

describe('appTarget', () => {
  test('runs the command with CDK_OUTDIR and path metadata on, and reads every stack of the cloud assembly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zdt-app-'));
    try {
      // A stand-in for `npx tsx bin/app.ts`: writes a cloud assembly the way App.synth() does.
      writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ app: 'node synth.js', context: { region: 'eu-west-1' } }));
      writeFileSync(join(dir, 'synth.js'), `
        const fs = require('fs'); const path = require('path');
        const out = process.env.CDK_OUTDIR; const ctx = JSON.parse(process.env.CDK_CONTEXT_JSON);
        if (!ctx['aws:cdk:enable-path-metadata'] || ctx.region !== 'eu-west-1') process.exit(9);
        const machine = (p) => ({ Type: 'AWS::StepFunctions::StateMachine', Properties: {}, Metadata: { 'aws:cdk:path': p } });
        fs.writeFileSync(path.join(out, 'Router.template.json'), JSON.stringify({ Resources: { Sm: machine('Shop/Router/Rollout/StateMachine/Resource') } }));
        fs.mkdirSync(path.join(out, 'assembly-Stage'));
        fs.writeFileSync(path.join(out, 'assembly-Stage', 'Blue.template.json'), JSON.stringify({ Resources: {} }));
        fs.writeFileSync(path.join(out, 'assembly-Stage', 'manifest.json'), JSON.stringify({ artifacts: { Blue: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Blue.template.json', stackName: 'Shop-blue' } } } }));
        fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ artifacts: {
          Router: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Router.template.json', stackName: 'Shop-router' } },
          Stage: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Stage' } },
          Tree: { type: 'cdk:tree', properties: { file: 'tree.json' } } } }));
      `);
      const target = appTarget('node synth.js', undefined, dir, process.env);
      expect(target.stacks.map((s) => s.stackName)).toEqual(['Shop-router', 'Shop-blue']);
      expect(target.stack.stackName).toBe('Shop-router');
      expect(target.stateMachineLogicalId).toBe('Sm');
      expect(target.stateMachinePath).toBe('Shop/Router/Rollout/StateMachine/Resource');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('zdt rehearse --runs / --seed', () => {
  let cwd: string;
  let out: string[];
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), 'zdt-cli-runs-'));
    out = [];
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));
  const run = (argv: string[], engine: RehearsalEngine) => rehearseCommand(argv, (l) => out.push(l), {
    err: () => undefined, cwd, engine, env: {}, stdoutIsTTY: false, progress: { write: () => true, isTTY: false },
  });
  /** Healthy releases that seed 12 rolls back (noise), bad releases that seed 11 lets through, failed requests = seed x 10. */
  const noisy = () => {
    const engine = fakeEngine({
      'healthy-release': (seed) => withOutcome(healthyRelease, seed === 12 ? 'ROLLED_BACK' : 'RELEASED')(),
      'error-rate-regression': (seed) => {
        const r = withOutcome(badRelease, seed === 11 ? 'RELEASED' : 'ROLLED_BACK')();
        return { ...r, summary: { ...r.summary, failedRequests: (seed ?? 0) * 10, timeToDetectMs: seed === 11 ? undefined : (seed ?? 0) * 1000 } };
      },
    });
    return { ...engine, expectedOutcome: (name: string) => (name === 'healthy-release' ? 'RELEASED' as const : 'ROLLED_BACK' as const) };
  };

  test('--seed rehearses one run on the stochastic model with that seed', async () => {
    const engine = noisy();
    expect(await run(['--scenario', 'healthy-release', '--seed', '7'], engine)).toBe(0);
    expect(engine.runs).toEqual([expect.objectContaining({ scenario: 'healthy-release', seed: 7 })]);
    const plain = noisy();
    await run(['--scenario', 'healthy-release'], plain);
    expect(plain.runs[0].seed).toBeUndefined();
  });

  test('--runs N --seed S runs each scenario with seeds S..S+N-1 and prints the distribution', async () => {
    const engine = noisy();
    const code = await run(['--runs', '4', '--seed', '10'], engine);
    expect(engine.runs.map((r) => `${r.scenario}:${r.seed}`)).toEqual([
      'healthy-release:10', 'healthy-release:11', 'healthy-release:12', 'healthy-release:13',
      'error-rate-regression:10', 'error-rate-regression:11', 'error-rate-regression:12', 'error-rate-regression:13',
    ]);
    const text = out.join('\n');
    expect(text).toMatch(/Runs: healthy-release, 4 runs, seeds 10-13 \(stochastic traffic\)/);
    expect(text).toMatch(/outcomes +RELEASED 3 · ROLLED BACK 1/);
    expect(text).toMatch(/false rollbacks +1 of 4 \(25%\)/);
    expect(text).toMatch(/missed regressions +1 of 4 \(25%\)/);
    // time to detect over the 3 detections (10, 12, 13 s): nearest-rank p50 12 s, p95 13 s
    expect(text).toMatch(/time to detect +p50 12 s · p95 13 s · max 13 s \(3 detections\)/);
    // failed requests 100, 110, 120, 130: p50 110, p95 130
    expect(text).toMatch(/failed requests +p50 110 · p95 130 · max 130/);
    expect(text).toMatch(/✗ healthy-release: 1 of 4 runs did not end RELEASED \(first: seed 12, ROLLED_BACK; see it with --seed 12\)/);
    // The first unexpected run decides the exit code: a rolled-back healthy release, 1.
    expect(code).toBe(1);
  });

  test('--runs exits 0 only when every run reached the expected outcome, and 2 when a regression was released', async () => {
    expect(await run(['--runs', '2', '--seed', '1', '--scenario', 'healthy-release'], noisy())).toBe(0);
    expect(out.join('\n')).toMatch(/✓ healthy-release: RELEASED in all 2 runs as expected/);
    expect(await run(['--runs', '2', '--seed', '10', '--scenario', 'error-rate-regression'], noisy())).toBe(2);
  });

  test('--runs --json prints the distributions (one object for one scenario)', async () => {
    expect(await run(['--runs', '3', '--scenario', 'error-rate-regression', '--json'], noisy())).toBe(0);
    const parsed = JSON.parse(out.join('\n')) as RehearsalRuns;
    expect(parsed).toMatchObject({
      scenario: 'error-rate-regression', expected: 'ROLLED_BACK', runs: 3, firstSeed: 1, outcomes: { ROLLED_BACK: 3 },
      missedRegressions: 0, failedRequests: { count: 3, p50: 20, p95: 30 }, timeToDetectMs: { count: 3, p50: 2000, p95: 3000 },
    });
    expect(parsed.results.map((r) => r.seed)).toEqual([1, 2, 3]);
  });
});

describe('zdt rehearse on the example app (end to end)', () => {
  test('runs the healthy and the bad release, exits 0 and writes both charts', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'zdt-e2e-'));
    const out: string[] = [];
    const err: string[] = [];
    try {
      const code = await rehearseCommand([], (l) => out.push(l), { err: (l) => err.push(l), cwd, env: {}, stdoutIsTTY: false, progress: { write: () => true, isTTY: false } });
      expect(err).toEqual([]);
      expect(code).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(/✓ healthy-release: RELEASED as expected/);
      expect(text).toMatch(/✓ error-rate-regression: ROLLED_BACK as expected/);
      expect(text).toMatch(/^\d\d:\d\d {2}verdict {3}FAIL/m);
      expect(text).toMatch(/blast radius +[1-9][\d,]* failed requests of [\d,]+ served/);
      for (const scenario of ['healthy-release', 'error-rate-regression']) {
        expect(readFileSync(join(cwd, '.rehearsal', `${scenario}.svg`), 'utf8')).toContain('data-series="weight-green"');
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    // Synthesizes the whole example app (with its gates and notification plan) before rehearsing twice.
  }, 180_000);
});
