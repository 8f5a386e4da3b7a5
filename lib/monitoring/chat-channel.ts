import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { messageOf } from '../private/notification-messages';
import { encryptedTopicForEvents } from '../private/notification-topic';
import { TopicRuleTarget } from '../private/topic-rule-target';
import type { INotificationChannel, NotificationChannelContext } from './notification-channel-binding';
import { RolloutEventKind } from './rollout-event-kind';

/** Options of NotificationChannel.slack. */
export interface SlackChannelProps {
  /** The Slack workspace (team) id, authorized once in the AWS Chatbot console (e.g. T0123ABCD). */
  readonly slackWorkspaceId: string;
  /** The Slack channel id (e.g. C0123ABCD); a private channel must invite @aws. */
  readonly slackChannelId: string;
  /**
   * Name of the channel configuration in AWS Chatbot.
   * @default - `<service>-rollouts-<channelId>`
   */
  readonly configurationName?: string;
  /**
   * Name of the channel among the notifications' channels.
   * @default 'Slack'
   */
  readonly channelId?: string;
}

/** Options of NotificationChannel.microsoftTeams. */
export interface MicrosoftTeamsChannelProps {
  /** The team's id (a GUID), authorized once in the AWS Chatbot console. */
  readonly teamId: string;
  /** The Microsoft Entra tenant id (a GUID). */
  readonly tenantId: string;
  /** The Teams channel id (19:...@thread.tacv2). */
  readonly teamsChannelId: string;
  /**
   * Name of the channel configuration in AWS Chatbot.
   * @default - `<service>-rollouts-<channelId>`
   */
  readonly configurationName?: string;
  /**
   * Name of the channel among the notifications' channels.
   * @default 'Teams'
   */
  readonly channelId?: string;
}

/** The chat application of a ChatChannel. */
export enum ChatApplication {
  /** Slack. */
  SLACK = 'SLACK',
  /** Microsoft Teams. */
  MICROSOFT_TEAMS = 'MICROSOFT_TEAMS',
}

/** Chatbot configuration names: 1-128 letters, digits, "-" and "_". */
function configurationNameOf(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 128);
}

/**
 * A chat channel (Slack or Microsoft Teams) through AWS Chatbot (Amazon Q Developer in chat applications): an
 * encrypted SNS topic the channel configuration subscribes to, and rollout events turned into Chatbot custom
 * notifications (a title, a description and next steps, one thread per rollout execution). The channel is for
 * notifications only: its guardrail policy denies every action, so nobody can run AWS commands from the chat.
 */
export class ChatChannel implements INotificationChannel {
  /** A Slack channel. */
  public static slack(props: SlackChannelProps): ChatChannel {
    return new ChatChannel(ChatApplication.SLACK, props.channelId ?? 'Slack', props, undefined);
  }

  /** A Microsoft Teams channel. */
  public static microsoftTeams(props: MicrosoftTeamsChannelProps): ChatChannel {
    return new ChatChannel(ChatApplication.MICROSOFT_TEAMS, props.channelId ?? 'Teams', undefined, props);
  }

  /** The chat application the channel is in (Slack or Microsoft Teams). */
  public readonly application: ChatApplication;
  public readonly channelId: string;
  private topicOf?: sns.Topic;

  private constructor(
    application: ChatApplication,
    channelId: string,
    private readonly slackProps: SlackChannelProps | undefined,
    private readonly teamsProps: MicrosoftTeamsChannelProps | undefined,
  ) {
    this.application = application;
    this.channelId = channelId;
  }

  /** The topic AWS Chatbot subscribes to (after binding). */
  public get topic(): sns.ITopic {
    if (!this.topicOf) throw new Error(`${this.channelId}: the channel is not bound yet; pass it to RolloutNotifications first`);
    return this.topicOf;
  }

  public bind(scope: Construct, context: NotificationChannelContext): void {
    if (this.topicOf) return;
    this.topicOf = encryptedTopicForEvents(scope, `${this.channelId}Topic`, `Rollout chat notifications of ${context.serviceName}`);
    const guardrail = new iam.ManagedPolicy(scope, `${this.channelId}Guardrail`, {
      description: `cdk-zero-downtime: the ${this.channelId} channel of ${context.serviceName} only receives notifications; no AWS action from the chat`,
      statements: [new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['*'], resources: ['*'] })],
    });
    const role = new iam.Role(scope, `${this.channelId}Role`, {
      assumedBy: new iam.ServicePrincipal('chatbot.amazonaws.com'),
      description: `AWS Chatbot role of the ${this.channelId} rollout channel of ${context.serviceName} (notifications only, no permissions)`,
    });
    const defaultName = configurationNameOf(`${context.serviceName}-rollouts-${this.channelId}`);
    if (this.slackProps) {
      new chatbot.SlackChannelConfiguration(scope, `${this.channelId}Configuration`, {
        slackChannelConfigurationName: configurationNameOf(this.slackProps.configurationName ?? defaultName),
        slackWorkspaceId: this.slackProps.slackWorkspaceId,
        slackChannelId: this.slackProps.slackChannelId,
        notificationTopics: [this.topicOf],
        role,
        guardrailPolicies: [guardrail],
      });
    } else {
      const teams = this.teamsProps!;
      new chatbot.CfnMicrosoftTeamsChannelConfiguration(scope, `${this.channelId}Configuration`, {
        configurationName: configurationNameOf(teams.configurationName ?? defaultName),
        teamId: teams.teamId,
        teamsTenantId: teams.tenantId,
        teamsChannelId: teams.teamsChannelId,
        iamRoleArn: role.roleArn,
        snsTopicArns: [this.topicOf.topicArn],
        guardrailPolicies: [guardrail.managedPolicyArn],
      });
    }
  }

  public ruleTarget(kind: RolloutEventKind, context?: NotificationChannelContext): events.IRuleTarget {
    const m = messageOf(kind, context?.flagKey);
    const execution = events.EventField.fromPath('$.detail.execution');
    // AWS Chatbot custom notifications ("Creating custom notifications", AWS Chatbot administrator guide): version
    // 1.0, source "custom", content { textType, title, description, nextSteps }, metadata { threadId, summary }.
    return new TopicRuleTarget(this.topic, events.RuleTargetInput.fromObject({
      version: '1.0',
      source: 'custom',
      id: events.EventField.eventId,
      content: {
        textType: 'client-markdown',
        title: `${m.severity === 'critical' ? ':rotating_light: ' : m.severity === 'warning' ? ':warning: ' : ''}${m.title}`,
        description: m.body,
        nextSteps: [m.next],
      },
      metadata: { threadId: execution, summary: m.title, eventType: kind },
    }));
  }
}
