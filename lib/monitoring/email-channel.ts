import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { messageOf } from '../private/notification-messages';
import { encryptedTopicForEvents } from '../private/notification-topic';
import { TopicRuleTarget } from '../private/topic-rule-target';
import { propError } from '../private/validation';
import type { INotificationChannel, NotificationChannelContext } from './notification-channel-binding';
import { RolloutEventKind } from './rollout-event-kind';

/** Options of NotificationChannel.email. */
export interface EmailChannelProps {
  /** Who gets the emails (each confirms its subscription once, from the email SNS sends). */
  readonly addresses: string[];
  /**
   * Name of the channel among the notifications' channels.
   * @default 'Email'
   */
  readonly channelId?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Plain-text emails through an encrypted SNS topic: what happened, to which service, why, and what happens next. */
export class EmailChannel implements INotificationChannel {
  public readonly channelId: string;
  private topicOf?: sns.Topic;

  constructor(private readonly props: EmailChannelProps) {
    this.channelId = props.channelId ?? 'Email';
  }

  /** The topic the emails go through (after binding). */
  public get topic(): sns.ITopic {
    if (!this.topicOf) throw new Error(`${this.channelId}: the channel is not bound yet; pass it to RolloutNotifications first`);
    return this.topicOf;
  }

  public bind(scope: Construct, context: NotificationChannelContext): void {
    if (this.topicOf) return;
    if (this.props.addresses.length === 0) throw propError(scope, `${this.channelId}: addresses must list at least one email address`);
    for (const a of this.props.addresses) {
      if (!EMAIL.test(a)) throw propError(scope, `${this.channelId}: addresses must be email addresses, got "${a}"`);
    }
    this.topicOf = encryptedTopicForEvents(scope, `${this.channelId}Topic`, `Rollout emails of ${context.serviceName}`);
    for (const a of this.props.addresses) this.topicOf.addSubscription(new subscriptions.EmailSubscription(a));
  }

  public ruleTarget(kind: RolloutEventKind, context?: NotificationChannelContext): events.IRuleTarget {
    const m = messageOf(kind, context?.flagKey);
    return new TopicRuleTarget(this.topic, events.RuleTargetInput.fromMultilineText(`${m.title}\n\nWhat happened: ${m.body}\n\nWhat happens next: ${m.next}`));
  }
}
