import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * An SNS topic encrypted with its own KMS key that EventBridge rules of this account may publish to: the key lets
 * events.amazonaws.com generate data keys and decrypt only for this account's rules (aws:SourceAccount), as the
 * EventBridge user guide asks for encrypted SNS targets ("Amazon SNS topic targets" permissions).
 */
export function encryptedTopicForEvents(scope: Construct, id: string, displayName: string): sns.Topic {
  const key = new kms.Key(scope, `${id}Key`, { enableKeyRotation: true, description: `Encrypts: ${displayName}` });
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('events.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
  }));
  return new sns.Topic(scope, id, { displayName: displayName.slice(0, 100), masterKey: key, enforceSSL: true });
}
