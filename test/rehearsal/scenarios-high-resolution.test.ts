import { highResolutionAlarmAttributes } from '../../lambda/rollout/high-resolution-flag';
import { BAKE_TOKEN_WRITE, ErrorName, JudgeResult, RolloutEvent } from '../../lambda/shared/contracts';
import { RELEASE_SIGNAL_INGESTION_DELAY_SECONDS } from '../../rehearsal/release-signal-source';
import { ALARM_EVENT_DELAY_MS } from '../../rehearsal/simulation-alarm-events';
import type { CallRecord } from '../../rehearsal/fakes';
import { lastRuleWrite, observe, Observed, synthEverJust } from './scenarios-support';

const stacks = synthEverJust();

/** Every judgement of the rollout's execution, in order (the Judge task's result, at $.verdict). */
function judgements(o: Observed): JudgeResult[] {
  return o.executions[0].events.filter((e) => e.type === 'StateExited' && e.state === 'Judge').map((e) => (e.output as { verdict: JudgeResult }).verdict);
}

/** The namespaces every GetMetricData call read, with the periods of its queries. */
function metricReads(o: Observed): Array<{ namespace: string; period: number }> {
  return o.calls.filter((c) => c.service === 'cloudwatch' && c.command === 'GetMetricData').flatMap((c) => ((c.input as any).MetricDataQueries as any[])
    .filter((q) => q.MetricStat).map((q) => ({ namespace: q.MetricStat.Metric.Namespace as string, period: q.MetricStat.Period as number })));
}

/** Invariant 2 on the way back: the verified restore before the Rolled Back event, 100% stable, one writer. */
function expectRestoredFirst(o: Observed): void {
  const restore = lastRuleWrite(o);
  const rolledBackEvent = o.calls.findIndex((c) => c.service === 'events' && JSON.stringify(c.input).includes(RolloutEvent.ROLLED_BACK));
  expect(restore).toBeGreaterThan(0);
  expect(rolledBackEvent).toBeGreaterThan(restore);
  expect(o.albWeights[o.colors.stable]).toBe(100);
}

