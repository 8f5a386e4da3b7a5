import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { RolloutEventKind } from './rollout-event-kind';

/** What a channel knows about the notifications it serves. */
export interface NotificationChannelContext {
  /** The rollout's service name. */
  readonly serviceName: string;
}

/**
 * Where rollout notifications go (email, Slack, Microsoft Teams, a pager, a status page). RolloutNotifications binds
 * each channel once, then asks it for the EventBridge target of each event kind it routes to it.
 */
export interface INotificationChannel {
  /** A short name, unique among the channels of one RolloutNotifications (the construct id of its resources). */
  readonly channelId: string;
  /** Creates the channel's resources in `scope`. Called once, before ruleTarget. */
  bind(scope: Construct, context: NotificationChannelContext): void;
  /** The EventBridge target that tells this channel about events of `kind`, in its own words. */
  ruleTarget(kind: RolloutEventKind): events.IRuleTarget;
}
