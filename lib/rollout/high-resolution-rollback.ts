import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ReleaseAlarmConfig } from '../../lambda/shared/contracts';
import { ALL_COLORS, colorId, wireColor } from '../private/colors';
import { HandlerFunction } from '../private/handler-function';
import { grantTaskTokenResponse } from '../private/task-response';
import { Color } from '../routing/color';
import { ColorHighResolutionAlarms, HighResolutionSignalOptions } from './high-resolution-alarms';

/** What HighResolutionRollback needs from its rollout. */
export interface HighResolutionRollbackProps extends HighResolutionSignalOptions {
  readonly serviceName: string;
  readonly stateTable: dynamodb.ITable;
  readonly logRetention: logs.RetentionDays;
}

/**
 * A rollout's high-resolution signal (ProgressiveRolloutOptions.highResolutionSignal): the alarms of each color on it
 * and, when `eventDriven`, the path from an alarm to the rollback. An EventBridge rule on the alarms' "CloudWatch
 * Alarm State Change" to ALARM invokes the release-alarm handler, which answers the waiting bake's task token with
 * HIGH_RESOLUTION_ALARM (or marks the rollout so its next bake fails at once); the execution's own Catch rolls back.
 * The handler never moves traffic: the execution stays the one writer of the weights. Not exported: ProgressiveRollout
 * builds it.
 */
export class HighResolutionRollback extends Construct {
  /** The alarms of each color. */
  public readonly alarmsByColor: ReadonlyMap<Color, ColorHighResolutionAlarms>;
  /** The bake waits on a task token the alarms' events can answer. */
  public readonly eventDriven: boolean;

  constructor(scope: Construct, id: string, props: HighResolutionRollbackProps) {
    super(scope, id);
    const { serviceName, stateTable, logRetention, ...options } = props;
    this.alarmsByColor = new Map(ALL_COLORS.map((color) => [color, new ColorHighResolutionAlarms(this, colorId(color), { ...options, serviceName, color })]));
    this.eventDriven = props.eventDriven ?? true;
    if (!this.eventDriven) return;

    const alarmColors = ALL_COLORS.flatMap((color) => this.alarmsOf(color).map((alarm) => ({ alarm, color })));
    const config: ReleaseAlarmConfig = {
      tableName: stateTable.tableName,
      service: serviceName,
      alarms: alarmColors.map(({ alarm, color }) => ({ alarmName: alarm.alarmName, color: wireColor(color) })),
    };
    const handler = new HandlerFunction(this, 'Handler', {
      handler: 'release-alarm',
      description: `cdk-zero-downtime: ends the bake of ${serviceName} when a high-resolution alarm of the new color fires`,
      config,
      timeout: Duration.seconds(30),
      logRetention,
    });
    stateTable.grant(handler, 'dynamodb:UpdateItem');
    grantTaskTokenResponse(handler, ['states:SendTaskFailure']);
    new events.Rule(this, 'AlarmFired', {
      description: `cdk-zero-downtime: a high-resolution alarm of ${serviceName} went to ALARM`,
      // CloudWatch guarantees the delivery of alarm state change events to EventBridge (User Guide, "Alarm events and EventBridge").
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: { alarmName: alarmColors.map(({ alarm }) => alarm.alarmName), state: { value: ['ALARM'] } },
      },
      // A missed event only delays the rollback to the next judgement (the judge watches these alarms too); a late
      // one is of no use.
      targets: [new targets.LambdaFunction(handler, { retryAttempts: 2, maxEventAge: Duration.minutes(5) })],
    });
  }

  /** The alarms of `color` (5xx rate, p99). */
  public alarmsOf(color: Color): cloudwatch.Alarm[] {
    return this.alarmsByColor.get(color)?.alarms ?? [];
  }
}
