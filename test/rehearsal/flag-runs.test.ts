/**
 * Flag scenarios under `--runs` / rehearseRuns(): a guarded flag rollout rehearsed once per seed on the stochastic
 * variant traffic, summarized as a traffic scenario's runs (outcomes, false rollbacks / missed regressions, time to
 * detect, the treatment's failed requests). One small app (a 30-minute phase, then 100%), synthesized once.
 */
import { rehearseCommand, type CliTarget, type RehearsalEngine } from '../../bin/commands/rehearse';
import type { StackTemplate } from '../../rehearsal/deployer';
import { rehearseFlagRollout } from '../../rehearsal/flag-rehearsal';
import { RehearsalRunRecord, rehearseRuns, summarizeRuns } from '../../rehearsal/rehearse-runs';
import { stacksOf } from '../../rehearsal/simulation-target';
import { shortFlagRolloutApp } from './flag-fixtures';

const record = (seed: number, outcome: RehearsalRunRecord['outcome']): RehearsalRunRecord => ({
  seed, outcome, failedRequests: 0, totalRequests: 1000, durationMs: 60_000, realDurationMs: 500,
});

describe('flag scenarios under --runs', () => {
  let stacks: StackTemplate[];
  beforeAll(() => {
    stacks = stacksOf(shortFlagRolloutApp());
  });

  test('summarizeRuns counts a healthy flag rolled back as a false rollback and a regressed flag that completed as a missed regression', () => {
    expect(summarizeRuns('flag-rollout-healthy', 'COMPLETED', [record(1, 'COMPLETED'), record(2, 'ROLLED_BACK')]))
      .toMatchObject({ outcomes: { COMPLETED: 1, ROLLED_BACK: 1 }, asExpected: 1, falseRollbacks: 1, missedRegressions: 0 });
    expect(summarizeRuns('flag-rollout-regression', 'ROLLED_BACK', [record(1, 'COMPLETED'), record(2, 'ROLLED_BACK'), record(3, 'RELEASED')]))
      .toMatchObject({ asExpected: 1, falseRollbacks: 0, missedRegressions: 2 });
  });

  test('rehearseRuns of a flag scenario: every regressed run rolls back, detected, with the treatment\'s failed requests; each run is rehearseFlagRollout with its seed', async () => {
    const runs = await rehearseRuns(stacks, { scenario: 'flag-rollout-regression', runs: 2, seed: 1 });
    expect(runs).toMatchObject({ scenario: 'flag-rollout-regression', expected: 'ROLLED_BACK', runs: 2, firstSeed: 1, outcomes: { ROLLED_BACK: 2 }, missedRegressions: 0 });
    expect(runs.results.map((r) => r.trigger)).toEqual(['judge-fail', 'judge-fail']);
    expect(runs.timeToDetectMs.count).toBe(2);
    // The treatment fails 3% against its 0.2% baseline from its first request: the excess is the blast radius.
    expect(runs.failedRequests.min).toBeGreaterThan(0);
    expect(runs.results.every((r) => r.failedRequests < r.totalRequests * 0.03)).toBe(true);
    const again = await rehearseFlagRollout(stacks, { scenario: 'flag-rollout-regression', seed: 2 });
    expect(again.failedRequests).toBe(runs.results[1].failedRequests);
    expect(again.detectedAtMs).toBe(runs.results[1].detectedAtMs);
    expect(again.timeToDetectMs).toBe(runs.results[1].timeToDetectMs);
  });

  test('zdt rehearse --scenario flag-rollout-healthy --runs 2 --seed 3 prints the distribution and exits 0 when every run completed', async () => {
    const target: CliTarget = { stacks, stack: stacks[0], stateMachineLogicalId: 'none' };
    const engine: RehearsalEngine = {
      scenarioNames: () => ['healthy-release'],
      exampleTarget: () => target,
      run: () => { throw new Error('a flag scenario does not run the traffic rehearsal'); },
    };
    const out: string[] = [];
    const code = await rehearseCommand(['--scenario', 'flag-rollout-healthy', '--runs', '2', '--seed', '3'], (l) => out.push(l), {
      err: (l) => out.push(l), engine, env: {}, stdoutIsTTY: false, progress: { write: () => true, isTTY: false },
    });
    const text = out.join('\n');
    expect(code).toBe(0);
    expect(text).toContain('▶ Rehearsal 1/1: flag-rollout-healthy · 2 runs');
    expect(text).toContain('Runs: flag-rollout-healthy, 2 runs, seeds 3-4');
    expect(text).toMatch(/outcomes\s+COMPLETED 2/);
    expect(text).toMatch(/false rollbacks\s+0 of 2 \(0%\)/);
    expect(text).toMatch(/failed requests\s+p50 0 · p95 0 · max 0/);
    expect(text).toContain('✓ flag-rollout-healthy: COMPLETED in all 2 runs as expected');
  });
});
