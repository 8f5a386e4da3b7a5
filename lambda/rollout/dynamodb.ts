import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let client: DynamoDBClient | undefined;

/** The DynamoDB client, created on first use (aws-sdk-client-mock replaces the class's send). */
export function dynamoDb(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}
