import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { BlueGreenRouting, BlueGreenRoutingProps, IProgressiveRollout, ProgressiveRollout, ProgressiveRolloutProps } from '../../lib';

/** An app without the built-in CloudFormation validator (slow, and the example app's synth test keeps it on). */
export function testApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}

export interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
}

export function network(app: App = testApp()): Fixture {
  const stack = new Stack(app, 'Service', { env: { region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Lb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', {
    port: 80,
    defaultAction: elbv2.ListenerAction.fixedResponse(404),
  });
  return { app, stack, vpc, loadBalancer, listener };
}

export function routing(f: Fixture, props: Partial<BlueGreenRoutingProps> = {}): BlueGreenRouting {
  return new BlueGreenRouting(f.stack, 'Routing', { vpc: f.vpc, loadBalancer: f.loadBalancer, listener: f.listener, ...props });
}

export function rollout(f: Fixture, props: Partial<ProgressiveRolloutProps> = {}, routingProps: Partial<BlueGreenRoutingProps> = {}): ProgressiveRollout {
  return new ProgressiveRollout(f.stack, 'Rollout', { routing: routing(f, routingProps), serviceName: 'web', ...props });
}

/** The state machine definition of a stack, with its tokens left as placeholders. */
export function definitionOf(stack: Stack): any {
  const template = (stack.node.root as App).synth().getStackByName(stack.stackName).template;
  const [sm] = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  return parseWithTokens(sm.Properties.DefinitionString);
}

/** The definition of the template's (first) state machine, tokens as `placeholder`. */
export function stateMachineDefinitionOf(template: Template, placeholder = 'TOKEN'): any {
  const [sm] = Object.values<any>(template.findResources('AWS::StepFunctions::StateMachine'));
  return parseWithTokens(sm.Properties.DefinitionString, placeholder);
}

/** A JSON string property as synthesized: a plain string, or an Fn::Join around tokens, each put as `placeholder`. */
export function parseWithTokens(value: unknown, placeholder = 'TOKEN'): any {
  const text = typeof value === 'string' ? value
    : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : placeholder)).join('');
  return JSON.parse(text);
}

/** The ZDT_CONFIG of the template's function for `handler` (its cdk-zero-downtime:handler metadata), tokens as `placeholder`. */
export function handlerConfigOf(template: Template, handler: string, placeholder = 'TOKEN'): any {
  const [fn] = Object.values<any>(template.findResources('AWS::Lambda::Function', { Metadata: { 'cdk-zero-downtime:handler': handler } }));
  if (!fn) throw new Error(`expected a Lambda function for handler ${handler} in the template, found none`);
  return parseWithTokens(fn.Properties.Environment.Variables.ZDT_CONFIG, placeholder);
}

/** The rollout of service `serviceName`, deployed by another app: what a migration's gate or a pipeline refers to. */
export function importedRollout(scope: Construct, serviceName: string): IProgressiveRollout {
  return ProgressiveRollout.fromProgressiveRolloutAttributes(scope, `${serviceName}Rollout`, {
    stateMachineArn: `arn:aws:states:us-east-1:123456789012:stateMachine:${serviceName}-rollout`,
    serviceName,
    stateTable: dynamodb.Table.fromTableName(scope, `${serviceName}RolloutState`, 'zdt-rollouts'),
  });
}
