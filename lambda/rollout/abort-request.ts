import type { UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { StateTable } from '../shared/contracts';

/**
 * The write of `zdt abort` while a rollout bakes: flags the execution on the service's state item, only while that
 * execution holds the lock. The state machine checks the flag before every judgement. Here, beside the lock that
 * owns the state item, because the CLI (bin/commands/rollout-ops.ts) and the rehearsal's operator both send it.
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
