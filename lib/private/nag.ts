import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag finding on a construct of the library, with the reason. The library acknowledges only
 * findings that are inherent to what it does (ELB Describe* and GetMetricData have no resource-level permissions,
 * a rule created at runtime has an ARN known only at runtime), so that a user's cdk-nag run stays clean.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The `Resource::...` part of an AwsSolutions-IAM5 finding id for a resource value (cdk-nag's flattening). */
export function iam5Resource(scope: IConstruct, value: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(value))}]`;
}

/** `<LogicalId.Arn>:*`: the version wildcard CDK adds when it grants lambda:InvokeFunction. */
export function iam5FunctionVersions(fn: IConstruct & { node: { defaultChild?: IConstruct } }): string {
  const logicalId = Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnResource);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`;
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\${/g, '<').replace(/}/g, '>');
  const o = node as Record<string, unknown>;
  if (o['Fn::Join']) {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (o['Fn::Sub']) return flatten(o['Fn::Sub']);
  if (o['Fn::GetAtt']) {
    const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (o['Fn::ImportValue']) return flatten(o['Fn::ImportValue']);
  if (o.Ref) return `<${flatten(o.Ref)}>`;
  return JSON.stringify(node);
}
