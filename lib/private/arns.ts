import { Fn } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';

/** ARN pattern of every rule of a listener: ...:listener/app/x/y/z -> ...:listener-rule/app/x/y/z/*. */
export function listenerRulesArn(listener: elbv2.IApplicationListener): string {
  const parts = Fn.split(':listener/', listener.listenerArn);
  return Fn.join('', [Fn.select(0, parts), ':listener-rule/', Fn.select(1, parts), '/*']);
}
