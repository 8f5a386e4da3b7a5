import { FakeCloudWatch, MetricQuery, MetricSource } from '../../rehearsal/fakes';
import { ALARM_EVENT_DELAY_MS, ALARM_STATE_CHANGE, AlarmEventPublisher, CLOUDWATCH_EVENT_SOURCE } from '../../rehearsal/simulation-alarm-events';
import { ScheduledClock } from '../../rehearsal/simulation-clock';
import type { BusEvent, SimulatedEventBridge } from '../../rehearsal/simulation-events';
import { VirtualClock } from '../../rehearsal/virtual-clock';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const FAILING_FROM = START + 30_000;

/** 20% of requests fail from FAILING_FROM on, in both namespaces (the application's and another). */
class Rate implements MetricSource {
  value(q: MetricQuery): number | null {
    if (q.metricName !== 'ErrorRate') return null;
    return q.periodStart >= FAILING_FROM ? 20 : 0.1;
  }
}

function world() {
  const clock = new ScheduledClock(new VirtualClock(START));
  const cloudwatch = new FakeCloudWatch({ clock, ingestionDelaySeconds: 90 });
  cloudwatch.addMetricSource(new Rate());
  cloudwatch.setIngestionDelay('App', 11);
  const published: BusEvent[] = [];
  const bus = {
    rules: [{ enabled: true, pattern: { source: [CLOUDWATCH_EVENT_SOURCE] } }],
    publish: (event: BusEvent) => { published.push({ ...event, time: new Date(clock.now()).toISOString() }); },
    envelope: (source: string, detailType: string, detail: Record<string, unknown>, resources: string[] = []) => (
      { 'version': '0', 'id': 'x', 'detail-type': detailType, source, 'account': '123456789012', 'time': '', 'region': 'us-east-1', resources, detail }),
  } as unknown as SimulatedEventBridge;
  for (const namespace of ['App', 'Other']) {
    cloudwatch.putMetricAlarm({
      AlarmName: `${namespace}-errors`, Namespace: namespace, MetricName: 'ErrorRate', Statistic: 'Average', Period: 10,
      EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
    });
  }
  const publisher = new AlarmEventPublisher({ clock, cloudwatch, bus, region: 'us-east-1', accountId: '123456789012' });
  return { clock, cloudwatch, bus, published, publisher };
}

describe('CloudWatch alarm events in the rehearsal', () => {
  test('a 10 s alarm changes state on a 10-second tick once two periods are in (11 s after each ends), and its event follows 1 s later', async () => {
    const w = world();
    expect(AlarmEventPublisher.wanted(w.bus)).toBe(true);
    w.publisher.start();
    await w.clock.advanceTo(START + 200_000);
    const change = w.cloudwatch.stateChanges('App-errors').find((c) => c.to === 'ALARM')!;
    // Periods [30 s, 40 s) and [40 s, 50 s) breach; the second is in CloudWatch at 61 s; the tick after that is 70 s.
    expect(change.time - START).toBe(70_000);
    const event = w.published.find((e) => (e.detail as { alarmName?: string }).alarmName === 'App-errors' && (e.detail as any).state.value === 'ALARM')!;
    expect(Date.parse(event.time) - change.time).toBe(ALARM_EVENT_DELAY_MS);
    expect(event).toMatchObject({
      'source': CLOUDWATCH_EVENT_SOURCE, 'detail-type': ALARM_STATE_CHANGE, 'resources': ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:App-errors'],
      'detail': { alarmName: 'App-errors', state: { value: 'ALARM', reason: expect.stringMatching(/Threshold Crossed/) }, previousState: { value: expect.any(String) } },
    });
    // The same data in a namespace whose datapoints arrive 90 s late (ALB's delay): a 10-second alarm's evaluation
    // range (4 periods, 40 s) never holds one, so it never fires. The per-namespace delay is what makes (c) work.
    expect(w.cloudwatch.stateChanges('Other-errors').filter((c) => c.to === 'ALARM')).toEqual([]);
  });

  test('without a rule on aws.cloudwatch nothing is evaluated on its own, and stop() ends the ticks', async () => {
    const w = world();
    expect(AlarmEventPublisher.wanted({ rules: [{ enabled: true, pattern: { source: ['aws.states'] } }] } as unknown as SimulatedEventBridge)).toBe(false);
    w.publisher.start();
    w.publisher.stop();
    await w.clock.advanceTo(START + 120_000);
    expect(w.published).toEqual([]);
  });
});
