import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { RolloutEventKind } from './rollout-event-kind';

/** What a channel knows about the notifications it serves. */
export interface NotificationChannelContext {
  /** The rollout's service name. */
  readonly serviceName: string;
  /**
   * The flag, when the notifications are a guarded flag rollout's (GuardedFlagRollout): its events and messages
   * are about the flag's phases, not about colors.
   * @default - a traffic rollout's (ProgressiveRollout)
   */
  readonly flagKey?: string;
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
  /**
   * The EventBridge target that tells this channel about events of `kind`, in its own words; `context` says
   * whose events they are (a flag rollout's when it names a flag).
   */
  ruleTarget(kind: RolloutEventKind, context?: NotificationChannelContext): events.IRuleTarget;
}
