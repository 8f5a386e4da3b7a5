/**
 * The validation gates of the example app in the rehearsal: the HTTP check and the database check run before any
 * traffic moves, against the simulated service (rehearsal/simulation-probes.ts), and a failing one ends the rollout
 * with production traffic untouched.
 */
import { RolloutEvent } from '../../lambda/shared/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rehearseCommand } from '../../bin/commands/rehearse';
import { rehearse } from '../../rehearsal/rehearse';
import type { RehearsalResult } from '../../rehearsal/result';
import { SCENARIOS } from '../../rehearsal/scenarios';
import { observe, synthEverJust } from './scenarios-support';

const stacks = synthEverJust();

describe('rehearsal: validation gates of the example app', () => {
  test('http-check-fails: the HTTP check fails on the new color and the rollout ends before any production traffic moves', async () => {
    const o = await observe(stacks, 'http-check-fails');
    const s = o.result.summary;

    expect(s.outcome).toBe(SCENARIOS['http-check-fails'].expect.outcome);
    expect(s.cause).toMatch(/\(hook-failed\): pre-traffic hook 1 did not succeed: HTTP check failed: 1 of 3 endpoints failed: GET \/api\/projects on green: status 503 \(limit: below 400\) in [\d.]+ ms \(3 attempts\)/);
    // Weights never left 100/0: the live rule was never written after its creation, and no request reached the release.
    expect(o.weightHistory.every((c) => c.weights[o.colors.stable] === 100)).toBe(true);
    expect(o.calls.filter((c) => c.service === 'elbv2' && c.command === 'ModifyRule' && !c.error)).toEqual([]);
    expect(o.result.series.every((p) => p.weights[o.colors.release] === 0 && p.requests[o.colors.release] === 0)).toBe(true);
    expect(s.failedRequests).toBe(0);
    // The database check never ran: the gates run in order and the first one failed.
    expect(s.events.map((e) => e.detailType)).toEqual([RolloutEvent.STARTED, RolloutEvent.ROLLBACK_TRIGGERED, RolloutEvent.ROLLED_BACK]);
  });

  test('healthy-release: both gates pass on the simulated service and database, and the release completes', async () => {
    const o = await observe(stacks, 'healthy-release');

    expect(o.result.summary.outcome).toBe('RELEASED');
    const hooks = o.executions[0].events.filter((e) => e.type === 'StateExited' && /^Pre-Traffic Hook \d$/.test(e.state ?? ''))
      .map((e) => (e.output as { hook: { status: string; reason: string } }).hook);
    expect(hooks.map((h) => h.status)).toEqual(['Succeeded', 'Succeeded']);
    expect(hooks[0].reason).toMatch(/^HTTP check passed: 3 endpoints on green answered below 400 within 500 ms/);
    expect(hooks[1].reason).toMatch(/^Database check passed: connected to simulated database and SELECT 1 answered in 5 ms/);
  });

  test('a database that does not answer fails the database check, naming the limit, before any traffic moves', async () => {
    const result = await rehearse(stacks, { scenario: { ...SCENARIOS['healthy-release'], name: 'database-down', database: { reachable: false } } });

    expect(result.summary.outcome).toBe('ROLLED_BACK');
    expect(result.summary.cause).toMatch(/pre-traffic hook 2 did not succeed: Database check failed: simulated database: no answer within 1000 ms after 1000 ms \(limit: connect and SELECT 1 within 1000 ms; 3 attempts\)/);
    expect(result.series.every((p) => p.weights.green === 0)).toBe(true);
  });

  test('`zdt rehearse --scenario http-check-fails --json` prints the rollback before any traffic moved (exit 1: rolled back)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'zdt-gates-'));
    const out: string[] = [];
    try {
      const code = await rehearseCommand(['--scenario', 'http-check-fails', '--json'], (l) => out.push(l), {
        err: () => undefined, cwd, env: {}, stdoutIsTTY: false, progress: { write: () => true, isTTY: false },
      });
      const result = JSON.parse(out.join('\n')) as RehearsalResult;
      expect(code).toBe(1);
      expect(result.summary).toMatchObject({ scenario: 'http-check-fails', outcome: 'ROLLED_BACK', finalWeights: { blue: 100, green: 0 }, failedRequests: 0 });
      expect(result.summary.cause).toContain('HTTP check failed: 1 of 3 endpoints failed: GET /api/projects on green: status 503');
      expect(result.series.every((p) => p.weights.green === 0)).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    // It synthesizes the whole example app (four stacks, cdk-nag and the CloudFormation validator) before rehearsing.
  }, 180_000);
});
