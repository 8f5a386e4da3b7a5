import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { GuardedFlagRollout } from '../flags/guarded-flag-rollout';
import { eventPatternOf } from '../private/notification-messages';
import { propError } from '../private/validation';
import { IProgressiveRollout } from '../rollout/progressive-rollout';
import { INotificationChannel, NotificationChannelContext } from './notification-channel-binding';
import { RolloutEventKind } from './rollout-event-kind';

/** Which events go to which channels. */
export interface NotificationRoute {
  /** The events of this route. */
  readonly events: RolloutEventKind[];
  /** Where they go. */
  readonly channels: INotificationChannel[];
}

/** Options of RolloutNotifications. */
export interface RolloutNotificationsProps {
  /**
   * The traffic rollout whose events are told (its service name and event bus). Exactly one of `rollout` and
   * `flagRollout`.
   * @default - none: give flagRollout
   */
  readonly rollout?: IProgressiveRollout;
  /**
   * The guarded flag rollout whose events are told (its service name, flag and event bus), with the same routes
   * and channels: STEP_COMPLETED is a passed phase, VALIDATION_FAILED a flags document AppConfig's validators
   * refused. Exactly one of `rollout` and `flagRollout`.
   * @default - none: give rollout
   */
  readonly flagRollout?: GuardedFlagRollout;
  /**
   * The notification plan: each route sends its events to its channels. A channel may be in several routes; an event
   * kind may be in several routes (each channel gets it once). A channel routed to both VALIDATION_FAILED and
   * ROLLBACK_TRIGGERED gets one message for a failed gate (VALIDATION_FAILED's) and ROLLBACK_TRIGGERED's for every
   * other rollback.
   */
  readonly routes: NotificationRoute[];
}

/** EventBridge's limit of targets per rule. */
const MAX_TARGETS_PER_RULE = 5;

/**
 * The notification plan of a rollout: EventBridge rules on the rollout's events (source `cdk-zero-downtime`, its
 * service) send each event kind to the channels its routes name, in words a person reads: what happened, to which
 * service, at which step, why, and what happens next. Nothing in the state machine changes: the rules read the
 * events it already puts.
 */
export class RolloutNotifications extends Construct {
  /** The rules, by event kind. */
  public readonly rules: events.Rule[] = [];

  /** Whose events: the service, the flag of a flag rollout, the event bus. */
  private readonly source: { readonly context: NotificationChannelContext; readonly eventBus?: events.IEventBus };

  constructor(scope: Construct, id: string, props: RolloutNotificationsProps) {
    super(scope, id);
    if ((props.rollout === undefined) === (props.flagRollout === undefined)) {
      throw propError(this, `exactly one of rollout (a ProgressiveRollout) and flagRollout (a GuardedFlagRollout) must be given, got ${props.rollout ? 'both' : 'neither'}`);
    }
    this.source = props.flagRollout
      ? { context: { serviceName: props.flagRollout.serviceName, flagKey: props.flagRollout.flagKey }, eventBus: props.flagRollout.eventBus }
      : { context: { serviceName: props.rollout!.serviceName }, eventBus: props.rollout!.eventBus };
    if (props.routes.length === 0) throw propError(this, 'routes must hold at least one route (events -> channels)');
    const channelsByKind = new Map<RolloutEventKind, INotificationChannel[]>();
    const ids = new Map<string, INotificationChannel>();
    props.routes.forEach((route, i) => {
      if (route.events.length === 0) throw propError(this, `routes[${i}].events must list at least one event kind`);
      if (route.channels.length === 0) throw propError(this, `routes[${i}].channels must list at least one channel`);
      for (const channel of route.channels) {
        const known = ids.get(channel.channelId);
        if (known && known !== channel) throw propError(this, `routes[${i}]: two different channels have the id "${channel.channelId}"; give one of them another channelId`);
        ids.set(channel.channelId, channel);
      }
      for (const kind of route.events) {
        if (!Object.values(RolloutEventKind).includes(kind)) throw propError(this, `routes[${i}].events: unknown event kind ${JSON.stringify(kind)}; expected one of ${Object.values(RolloutEventKind).join(', ')}`);
        const list = channelsByKind.get(kind) ?? [];
        for (const c of route.channels) if (!list.includes(c)) list.push(c);
        channelsByKind.set(kind, list);
      }
    });
    for (const channel of ids.values()) channel.bind(this, this.source.context);
    for (const kind of Object.values(RolloutEventKind)) {
      // A flag rollout sends no PROMOTED_FULL (zdt promote --full skips a traffic rollout's steps): no rule for it.
      if (kind === RolloutEventKind.PROMOTED_FULL && this.source.context.flagKey !== undefined) continue;
      const channels = channelsByKind.get(kind) ?? [];
      if (kind === RolloutEventKind.ROLLBACK_TRIGGERED) {
        // A failed gate is one incident: a channel that gets VALIDATION_FAILED (the message that names the gate) does
        // not get it a second time as ROLLBACK_TRIGGERED; it still gets every other rollback.
        const validation = channelsByKind.get(RolloutEventKind.VALIDATION_FAILED) ?? [];
        this.addRules(kind, channels.filter((c) => !validation.includes(c)), false);
        this.addRules(kind, channels.filter((c) => validation.includes(c)), true);
      } else {
        this.addRules(kind, channels, false);
      }
    }
  }

  /** Rules sending `kind` to `channels`, at most MAX_TARGETS_PER_RULE targets each. */
  private addRules(kind: RolloutEventKind, channels: INotificationChannel[], exceptValidationFailures: boolean): void {
    const name = `${pascal(kind)}${exceptValidationFailures ? 'NotValidation' : ''}`;
    const { context, eventBus } = this.source;
    const whose = context.flagKey === undefined ? context.serviceName : `flag ${context.flagKey} of ${context.serviceName}`;
    for (let start = 0; start < channels.length; start += MAX_TARGETS_PER_RULE) {
      const batch = channels.slice(start, start + MAX_TARGETS_PER_RULE);
      const rule = new events.Rule(this, `${name}${start === 0 ? '' : start / MAX_TARGETS_PER_RULE + 1}`, {
        eventBus,
        description: `cdk-zero-downtime: ${kind}${exceptValidationFailures ? ' (other than a failed validation)' : ''} of ${whose} to ${batch.map((c) => c.channelId).join(', ')}`.slice(0, 512),
        eventPattern: eventPatternOf(kind, context.serviceName, exceptValidationFailures, context.flagKey),
        targets: batch.map((c) => c.ruleTarget(kind, context)),
      });
      this.rules.push(rule);
    }
  }
}

function pascal(kind: string): string {
  return kind.toLowerCase().split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}
