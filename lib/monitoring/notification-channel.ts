import { ChatChannel, MicrosoftTeamsChannelProps, SlackChannelProps } from './chat-channel';
import { EmailChannel, EmailChannelProps } from './email-channel';
import { StatusPageChannel, StatusPageChannelProps } from './status-page-channel';
import { WebhookChannel, WebhookChannelProps } from './webhook-channel';

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