describe('rehearsal: the release signal (the application emits the per-color signal)', () => {
  test('high-resolution-regression: the judge, reading the signal\'s 10-second periods, fails a 20% regression at its first judgement, 100% stable, verified, within 45 s', async () => {
    const o = await observe(stacks, 'high-resolution-regression');
    const s = o.result.summary;
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(s.error).toBe(ErrorName.ROLLED_BACK);
    expect(s.cause).toMatch(/\(judge-fail\): .*green's 5xx rate is higher than blue's/);
    const [first] = judgements(o);
    expect(first).toMatchObject({ verdict: 'FAIL', metricSource: 'SIGNAL' });
    expect(metricReads(o)).toContainEqual({ namespace: 'ZeroDowntime/Release', period: 10 });
    // One judge interval (30 s) after the shift, on periods that ended 20 s before.
    expect(s.timeToDetectMs).toBeLessThanOrEqual(35_000);
    expect(s.safeAtMs! - s.regressionStartedAtMs!).toBeLessThanOrEqual(45_000);
    expectRestoredFirst(o);
    expect(s.failedRequests).toBeLessThanOrEqual(100);
  });

  test('high-resolution-latency-regression: before the judge may compare p99, a 10-second alarm fires, its event ends the bake, 100% stable, verified, within 45 s', async () => {
    const o = await observe(stacks, 'high-resolution-latency-regression');
    const s = o.result.summary;
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(s.cause).toMatch(/\(high-resolution-alarm\): High-resolution alarm \S+HighResolutionGreenLatencyP99\S* of the green color went to ALARM/);
    const texts = o.result.timeline.map((t) => t.text);
    expect(texts).toContainEqual(expect.stringMatching(/rule \S*HighResolutionAlarmFired\S* -> release-alarm: done/));
    // The judgements before it found nothing to fail: the canary had not served the 1,000 requests a p99 test needs.
    expect(judgements(o).every((j) => j.verdict === 'WAIT')).toBe(true);
    // Two 10-second periods, their ingestion, the alarm's event: not sooner than that, and within 45 s to safe.
    expect(s.timeToDetectMs).toBeGreaterThanOrEqual(20_000 + RELEASE_SIGNAL_INGESTION_DELAY_SECONDS * 1000 + ALARM_EVENT_DELAY_MS);
    expect(s.safeAtMs! - s.regressionStartedAtMs!).toBeLessThanOrEqual(45_000);
    expectRestoredFirst(o);
    // The bake's token came from the state machine's own UpdateItem (no Lambda), and one SendTaskFailure answered it.
    expect(o.calls.filter((c) => c.service === 'states' && c.command === 'SendTaskFailure')).toHaveLength(1);
  });

  test('high-resolution-alarm-between-bakes: an alarm that fires while the judge runs is flagged, the next bake\'s token write is refused, and the flag read back rolls back at once, 100% stable, verified', async () => {
    const o = await observe(stacks, 'high-resolution-alarm-between-bakes');
    const s = o.result.summary;
    const release = o.colors.release;
    const at = (c: CallRecord) => c.time;
    const events = o.executions[0].events;
    const entered = (state: string) => events.filter((e) => e.type === 'StateEntered' && e.state === state).map((e) => e.at);
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(s.cause).toMatch(new RegExp(`\\(high-resolution-alarm\\): High-resolution alarm \\S+HighResolution${release[0].toUpperCase()}${release.slice(1)}LatencyP99\\S* of the ${release} color went to ALARM`));

    // The alarm fired while the judge was running: after its DescribeAlarms read every alarm OK, before it answered.
    const [judgeEnteredAt] = entered('Judge');
    const judgeExit = events.find((e) => e.type === 'StateExited' && e.state === 'Judge')!;
    const [judgement] = judgements(o);
    expect(judgement.verdict).toBe('WAIT');
    expect(judgement.alarms.every((a) => a.state === 'OK')).toBe(true);
    const flag = highResolutionAlarmAttributes(release);
    const tokenWrites = o.calls.filter((c) => c.service === 'dynamodb' && c.command === 'UpdateItem'
      && (c.input as { UpdateExpression?: string }).UpdateExpression === BAKE_TOKEN_WRITE.UPDATE);
    // The release-alarm handler's write: the flag of the new color (every token write names it too, in its condition).
    const flagWrites = o.calls.filter((c) => c.service === 'dynamodb' && c.command === 'UpdateItem' && !c.error && !tokenWrites.includes(c)
      && (c.input as { ExpressionAttributeNames?: Record<string, string> }).ExpressionAttributeNames?.['#flag'] === flag.owner);
    expect(flagWrites).toHaveLength(1);
    const describeAlarms = o.calls.find((c) => c.service === 'cloudwatch' && c.command === 'DescribeAlarms' && at(c) >= judgeEnteredAt)!;
    expect(at(describeAlarms)).toBeLessThan(at(flagWrites[0]));
    expect(at(flagWrites[0])).toBeLessThan(judgeExit.at);
    // No bake was waiting: the handler's SendTaskFailure found the previous bake's token over and left the flag.
    expect(o.calls.filter((c) => c.service === 'states' && c.command === 'SendTaskFailure').map((c) => c.error)).toEqual(['TaskDoesNotExist']);

    // The next bake's token write is refused by the flag; the flag read back starts the rollback without another judgement.
    const refused = tokenWrites.filter((c) => at(c) > at(flagWrites[0]));
    expect(refused.map((c) => c.error)).toEqual(['ConditionalCheckFailedException']);
    const states = events.filter((e) => e.type === 'StateEntered').map((e) => e.state);
    expect(states.slice(states.lastIndexOf('Bake'), states.lastIndexOf('Bake') + 6)).toEqual(['Bake', 'Read High-Resolution Flag', 'Alarm Fired Before Bake?', `Alarm Reason Of ${release[0].toUpperCase()}${release.slice(1)}`, 'High-Resolution Alarm', 'Rollback']);
    expect(entered('Judge')).toHaveLength(1);
    const [rollbackAt] = entered('Rollback');
    expect(rollbackAt - at(refused[0])).toBeLessThan(1000);

    // Traffic first (100% stable, read back), then the events, which name the alarm.
    expectRestoredFirst(o);
    const restore = lastRuleWrite(o);
    expect(o.calls.slice(restore + 1).find((c) => c.service === 'elbv2')?.command).toBe('DescribeRules');
    const rolledBack = s.events.find((e) => e.detailType === RolloutEvent.ROLLED_BACK)!;
    expect(rolledBack.detail).toMatchObject({ trigger: { kind: 'high-resolution-alarm', error: ErrorName.HIGH_RESOLUTION_ALARM, reason: expect.stringContaining(`of the ${release} color went to ALARM`) }, weights: { [o.colors.stable]: 100, [release]: 0 } });
  });

  test('high-resolution-healthy: every step passes as judged from the signal, every 30 s, the ALB never read', async () => {
    const o = await observe(stacks, 'high-resolution-healthy');
    expect(o.result.summary.outcome).toBe('RELEASED');
    const all = judgements(o);
    expect(all.filter((j) => j.verdict === 'PASS')).toHaveLength(5);
    expect(all.every((j) => j.metricSource === 'SIGNAL')).toBe(true);
    const reads = metricReads(o);
    expect(reads.filter((r) => r.namespace === 'AWS/ApplicationELB')).toEqual([]);
    expect(reads).toContainEqual({ namespace: 'ZeroDowntime/Release', period: 10 });
    // The canary's five 5-minute bakes at 30 s, each step waiting ~30 s for its own data: about 27 minutes.
    expect(o.result.summary.durationMs).toBeLessThan(30 * 60_000);
  });
});
