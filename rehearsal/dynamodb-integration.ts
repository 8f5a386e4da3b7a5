import {
  DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { IntegrationHandler } from './runner';

/**
 * Runs `call` and renames the error it fails with as Step Functions names a service integration's errors:
 * "<prefix>.<error name>" ("DynamoDB.ConditionalCheckFailedException", "EventBridge.InternalException"), message kept.
 */
export async function prefixErrors<T>(prefix: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as Error;
    const named = new Error(e.message);
    named.name = `${prefix}.${e.name}`;
    throw named;
  }
}

/**
 * Serves the state machine's native DynamoDB tasks through the AWS SDK's DynamoDBClient, exactly
 * as Step Functions calls the DynamoDB API. With aws-sdk-client-mock on DynamoDBClient (the
 * rehearsal's fake table), the state machine's writes and the Lambdas' writes meet in one place.
 *
 * Keys: "dynamodb:getItem", "dynamodb:putItem", "dynamodb:updateItem", "dynamodb:deleteItem"
 * (optimized integrations; errors are named "DynamoDB.<Exception>") and the same actions as
 * "aws-sdk:dynamodb:<action>" (SDK integrations; errors named "DynamoDb.<Exception>").
 */
export function dynamoDbIntegrations(client?: DynamoDBClient): Record<string, IntegrationHandler> {
  let shared = client;
  const dynamodb = (): DynamoDBClient => (shared ??= new DynamoDBClient({}));
  const commands = {
    getItem: (input: never) => new GetItemCommand(input),
    putItem: (input: never) => new PutItemCommand(input),
    updateItem: (input: never) => new UpdateItemCommand(input),
    deleteItem: (input: never) => new DeleteItemCommand(input),
  } as const;
  const integration = (action: keyof typeof commands, errorPrefix: string): IntegrationHandler => (parameters) => prefixErrors(errorPrefix, async () => {
    const { $metadata: _metadata, ...output } = await dynamodb().send(commands[action](parameters as never) as GetItemCommand);
    return output;
  });
  const handlers: Record<string, IntegrationHandler> = {};
  for (const action of Object.keys(commands) as Array<keyof typeof commands>) {
    handlers[`dynamodb:${action}`] = integration(action, 'DynamoDB');
    handlers[`aws-sdk:dynamodb:${action}`] = integration(action, 'DynamoDb');
  }
  return handlers;
}
