import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { clock } from '../shared/clock';
import { EVENT_SOURCE, GuardConfig, GuardResult, isColor, RolloutEvent, StateTable } from '../shared/contracts';
import { awsCall } from '../shared/errors';
import { log } from '../shared/log';
import { AlbRouter } from '../routing/alb-router';
import { dynamoDb } from './dynamodb';

/**
 * The execution guard: the safety net for an execution that ended without cleaning up after itself, because it
 * was stopped by hand (StopExecution), timed out, or failed in a way its own Catch could not handle. Such an
 * execution still holds the service's lock, and traffic may be split. The guard then does what the state
 * machine's rollback does, in the same order: 100% to the recorded live color, verified; then the lock; then the
 * event. An execution that released its lock (released, rolled back, refused) is left alone.
 */

let events: EventBridgeClient | undefined;
const eventBridge = () => (events ??= new EventBridgeClient({}));

export interface ExecutionEnded {
  readonly executionArn: string;
  readonly status: string;
}

export async function guardEndedExecution(config: GuardConfig, ended: ExecutionEnded): Promise<GuardResult> {
  const { lock } = config;
  const key = { [StateTable.PARTITION_KEY]: { S: lock.service } };
  const item = (await awsCall(`GetItem(${lock.tableName}, ${lock.service})`, () => dynamoDb().send(new GetItemCommand({
    TableName: lock.tableName, Key: key, ConsistentRead: true,
  })))).Item;
  const owner = item?.[StateTable.LOCK_OWNER]?.S;
  if (owner !== ended.executionArn) {
    const reason = owner === undefined ? 'the execution released its lock' : `the lock belongs to ${owner}`;
    log('info', 'guard: nothing to restore', { ...ended, reason });
    return { ...ended, action: 'none', reason };
  }
  const recorded = item?.[StateTable.LIVE_COLOR]?.S;
  const liveColor = isColor(recorded) ? recorded : lock.initialLiveColor;
  // Traffic first, verified (the router reads it back), exactly as the state machine's rollback.
  const restored = await new AlbRouter(config.router).rollback(liveColor);
  await awsCall(`UpdateItem(${lock.tableName}, ${lock.service})`, () => dynamoDb().send(new UpdateItemCommand({
    TableName: lock.tableName,
    Key: key,
    ConditionExpression: '#owner = :owner',
    UpdateExpression: 'SET #updated = :now REMOVE #owner, #expires, #token, #paused, #abort, #abortReason',
    ExpressionAttributeNames: {
      '#owner': StateTable.LOCK_OWNER, '#expires': StateTable.LOCK_EXPIRES_AT, '#token': StateTable.PAUSE_TOKEN,
      '#paused': StateTable.PAUSED_STEP, '#abort': StateTable.ABORT_REQUESTED, '#abortReason': StateTable.ABORT_REASON,
      '#updated': StateTable.UPDATED_AT,
    },
    ExpressionAttributeValues: { ':owner': { S: ended.executionArn }, ':now': { S: new Date(clock().now()).toISOString() } },
  })));
  const reason = `execution ended ${ended.status} while holding the lock`;
  const detail = {
    service: lock.service,
    execution: ended.executionArn,
    stableColor: liveColor,
    trigger: { kind: 'execution-ended', reason },
    weights: restored.after,
  };
  await awsCall('PutEvents', () => eventBridge().send(new PutEventsCommand({
    Entries: [RolloutEvent.ROLLBACK_TRIGGERED, RolloutEvent.ROLLED_BACK].map((type) => ({
      Source: EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(detail), EventBusName: config.eventBusName,
    })),
  })));
  log('warn', 'guard: restored traffic after an execution ended holding the lock', { ...ended, liveColor, weights: restored.after });
  return { ...ended, action: 'restored', liveColor, weights: restored.after, reason };
}
