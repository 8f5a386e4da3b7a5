import { Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { messageOf } from '../private/notification-messages';
import { propError } from '../private/validation';
import type { INotificationChannel, NotificationChannelContext } from './notification-channel-binding';
import { RolloutEventKind } from './rollout-event-kind';

/** Options of NotificationChannel.webhook. */
export interface WebhookChannelProps {
  /** The HTTPS endpoint, e.g. 'https://api.opsgenie.com/v2/alerts'. */
  readonly endpoint: string;
  /**
   * How EventBridge authenticates: the value lives in Secrets Manager, e.g.
   * `events.Authorization.apiKey('Authorization', SecretValue.secretsManager('pager/opsgenie'))` (the secret holding
   * `GenieKey <key>`).
   */
  readonly authorization: events.Authorization;
  /**
   * Most calls per second EventBridge makes to the endpoint.
   * @default 10
   */
  readonly rateLimitPerSecond?: number;
  /**
   * Name of the channel among the notifications' channels.
   * @default 'Webhook'
   */
  readonly channelId?: string;
}

/**
 * An HTTPS endpoint called through an EventBridge API destination (POST, JSON body), with the connection's
 * credentials in Secrets Manager: a paging service for a failed rollback. The body carries `message` (the title),
 * `description` (what happened and what happens next), `priority` (P1 critical, P3 warning, P5 info), `alias` (the
 * execution, so that a service deduplicates repeats), `source`, and the rollout's fields — the shape Opsgenie's
 * "create alert" accepts; other services take it through their generic webhook integrations.
 */
export class WebhookChannel implements INotificationChannel {
  public readonly channelId: string;
  private destination?: events.ApiDestination;

  constructor(private readonly props: WebhookChannelProps) {
    this.channelId = props.channelId ?? 'Webhook';
  }

  public bind(scope: Construct, context: NotificationChannelContext): void {
    if (this.destination) return;
    if (!Token.isUnresolved(this.props.endpoint) && !/^https:\/\/[^\s]+$/.test(this.props.endpoint)) {
      throw propError(scope, `${this.channelId}: endpoint must be an https:// URL (API destinations call HTTPS only), got "${this.props.endpoint}"`);
    }
    const connection = new events.Connection(scope, `${this.channelId}Connection`, {
      authorization: this.props.authorization,
      description: `cdk-zero-downtime: ${this.channelId} of the rollouts of ${context.serviceName}`,
    });
    this.destination = new events.ApiDestination(scope, `${this.channelId}Destination`, {
      connection,
      endpoint: this.props.endpoint,
      httpMethod: events.HttpMethod.POST,
      rateLimitPerSecond: this.props.rateLimitPerSecond ?? 10,
      description: `cdk-zero-downtime: ${this.channelId} of the rollouts of ${context.serviceName}`,
    });
  }

  public ruleTarget(kind: RolloutEventKind, context?: NotificationChannelContext): events.IRuleTarget {
    if (!this.destination) throw new Error(`${this.channelId}: the channel is not bound yet; pass it to RolloutNotifications first`);
    const m = messageOf(kind, context?.flagKey);
    const f = (path: string) => events.EventField.fromPath(path);
    return new targets.ApiDestination(this.destination, {
      event: events.RuleTargetInput.fromObject({
        message: m.title,
        description: `${m.body}\n\nWhat happens next: ${m.next}`,
        priority: m.severity === 'critical' ? 'P1' : m.severity === 'warning' ? 'P3' : 'P5',
        alias: f('$.detail.execution'),
        source: 'cdk-zero-downtime',
        tags: ['cdk-zero-downtime', kind],
        details: context?.flagKey === undefined
          ? { service: f('$.detail.service'), targetColor: f('$.detail.targetColor'), stableColor: f('$.detail.stableColor'), event: kind }
          : { service: f('$.detail.service'), flag: f('$.detail.flag'), treatment: f('$.detail.treatment'), control: f('$.detail.control'), event: kind },
      }),
      headerParameters: { 'Content-Type': 'application/json' },
    });
  }
}
