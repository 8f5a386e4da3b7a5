import { ReturnValue, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand } from '@aws-sdk/client-sfn';
import { clock } from '../shared/clock';
import { Color, ErrorName, ReleaseAlarmConfig, ReleaseAlarmResult, StateTable } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';
import { dynamoDb, stepFunctions } from '../shared/clients';
import { highResolutionAlarmAttributes } from './high-resolution-flag';

/**
 * Event-driven rollback: a high-resolution alarm of a color went to ALARM ("CloudWatch Alarm State Change", which
 * CloudWatch guarantees to deliver to EventBridge: CloudWatch User Guide, "Alarm events and EventBridge"). This
 * never moves traffic itself (one writer: the execution). It marks the running rollout's state item with the alarm
 * and, when a bake of that color is waiting, answers the bake's task token with SendTaskFailure
 * (HIGH_RESOLUTION_ALARM): the execution's own Catch then rolls back, traffic first and verified.
 */

const MS_PER_SECOND = 1000;
const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';
/** SendTaskFailure's answers for a token that is no longer waiting: the bake ended meanwhile (the flag remains). */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** The parts of an EventBridge "CloudWatch Alarm State Change" event the handler reads. */
export interface AlarmStateChange {
  readonly alarmName: string;
  readonly state: string;
  readonly reason?: string;
  readonly time?: string;
}

export async function onReleaseAlarm(config: ReleaseAlarmConfig, change: AlarmStateChange): Promise<ReleaseAlarmResult> {
  const color: Color | undefined = config.alarms.find((a) => a.alarmName === change.alarmName)?.color;
  const result = (outcome: ReleaseAlarmResult['outcome'], reason: string): ReleaseAlarmResult => {
    log(outcome === 'ignored' ? 'info' : 'warn', 'release alarm', { alarm: change.alarmName, state: change.state, outcome, reason });
    return { alarm: change.alarmName, outcome, reason };
  };
  if (change.state !== 'ALARM') return result('ignored', `state ${change.state}: only ALARM ends a bake`);
  if (!color) return result('ignored', `not one of the rollout's high-resolution alarms (${config.alarms.map((a) => a.alarmName).join(', ')})`);
  const flag = highResolutionAlarmAttributes(color);
  const cause = `High-resolution alarm ${change.alarmName} of the ${color} color went to ALARM${change.time ? ` at ${change.time}` : ''}: ${change.reason ?? 'no reason given'}`;
  let item: Record<string, { S?: string }> | undefined;
  try {
    // Only while a rollout holds the lock; the flag names that rollout (its owner), so a later rollout never reads it.
    const out = await awsCall(`UpdateItem(${config.tableName}, ${config.service})`, () => dynamoDb().send(new UpdateItemCommand({
      TableName: config.tableName,
      Key: { [StateTable.PARTITION_KEY]: { S: config.service } },
      UpdateExpression: 'SET #flag = #owner, #flagReason = :reason, #updated = :updated',
      ConditionExpression: 'attribute_exists(#owner) AND #expires >= :now',
      ExpressionAttributeNames: {
        '#flag': flag.owner, '#flagReason': flag.reason, '#owner': StateTable.LOCK_OWNER, '#expires': StateTable.LOCK_EXPIRES_AT, '#updated': StateTable.UPDATED_AT,
      },
      ExpressionAttributeValues: {
        ':reason': { S: cause }, ':updated': { S: new Date(clock().now()).toISOString() }, ':now': { N: String(Math.floor(clock().now() / MS_PER_SECOND)) },
      },
      ReturnValues: ReturnValue.ALL_NEW,
    })));
    item = out.Attributes as typeof item;
  } catch (err) {
    if (err instanceof Error && err.name === CONDITIONAL_CHECK_FAILED) return result('ignored', 'no rollout of the service holds the lock');
    throw err;
  }
  const owner = item?.[StateTable.LOCK_OWNER]?.S;
  const token = item?.[StateTable.BAKE_TOKEN]?.S;
  if (!token || item?.[StateTable.BAKE_OWNER]?.S !== owner || item?.[StateTable.BAKE_COLOR]?.S !== color) {
    return result('recorded', `no bake of ${color} is waiting in ${owner}: its next bake fails at once`);
  }
  try {
    await awsCall('SendTaskFailure(bake)', () => stepFunctions().send(new SendTaskFailureCommand({
      taskToken: token, error: ErrorName.HIGH_RESOLUTION_ALARM, cause: cause.slice(0, 32_768),
    })));
  } catch (err) {
    // awsCall keeps the SDK error's name.
    const name = err instanceof Error ? err.name : '';
    if (STALE_TOKEN_ERRORS.has(name)) {
      return result('recorded', `the bake of ${owner} had already ended (${name}): its next bake fails at once`);
    }
    throw err;
  }
  return result('failed-bake', `ended the bake of ${color} in ${owner}`);
}
