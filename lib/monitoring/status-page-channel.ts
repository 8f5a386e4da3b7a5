import { SecretValue, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { messageOf } from '../private/notification-messages';
import { propError } from '../private/validation';
import type { INotificationChannel, NotificationChannelContext } from './notification-channel-binding';
import { RolloutEventKind } from './rollout-event-kind';

/** Options of NotificationChannel.statusPage. */
export interface StatusPageChannelProps {
  /** The Statuspage page id. */
  readonly pageId: string;
  /** The id of the page's component that stands for the service. */
  readonly componentId: string;
  /** Secret holding the Statuspage API key (the whole SecretString is the key). */
  readonly apiKey: secretsmanager.ISecret;
  /**
   * The Statuspage API.
   * @default 'https://api.statuspage.io/v1'
   */
  readonly apiUrl?: string;
  /**
   * Name of the channel among the notifications' channels.
   * @default 'StatusPage'
   */
  readonly channelId?: string;
}

/**
 * Statuspage component statuses ("Component statuses", Statuspage REST API v1): the rollout opens a maintenance
 * window on its component when it starts, updates its description at each step, and closes it when it ends.
 */
const COMPONENT_STATUS: Record<RolloutEventKind, string> = {
  [RolloutEventKind.STARTED]: 'under_maintenance',
  [RolloutEventKind.STEP_COMPLETED]: 'under_maintenance',
  [RolloutEventKind.PAUSED]: 'under_maintenance',
  [RolloutEventKind.VALIDATION_FAILED]: 'under_maintenance',
  [RolloutEventKind.ROLLBACK_TRIGGERED]: 'under_maintenance',
  // Traffic is back on the color that served before the rollout, verified: the window closes.
  [RolloutEventKind.ROLLED_BACK]: 'operational',
  [RolloutEventKind.ROLLBACK_FAILED]: 'partial_outage',
  [RolloutEventKind.COMPLETED]: 'operational',
  [RolloutEventKind.PROMOTED_FULL]: 'under_maintenance',
};

/**
 * A hosted status page (Atlassian Statuspage) kept in step with the rollout: an EventBridge API destination PATCHes
 * the service's component (`/pages/{page}/components/{component}`) with a status and a description for each event.
 * Stateless on purpose: each event sets the whole state of the component, so a lost, repeated or reordered delivery
 * is corrected by the next one, and nothing has to remember an incident id between events. The API key stays in
 * Secrets Manager (the connection reads it with a dynamic reference).
 */
export class StatusPageChannel implements INotificationChannel {
  public readonly channelId: string;
  private destination?: events.ApiDestination;

  constructor(private readonly props: StatusPageChannelProps) {
    this.channelId = props.channelId ?? 'StatusPage';
  }

  public bind(scope: Construct, context: NotificationChannelContext): void {
    if (this.destination) return;
    const apiUrl = (this.props.apiUrl ?? 'https://api.statuspage.io/v1').replace(/\/+$/, '');
    for (const [prop, value] of [['pageId', this.props.pageId], ['componentId', this.props.componentId]]) {
      if (!Token.isUnresolved(value) && !/^[A-Za-z0-9]{1,64}$/.test(value)) throw propError(scope, `${this.channelId}: ${prop} must be a Statuspage id (letters and digits), got "${value}"`);
    }
    if (!Token.isUnresolved(apiUrl) && !apiUrl.startsWith('https://')) throw propError(scope, `${this.channelId}: apiUrl must be an https:// URL, got "${apiUrl}"`);
    const connection = new events.Connection(scope, `${this.channelId}Connection`, {
      // Statuspage: "Authorization: OAuth <api key>"; the key is read from the secret at deploy time.
      authorization: events.Authorization.apiKey('Authorization', new SecretValue(`OAuth ${this.props.apiKey.secretValue.unsafeUnwrap()}`)),
      description: `cdk-zero-downtime: status page of ${context.serviceName}`,
    });
    this.destination = new events.ApiDestination(scope, `${this.channelId}Destination`, {
      connection,
      endpoint: `${apiUrl}/pages/${this.props.pageId}/components/${this.props.componentId}`,
      httpMethod: events.HttpMethod.PATCH,
      rateLimitPerSecond: 1,
      description: `cdk-zero-downtime: status page component of ${context.serviceName}`,
    });
  }

  public ruleTarget(kind: RolloutEventKind, context?: NotificationChannelContext): events.IRuleTarget {
    if (!this.destination) throw new Error(`${this.channelId}: the channel is not bound yet; pass it to RolloutNotifications first`);
    const m = messageOf(kind, context?.flagKey);
    return new targets.ApiDestination(this.destination, {
      event: events.RuleTargetInput.fromObject({ component: { status: COMPONENT_STATUS[kind], description: `${m.title}. ${m.next}`.slice(0, 1000) } }),
      headerParameters: { 'Content-Type': 'application/json' },
    });
  }
}
