import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { ChatChannel, MicrosoftTeamsChannelProps, SlackChannelProps } from './chat-channel';
import { EmailChannel, EmailChannelProps } from './email-channel';
import { RolloutEventKind } from './rollout-event-kind';
import { StatusPageChannel, StatusPageChannelProps } from './status-page-channel';
import { WebhookChannel, WebhookChannelProps } from './webhook-channel';

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

/** Factories of the notification channels. */
export class NotificationChannel {
  /** Email to these addresses, through an SNS topic (encrypted) with one email subscription each. */
  public static email(props: EmailChannelProps): EmailChannel {
    return new EmailChannel(props);
  }

  /** A Slack channel, through AWS Chatbot (Amazon Q Developer in chat applications) subscribed to an SNS topic. */
  public static slack(props: SlackChannelProps): ChatChannel {
    return ChatChannel.slack(props);
  }

  /** A Microsoft Teams channel, through AWS Chatbot (Amazon Q Developer in chat applications) subscribed to an SNS topic. */
  public static microsoftTeams(props: MicrosoftTeamsChannelProps): ChatChannel {
    return ChatChannel.microsoftTeams(props);
  }

  /**
   * An HTTPS endpoint (a paging service: Opsgenie, PagerDuty, incident.io...) called through an EventBridge API
   * destination with a JSON body; its credentials stay in Secrets Manager (an EventBridge connection).
   */
  public static webhook(props: WebhookChannelProps): WebhookChannel {
    return new WebhookChannel(props);
  }

  /**
   * A component of an Atlassian Statuspage page, set through its REST API: under maintenance while a rollout runs,
   * operational once it completed or rolled back, partial outage when a rollback failed.
   */
  public static statusPage(props: StatusPageChannelProps): StatusPageChannel {
    return new StatusPageChannel(props);
  }

  private constructor() {}
}
