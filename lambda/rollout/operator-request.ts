import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { StateTable } from '../shared/contracts';

/**
 * The operator's requests to a running rollout, written on the service's state item: `zdt abort` and
 * `zdt promote --full` while it bakes. Here, beside the lock that owns the state item, because the CLI
 * (bin/commands/rollout-ops.ts) and the rehearsal's operator both send them.
 */

/**
 * The write of `zdt abort` while a rollout bakes: flags the execution on the service's state item, only while that
 * execution holds the lock. The state machine checks the flag before every judgement.
 */
export function abortRequest(tableName: string, service: string, executionArn: string, reason: string): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: { [StateTable.PARTITION_KEY]: { S: service } },
    ConditionExpression: '#owner = :execution',
    UpdateExpression: 'SET #abort = :execution, #reason = :reason',
    ExpressionAttributeNames: { '#owner': StateTable.LOCK_OWNER, '#abort': StateTable.ABORT_REQUESTED, '#reason': StateTable.ABORT_REASON },
    ExpressionAttributeValues: { ':execution': { S: executionArn }, ':reason': { S: reason } },
  };
}

/**
 * The write of `zdt promote --full` while a rollout bakes: flags the execution on the service's state item, only while
 * that execution holds the lock. The state machine reads it with the abort flag, before every judgement, and skips to
 * its last step (lib/private/rollout-definition/promote-full.ts).
 */
export function promoteFullRequest(tableName: string, service: string, executionArn: string): UpdateItemCommandInput {
  return {
    TableName: tableName,
    Key: { [StateTable.PARTITION_KEY]: { S: service } },
    ConditionExpression: '#owner = :execution',
    UpdateExpression: 'SET #promote = :execution',
    ExpressionAttributeNames: { '#owner': StateTable.LOCK_OWNER, '#promote': StateTable.PROMOTE_FULL_REQUESTED },
    ExpressionAttributeValues: { ':execution': { S: executionArn } },
  };
}
