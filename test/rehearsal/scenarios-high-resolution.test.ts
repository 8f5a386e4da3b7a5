import { ErrorName, RolloutEvent } from '../../lambda/shared/contracts';
import { RELEASE_SIGNAL_INGESTION_DELAY_SECONDS } from '../../rehearsal/release-signal-source';
import { ALARM_EVENT_DELAY_MS } from '../../rehearsal/simulation-alarm-events';
import { lastRuleWrite, observe, synthEverJust } from './scenarios-support';

const stacks = synthEverJust();

describe('rehearsal: high-resolution-regression (the application emits the per-color signal)', () => {
  test('a 10-second alarm on the release signal fires, its event ends the bake, and traffic is 100% stable, verified, within 45 s', async () => {
    const o = await observe(stacks, 'high-resolution-regression');
    const s = o.result.summary;
    expect(s.outcome).toBe('ROLLED_BACK');
    expect(s.error).toBe(ErrorName.ROLLED_BACK);
    expect(s.cause).toMatch(/\(high-resolution-alarm\): High-resolution alarm \S+HighResolutionGreenErrorRate\S* of the green color went to ALARM/);
    // Detected by the event, not by a judgement: the bake ended before its first judge interval did.
    const texts = o.result.timeline.map((t) => t.text);
    expect(texts).toContainEqual(expect.stringMatching(/rule \S*HighResolutionAlarmFired\S* -> release-alarm: done/));
    expect(texts.filter((t) => /^judge: /.test(t))).toEqual([]);
    // The signal's periods reach CloudWatch 11 s after they end, the alarm needs two of them and is evaluated every
    // 10 s, then its event and the handler: not sooner than two periods plus the delays, and within 45 s to safe.
    expect(s.timeToDetectMs).toBeGreaterThanOrEqual(20_000 + RELEASE_SIGNAL_INGESTION_DELAY_SECONDS * 1000 + ALARM_EVENT_DELAY_MS);
    expect(s.safeAtMs! - s.regressionStartedAtMs!).toBeLessThanOrEqual(45_000);
    // Invariant 2: the rollback's verified write comes before the Rolled Back event; one writer (the execution's router).
    const restore = lastRuleWrite(o);
    const rolledBackEvent = o.calls.findIndex((c) => c.service === 'events' && JSON.stringify(c.input).includes(RolloutEvent.ROLLED_BACK));
    expect(restore).toBeGreaterThan(0);
    expect(rolledBackEvent).toBeGreaterThan(restore);
    expect(o.albWeights[o.colors.stable]).toBe(100);
    expect(o.calls.filter((c) => c.service === 'states' && c.command === 'SendTaskFailure')).toHaveLength(1);
    // 1% of 1,000 req/s failing 20%: about 2 failed requests a second until safe.
    expect(s.failedRequests).toBeLessThanOrEqual(100);
  });
});
