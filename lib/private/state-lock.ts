import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { StateTable } from '../../lambda/shared/contracts';
import { READ_RETRY } from './rollout-definition/context';

/**
 * The native (DynamoDB) states of the one-rollout-at-a-time lock (lambda/rollout/lock.ts takes it), shared by the
 * traffic rollout's and the flag rollout's state machines: the release of the lock on condition that this execution
 * holds it, and the read of the operator's abort flag (`zdt abort`) on the lock's item.
 */
export interface StateLockItem {
  /** The lock table. */
  readonly table: dynamodb.ITable;
  /** The key of the lock's item (StateTable.PARTITION_KEY). */
  readonly key: Record<string, tasks.DynamoAttributeValue>;
  /** JSONPath of the owner, the execution's id, in the state (`$.execution`), or of the context (`$$.Execution.Id`). */
  readonly ownerPath: string;
}

/** DynamoDB's transient errors as Step Functions names them in an optimized integration's failure. */
const DYNAMODB_TRANSIENT = ['DynamoDB.ProvisionedThroughputExceededException', 'DynamoDB.RequestLimitExceeded', 'DynamoDB.InternalServerErrorException', 'DynamoDB.ThrottlingException'];

const LOCK_NAMES = {
  '#owner': StateTable.LOCK_OWNER,
  '#expires': StateTable.LOCK_EXPIRES_AT,
  '#token': StateTable.PAUSE_TOKEN,
  '#paused': StateTable.PAUSED_STEP,
  '#updated': StateTable.UPDATED_AT,
  '#abort': StateTable.ABORT_REQUESTED,
  '#abortReason': StateTable.ABORT_REASON,
  '#promoteFull': StateTable.PROMOTE_FULL_REQUESTED,
};

/**
 * Releases the lock (with what belongs to its rollout: pause token, abort and promote requests) on condition that this execution
 * holds it; with `liveColorPath`, also records that color as live in the same write.
 */
export function releaseLockTask(scope: Construct, id: string, item: StateLockItem, liveColorPath?: string): tasks.DynamoUpdateItem {
  const task = new tasks.DynamoUpdateItem(scope, id, {
    table: item.table,
    key: item.key,
    conditionExpression: '#owner = :owner',
    updateExpression: `SET #updated = :now${liveColorPath ? ', #live = :live' : ''} REMOVE #owner, #expires, #token, #paused, #abort, #abortReason, #promoteFull`,
    expressionAttributeNames: liveColorPath ? { ...LOCK_NAMES, '#live': StateTable.LIVE_COLOR } : LOCK_NAMES,
    expressionAttributeValues: {
      ':owner': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(item.ownerPath)),
      ':now': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
      ...(liveColorPath ? { ':live': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(liveColorPath)) } : {}),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry({ errors: [...DYNAMODB_TRANSIENT], ...READ_RETRY });
  return task;
}

/**
 * A consistent read of the operator's abort flag (`zdt abort`) on the lock's item into $.control, with `extra`
 * attributes besides the flag and its reason.
 */
export function readAbortFlagTask(scope: Construct, id: string, item: StateLockItem, extra: string[] = []): tasks.DynamoGetItem {
  const task = new tasks.DynamoGetItem(scope, id, {
    table: item.table,
    key: item.key,
    consistentRead: true,
    projectionExpression: [StateTable.ABORT_REQUESTED, StateTable.ABORT_REASON, ...extra]
      .map((attribute) => new tasks.DynamoProjectionExpression().withAttribute(attribute)),
    resultSelector: { 'item.$': '$.Item' },
    resultPath: '$.control',
  });
  task.addRetry({ errors: ['States.ALL'], ...READ_RETRY });
  return task;
}

/** True when the abort flag read by readAbortFlagTask names this execution. */
export function abortRequestedFor(ownerPath: string): sfn.Condition {
  return operatorRequestFor(StateTable.ABORT_REQUESTED, ownerPath);
}

/**
 * True when an operator's request on the lock's item (`attribute`, read by readAbortFlagTask into $.control: the
 * abort flag, or an `extra` such as the full promotion) names this execution.
 */
export function operatorRequestFor(attribute: string, ownerPath: string): sfn.Condition {
  return sfn.Condition.and(
    sfn.Condition.isPresent(`$.control.item.${attribute}.S`),
    sfn.Condition.stringEqualsJsonPath(`$.control.item.${attribute}.S`, ownerPath),
  );
}

/**
 * Writes `values` (attribute name -> value) on the lock's item, on condition that this execution holds the lock:
 * what an execution guard needs to undo this execution's changes if it ends without cleaning up.
 */
export function recordOnLockTask(scope: Construct, id: string, item: StateLockItem, values: Record<string, tasks.DynamoAttributeValue>): tasks.DynamoUpdateItem {
  const names = Object.keys(values);
  const task = new tasks.DynamoUpdateItem(scope, id, {
    table: item.table,
    key: item.key,
    conditionExpression: '#owner = :owner',
    updateExpression: `SET #updated = :now, ${names.map((_, i) => `#r${i} = :r${i}`).join(', ')}`,
    expressionAttributeNames: { '#owner': StateTable.LOCK_OWNER, '#updated': StateTable.UPDATED_AT, ...Object.fromEntries(names.map((n, i) => [`#r${i}`, n])) },
    expressionAttributeValues: {
      ':owner': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt(item.ownerPath)),
      ':now': tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$$.State.EnteredTime')),
      ...Object.fromEntries(names.map((n, i) => [`:r${i}`, values[n]])),
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  task.addRetry({ errors: [...DYNAMODB_TRANSIENT], ...READ_RETRY });
  return task;
}
