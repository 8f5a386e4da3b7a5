import { AppConfigClient } from '@aws-sdk/client-appconfig';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RDSClient } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { currentRetryPolicy, sdkClientConfig, SdkRetryPolicy } from './sdk-retries';

/**
 * The handlers' AWS clients, created on first use and reused across invocations of a warm Lambda: one of each per
 * retry policy (lambda/shared/sdk-retries.ts says which layer retries, per handler).
 * aws-sdk-client-mock and the rehearsal's fakes replace the client classes' send, so these instances are covered.
 *
 * Each accessor is marked pure (`#__PURE__`) and the SDK packages declare `"sideEffects": false`, so esbuild drops the
 * clients a handler does not call: the router's bundle carries ELBv2 and CloudWatch, not RDS or Secrets Manager
 * (scripts/bundle.mjs; sizes in BENCHMARKS.md).
 */
function lazy<T>(make: (config: ReturnType<typeof sdkClientConfig>) => T): () => T {
  const clients = new Map<SdkRetryPolicy, T>();
  return () => {
    const policy = currentRetryPolicy();
    let client = clients.get(policy);
    if (!client) clients.set(policy, client = make(sdkClientConfig(policy)));
    return client;
  };
}

export const elbv2 = /*#__PURE__*/ lazy((config) => new ElasticLoadBalancingV2Client(config));
export const cloudWatch = /*#__PURE__*/ lazy((config) => new CloudWatchClient(config));
export const dynamoDb = /*#__PURE__*/ lazy((config) => new DynamoDBClient(config));
export const eventBridge = /*#__PURE__*/ lazy((config) => new EventBridgeClient(config));
export const secretsManager = /*#__PURE__*/ lazy((config) => new SecretsManagerClient(config));
export const stepFunctions = /*#__PURE__*/ lazy((config) => new SFNClient(config));
export const rds = /*#__PURE__*/ lazy((config) => new RDSClient(config));
export const appConfig = /*#__PURE__*/ lazy((config) => new AppConfigClient(config));
