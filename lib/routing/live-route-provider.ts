import { Duration, Stack } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { HandlerFunction } from '../private/handler-function';
import { listenerRulesArn } from '../private/arns';
import { acknowledge, iam5FunctionVersions, iam5Resource } from '../private/nag';

const PROVIDER_ID = 'ZdtLiveRouteProvider';

/**
 * The custom-resource provider of Custom::ZdtLiveRoute, one per stack. Its handler creates the production rule,
 * re-points it on update while keeping the weights by color (waiting, when the weights move to replaced target
 * groups, until those have healthy targets), and on delete removes its ownership claim, deleting the rule only when
 * no other resource holds it.
 */
export class LiveRouteProvider extends Construct {
  /** The provider of the stack `scope` is in, created on first use. */
  public static getOrCreate(scope: Construct): LiveRouteProvider {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(PROVIDER_ID) as LiveRouteProvider | undefined) ?? new LiveRouteProvider(stack, PROVIDER_ID);
  }

  public readonly serviceToken: string;
  public readonly onEventFunction: HandlerFunction;
  private readonly listeners = new Set<string>();

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.onEventFunction = new HandlerFunction(this, 'OnEvent', {
      handler: 'live-route',
      description: 'cdk-zero-downtime: creates the production listener rule and re-points it on deploys without moving its weights',
      config: {},
      // The longest a Lambda function may run: an update waits up to 12 minutes for replaced target groups to have
      // healthy targets (TARGET_HEALTH_WAIT_MS in lambda/routing/live-route.ts) before it fails and rolls back.
      timeout: Duration.minutes(15),
    });
    this.onEventFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetHealth'],
      resources: ['*'], // ELB Describe* actions do not support resource-level permissions.
    }));
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEventFunction,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    this.serviceToken = provider.serviceToken;
    acknowledge(provider, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The custom-resource framework function of aws-cdk-lib only writes its own logs with this policy');
    acknowledge(provider, iam5FunctionVersions(this.onEventFunction),
      'The custom-resource framework invokes the handler function and its versions');
    acknowledge(provider, 'AwsSolutions-L1', 'aws-cdk-lib picks the runtime of its custom-resource framework function');
  }

  /** Lets the handler create, modify and delete rules on `listener` (once per listener). */
  public grantRuleManagement(listener: elbv2.IApplicationListener): void {
    const key = Stack.of(this).resolve(listener.listenerArn);
    const id = JSON.stringify(key);
    if (this.listeners.has(id)) return;
    this.listeners.add(id);
    this.onEventFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['elasticloadbalancing:CreateRule'],
      resources: [listener.listenerArn],
    }));
    const rules = listenerRulesArn(listener);
    // AddTags / RemoveTags: the ownership claims on the rule (CreateRule with Tags needs AddTags on the new rule too).
    this.onEventFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:SetRulePriorities',
        'elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
      resources: [rules],
    }));
    acknowledge(this.onEventFunction.role!, iam5Resource(this, rules),
      'Scoped to the rules of this one listener: the production rule is created by this function, so its ARN is not known at synth');
  }
}
