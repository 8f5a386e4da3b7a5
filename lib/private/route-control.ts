import { Fn } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { RouterConfig } from '../../lambda/shared/contracts';
import { Color } from '../routing/color';
import { listenerRulesArn } from './arns';
import { acknowledge, iam5Resource } from './nag';

/** What the router drives: the parts of an IBlueGreenRouting these helpers read (declared here, not imported, so
 * that the routing module can use them without an import cycle). */
export interface DrivenRouting extends IConstruct {
  readonly listener: elbv2.IApplicationListener;
  readonly liveRuleArn: string;
  readonly segmentHeader: string;
  readonly segmentRulePriority: number;
  targetGroup(color: Color): elbv2.IApplicationTargetGroup;
}

/**
 * Permissions to read and move the production weights of `routing`, and to manage its segment route: scoped to its
 * listener and that listener's rules.
 */
export function grantRouteControl(routing: DrivenRouting, grantee: iam.IGrantable): iam.Grant {
  const rules = listenerRulesArn(routing.listener);
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth'],
    resourceArns: ['*'], // Describe* actions of ELB do not support resource-level permissions.
  });
  iam.Grant.addToPrincipal({ grantee, actions: ['elasticloadbalancing:CreateRule'], resourceArns: [routing.listener.listenerArn] });
  acknowledge(grantee.grantPrincipal as unknown as Construct, iam5Resource(routing, rules),
    'Scoped to the rules of this one listener: the segment rule is created at runtime, so its ARN is not known at synth');
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:SetRulePriorities'],
    resourceArns: [rules],
  });
}

/** The configuration the router Lambda needs to drive `routing`. */
export function routerConfigOf(routing: DrivenRouting): RouterConfig {
  return {
    listenerArn: routing.listener.listenerArn,
    liveRuleArn: routing.liveRuleArn,
    targetGroupArns: { blue: routing.targetGroup(Color.BLUE).targetGroupArn, green: routing.targetGroup(Color.GREEN).targetGroupArn },
    segmentHeader: routing.segmentHeader,
    segmentRulePriority: routing.segmentRulePriority,
  };
}

/** `TargetGroup` metric dimension value (targetgroup/name/id) of a target group known by its ARN only. */
export function targetGroupFullNameFromArn(targetGroup: elbv2.IApplicationTargetGroup): string {
  // arn:<partition>:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>
  return Fn.select(5, Fn.split(':', targetGroup.targetGroupArn));
}
