import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

let client: CloudWatchClient | undefined;

/** The CloudWatch client, created on first use (aws-sdk-client-mock replaces the class's send). */
export function cloudWatch(): CloudWatchClient {
  client ??= new CloudWatchClient({});
  return client;
}
