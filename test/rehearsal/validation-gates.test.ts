/**
 * Validation gates executed in the rehearsal on a small stack: the performance-baseline gate compares the simulated
 * colors (their behaviour profiles) through the test route, and the functional-test gate's CodeBuild runs a suite
 * against the new color (rehearsal/fakes/codebuild.ts), before any traffic moves.
 */
import { Duration } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { ValidationGate } from '../../lib';
import { RolloutStrategy } from '../../lib/rollout/rollout-strategy';
import { rehearse } from '../../rehearsal/rehearse';
import { network, rollout } from '../constructs/fixtures';

function stackWithPerformanceGate() {
  const f = network();
  rollout(f, {
    strategy: RolloutStrategy.linear({ stepPercent: 50, bake: Duration.minutes(2) }),
    preTrafficGates: [ValidationGate.performanceBaseline({ endpoints: ['/api/projects'], samples: 20 })],
  });
  return f.stack;
}

describe('performance-baseline gate in the rehearsal', () => {
  test('a release three times slower than the stable color fails the gate before any traffic moves', async () => {
    const result = await rehearse(stackWithPerformanceGate(), { scenario: 'latency-regression' });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/pre-traffic hook 1 did not succeed: Performance baseline failed: GET \/api\/projects: green p50 [\d.]+ ms vs blue p50 [\d.]+ ms \(limit: 1\.5x the baseline and more than 50 ms over it; 20 samples each\)/);
    expect(result.series.every((p) => p.weights.green === 0)).toBe(true);
    expect(result.summary.failedRequests).toBe(0);
  });

  test('a release as fast as the stable color passes it and is released', async () => {
    const result = await rehearse(stackWithPerformanceGate(), { scenario: 'healthy-release' });

    expect(result.summary.cause).toBeUndefined();
    expect(result.summary.outcome).toBe('RELEASED');
  });
});

function stackWithFunctionalTests() {
  const f = network();
  const project = new codebuild.Project(f.stack, 'E2e', { buildSpec: codebuild.BuildSpec.fromObject({ version: '0.2', phases: { build: { commands: ['npm run e2e || true'] } } }) });
  const reportGroup = new codebuild.ReportGroup(f.stack, 'E2eReports');
  rollout(f, {
    strategy: RolloutStrategy.linear({ stepPercent: 50, bake: Duration.minutes(2) }),
    preTrafficGates: [ValidationGate.functionalTests({ project, reportGroup })],
  });
  return f.stack;
}

describe('functional-test gate in the rehearsal', () => {
  test('the suite passes on the new color: the build\'s report says 100% and the release goes on', async () => {
    const result = await rehearse(stackWithFunctionalTests(), { scenario: 'healthy-release' });

    expect(result.summary.cause).toBeUndefined();
    expect(result.summary.outcome).toBe('RELEASED');
    // The build's four minutes pass before the first shift.
    const firstShift = result.timeline.find((e) => e.kind === 'weights');
    expect(firstShift!.atMs).toBeGreaterThanOrEqual(240_000);
  });

  test('a quarter of the suite fails on the new color (503 on /api/projects): the pass rate is under 95% and nothing shifts', async () => {
    const result = await rehearse(stackWithFunctionalTests(), {
      scenario: { name: 'projects-broken', description: 'the release answers 503 on /api/projects', probes: { release: { '/api/projects': { status: 503 } } },
        // No ordinary errors on top, so that exactly the five /api/projects cases fail.
        profiles: { release: { baselineErrorRatePercent: 0 } }, expect: { outcome: 'ROLLED_BACK' } },
    });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/pre-traffic hook 1 did not succeed: Functional tests failed: 75% of 20 test cases passed in build .*:rehearsal-1 \(15 passed, 5 failed\) \(limit: at least 95%\)/);
    expect(result.series.every((p) => p.weights.green === 0)).toBe(true);
  });

  test('a build that times out fails the gate', async () => {
    const result = await rehearse(stackWithFunctionalTests(), {
      scenario: { name: 'suite-hangs', description: 'the test build times out', functionalTests: { buildStatus: 'TIMED_OUT' }, expect: { outcome: 'ROLLED_BACK' } },
    });

    expect(result.summary.cause).toMatch(/Functional tests failed: build .*:rehearsal-1 ended TIMED_OUT: its suite did not run to the end/);
  });
});

