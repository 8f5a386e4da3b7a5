import {
  DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { IntegrationHandler } from './runner';

/**
 * Serves the state machine's native DynamoDB tasks through the AWS SDK's DynamoDBClient, exactly
 * as Step Functions calls the DynamoDB API. With aws-sdk-client-mock on DynamoDBClient (the
 * rehearsal's fake table), the state machine's writes and the Lambdas' writes meet in one place.
 *
 * Keys: "dynamodb:getItem", "dynamodb:putItem", "dynamodb:updateItem", "dynamodb:deleteItem"
 * (optimized integrations; errors are named "DynamoDB.<Exception>") and the same actions as
 * "aws-sdk:dynamodb:<action>" (SDK integrations; errors named "DynamoDb.<Exception>"), plus
 * "aws-sdk:dynamodb:query".
 */
export function dynamoDbIntegrations(client?: DynamoDBClient): Record<string, IntegrationHandler> {
  let shared = client;
  const dynamodb = (): DynamoDBClient => (shared ??= new DynamoDBClient({}));
  const commands = {
    getItem: (input: never) => new GetItemCommand(input),
    putItem: (input: never) => new PutItemCommand(input),
    updateItem: (input: never) => new UpdateItemCommand(input),
    deleteItem: (input: never) => new DeleteItemCommand(input),
    query: (input: never) => new QueryCommand(input),
  } as const;
  const integration = (action: keyof typeof commands, errorPrefix: string): IntegrationHandler => async (parameters) => {
    try {
      const { $metadata: _metadata, ...output } = await dynamodb().send(commands[action](parameters as never) as GetItemCommand);
      return output;
    } catch (err) {
      const e = err as Error;
      const named = new Error(e.message);
      named.name = `${errorPrefix}.${e.name}`;
      throw named;
    }
  };
  const handlers: Record<string, IntegrationHandler> = {};
  for (const action of ['getItem', 'putItem', 'updateItem', 'deleteItem'] as const) {
    handlers[`dynamodb:${action}`] = integration(action, 'DynamoDB');
  }
  for (const action of Object.keys(commands) as Array<keyof typeof commands>) {
    handlers[`aws-sdk:dynamodb:${action}`] = integration(action, 'DynamoDb');
  }
  return handlers;
}
