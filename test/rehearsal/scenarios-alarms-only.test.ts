// Alarms-only rollouts (analysis: false) of the example app, executed on its synthesized state machine: the judge
// has nothing but the colors' CloudWatch alarms, so these rehearse the fake CloudWatch's alarm evaluation end to end
// (rehearsal/fakes/alarm-evaluation.ts: evaluation range, delayed data, M out of N with notBreaching).
import { App } from 'aws-cdk-lib';
import { createEverJust } from '../../bin/everjust';
import { RolloutEvent } from '../../lambda/shared/contracts';
import type { AlarmStateChange } from '../../rehearsal/fakes';
import { rehearse } from '../../rehearsal/rehearse';
import type { RehearsalResult } from '../../rehearsal/result';
import type { StackTemplate } from '../../rehearsal/deployer';
import { API_SLACK_MS } from './scenarios-support';

const MINUTE = 60_000;

function synthAlarmsOnly(): StackTemplate[] {
  const app = new App({ builtinCloudFormationValidation: false });
  createEverJust(app, { analysis: { enabled: false } });
  return app.synth().stacks.map((s) => ({ stackName: s.stackName, template: s.template }));
}

interface AlarmsOnlyRun {
  readonly result: RehearsalResult;
  /** Alarm state changes after the rollout started, ms since it started. */
  readonly changes: ReadonlyArray<AlarmStateChange & { readonly atMs: number }>;
  readonly releaseAlarms: readonly string[];
  readonly analysisConfigured: boolean;
  readonly stableWeight: number;
}

async function rehearseAlarmsOnly(stacks: StackTemplate[], scenario: string): Promise<AlarmsOnlyRun> {
  let seen: Omit<AlarmsOnlyRun, 'result'> | undefined;
  const result = await rehearse(stacks, {
    scenario,
    inspect: (world) => {
      const sim = world.simulation;
      seen = {
        changes: sim.aws.cloudwatch.stateChanges().filter((c) => c.time >= sim.originMs).map((c) => ({ ...c, atMs: c.time - sim.originMs })),
        releaseAlarms: sim.judgeConfig.alarmsByColor[sim.colors.release],
        analysisConfigured: sim.judgeConfig.analysis !== undefined,
        stableWeight: sim.albWeights()[sim.colors.stable],
      };
    },
  });
  return { result, ...seen! };
}

describe('rehearsal of an alarms-only rollout (analysis: false) of the example app', () => {
  const stacks = synthAlarmsOnly();

  test('a release failing 20% of its requests is rolled back by its health alarm within 4 min 01 s (it used to be released with 173,372 failed requests)', async () => {
    const run = await rehearseAlarmsOnly(stacks, 'error-rate-regression');
    expect(run.analysisConfigured).toBe(false);
    const s = run.result.summary;
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(s.cause).toContain('(judge-fail)');
    expect(run.stableWeight).toBe(100);
    const rolledBack = s.events.find((e) => e.detailType === RolloutEvent.ROLLED_BACK);
    expect((rolledBack?.detail as { trigger?: { kind?: string } }).trigger?.kind).toBe('judge-fail');
    // The canary's first minute (20% failing) is visible from 2 min 30 s, its second from 3 min 30 s (90 s
    // ingestion); the 2-of-3 error-rate alarm, notBreaching, evaluates the two real minutes at the 4-minute tick.
    const composite = run.releaseAlarms[0];
    const firstAlarm = run.changes.find((c) => c.alarmName === composite && c.to === 'ALARM');
    expect(firstAlarm?.atMs).toBe(4 * MINUTE);
    expect(run.changes.some((c) => /ErrorRate/.test(c.alarmName) && c.to === 'ALARM' && c.atMs === 4 * MINUTE)).toBe(true);
    // The judge polls once a minute (its first judgement ~1 s in): the next one after 4:00 fails.
    expect(s.detectedAtMs).toBeGreaterThanOrEqual(4 * MINUTE);
    expect(s.detectedAtMs).toBeLessThanOrEqual(4 * MINUTE + API_SLACK_MS + 1_000);
    expect(s.cause).toContain(`Alarm ${composite} is in ALARM`);
    // 1% of 1,000 req/s for ~241 s, 19.9% above the baseline: ~480 failed requests.
    expect(s.failedRequests).toBeGreaterThan(420);
    expect(s.failedRequests).toBeLessThan(540);
  });

  test('a release answering 3x slower is rolled back by the relative-latency alarm within 4 min 01 s', async () => {
    const run = await rehearseAlarmsOnly(stacks, 'latency-regression');
    const s = run.result.summary;
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(run.changes.some((c) => /RelativeLatencyP99/.test(c.alarmName) && c.to === 'ALARM' && c.atMs === 4 * MINUTE)).toBe(true);
    expect(s.detectedAtMs).toBeLessThanOrEqual(4 * MINUTE + API_SLACK_MS + 1_000);
  });

  test('a healthy release is released: no alarm of either color leaves OK during the rollout', async () => {
    const run = await rehearseAlarmsOnly(stacks, 'healthy-release');
    expect(run.result.summary.outcome).toBe('RELEASED');
    expect(run.changes.filter((c) => c.to !== 'OK')).toEqual([]);
  });
});
