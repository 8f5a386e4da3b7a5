import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';

/**
 * The handlers' AWS clients, one of each, created on first use and reused across invocations of a warm Lambda.
 * aws-sdk-client-mock and the rehearsal's fakes replace the client classes' send, so these instances are covered.
 * Retries of throttling and 5xx are the state machine's (awsCall turns them into ZdtRetryableError).
 */
function lazy<T>(make: () => T): () => T {
  let client: T | undefined;
  return () => (client ??= make());
}

export const elbv2 = lazy(() => new ElasticLoadBalancingV2Client({}));
export const cloudWatch = lazy(() => new CloudWatchClient({}));
export const dynamoDb = lazy(() => new DynamoDBClient({}));
export const eventBridge = lazy(() => new EventBridgeClient({}));
export const secretsManager = lazy(() => new SecretsManagerClient({}));
export const stepFunctions = lazy(() => new SFNClient({}));
export const rds = lazy(() => new RDSClient({}));
