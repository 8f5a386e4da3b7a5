/**
 * CloudWatch's alarm events in the rehearsal: "CloudWatch sends events to Amazon EventBridge whenever a CloudWatch
 * alarm is created, updated, deleted, or changes alarm state [...] CloudWatch guarantees the delivery of alarm state
 * change events to EventBridge" (CloudWatch User Guide, "Alarm events and EventBridge",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html; event source
 * aws.cloudwatch, detail-type "CloudWatch Alarm State Change", the detail's alarmName, state and previousState as in
 * the guide's single-metric example).
 *
 * The fake evaluates alarms lazily (it catches up when asked); a real high-resolution alarm is evaluated every 10 s
 * whether anyone asks or not, and its event goes out then. So, while a deployed rule listens to these events, this
 * evaluates the alarms on every 10-second tick of the virtual clock and publishes each new state change
 * ALARM_EVENT_DELAY_MS after it happened; the simulated EventBridge then invokes the rule's targets after its own
 * EVENT_DELIVERY_MS (rehearsal/simulation-events.ts).
 */
import type { FakeCloudWatch } from './fakes';
import type { ScheduledClock } from './simulation-clock';
import type { SimulatedEventBridge } from './simulation-events';

/**
 * From an alarm's state change to its event on the bus. AWS documents delivery, not latency: "CloudWatch guarantees
 * the delivery of alarm state change events to EventBridge" (above); an AWS service's durable delivery "will
 * successfully attempt to deliver events to EventBridge at least once [...] In cases where events cannot be delivered
 * because of an EventBridge service disruption, they will be retried again later by the AWS service for up to 24
 * hours" (EventBridge User Guide, "Event delivery from AWS services"); the EventBridge FAQ says only that it delivers
 * events in near real time (aws.amazon.com/eventbridge/faqs). No number: assumed one second.
 */
export const ALARM_EVENT_DELAY_MS = 1000;
/** CloudWatch evaluates 10 s and 30 s alarms every 10 seconds (User Guide, "Using Amazon CloudWatch alarms"). */
export const HIGH_RESOLUTION_TICK_MS = 10_000;
export const CLOUDWATCH_EVENT_SOURCE = 'aws.cloudwatch';
export const ALARM_STATE_CHANGE = 'CloudWatch Alarm State Change';

export interface AlarmEventPublisherOptions {
  readonly clock: ScheduledClock;
  readonly cloudwatch: FakeCloudWatch;
  readonly bus: SimulatedEventBridge;
  readonly region: string;
  readonly accountId: string;
}

/** Publishes the fake's alarm state changes to the simulated EventBridge as CloudWatch would. */
export class AlarmEventPublisher {
  private seen: number;
  /** Executions under way that asked for ticks (start/stop pairs). */
  private users = 0;
  /** Bumped at every start from idle: a tick of an earlier chain that is still scheduled does nothing. */
  private generation = 0;
  /** Events published, oldest first (alarm name, state, virtual epoch ms). */
  readonly published: Array<{ alarmName: string; state: string; at: number }> = [];

  constructor(private readonly options: AlarmEventPublisherOptions) {
    this.seen = options.cloudwatch.stateChanges().length;
  }

  /** True when a rule of the bus listens to CloudWatch alarm state changes (else there is nothing to publish to). */
  static wanted(bus: SimulatedEventBridge): boolean {
    return bus.rules.some((r) => r.enabled && JSON.stringify(r.pattern?.source ?? null).includes(JSON.stringify(CLOUDWATCH_EVENT_SOURCE)));
  }

  /**
   * Ticks every 10 seconds from the next tick after now, until every start has its stop. The simulation starts them
   * for each execution (alarms matter to a rollout only while one runs), so hours of idle virtual time (a crashed
   * execution's lock expiring) cost no ticks. Changes while no execution ran are not published late: their events
   * went out then, when no rollout held the lock for them to end.
   */
  start(): void {
    this.users += 1;
    if (this.users > 1) return;
    this.generation += 1;
    this.options.cloudwatch.evaluateAlarms();
    this.seen = this.options.cloudwatch.stateChanges().length;
    this.scheduleTick(Math.floor(this.options.clock.now() / HIGH_RESOLUTION_TICK_MS) * HIGH_RESOLUTION_TICK_MS + HIGH_RESOLUTION_TICK_MS, this.generation);
  }

  /** Ends one start: the ticks stop once every start has ended. */
  stop(): void {
    this.users = Math.max(0, this.users - 1);
  }

  private scheduleTick(at: number, generation: number): void {
    this.options.clock.schedule({
      at,
      label: 'CloudWatch alarm evaluation',
      run: () => {
        if (this.users === 0 || generation !== this.generation) return;
        this.tick();
        this.scheduleTick(at + HIGH_RESOLUTION_TICK_MS, generation);
      },
    });
  }

  private tick(): void {
    const { cloudwatch, clock } = this.options;
    cloudwatch.evaluateAlarms();
    const changes = cloudwatch.stateChanges();
    for (const change of changes.slice(this.seen)) {
      clock.schedule({
        at: Math.max(clock.now(), change.time + ALARM_EVENT_DELAY_MS),
        label: `CloudWatch Alarm State Change ${change.alarmName}`,
        run: () => this.publish(change),
      });
    }
    this.seen = changes.length;
  }

  private publish(change: ReturnType<FakeCloudWatch['stateChanges']>[number]): void {
    const { bus, region, accountId } = this.options;
    const timestamp = new Date(change.time).toISOString().replace('Z', '+0000');
    this.published.push({ alarmName: change.alarmName, state: change.to, at: this.options.clock.now() });
    bus.publish(bus.envelope(CLOUDWATCH_EVENT_SOURCE, ALARM_STATE_CHANGE, {
      alarmName: change.alarmName,
      state: { value: change.to, reason: change.reason, timestamp },
      previousState: { value: change.from, timestamp },
    }, [`arn:aws:cloudwatch:${region}:${accountId}:alarm:${change.alarmName}`]));
  }
}
