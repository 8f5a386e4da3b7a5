import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { Color, COLORS } from '../../lambda/shared/contracts';
import { ProgressiveRollout, ProgressiveRolloutProps } from '../rollout/progressive-rollout';
import { BlueGreenRouting, BlueGreenRoutingProps } from '../routing/blue-green-routing';
import { propError } from '../private/validation';

/** The network a blue/green pair shares, built in the router stack. */
export interface BlueGreenNetwork {
  readonly vpc: ec2.IVpc;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly listener: elbv2.IApplicationListener;
}

/** What a color's environment gets to build itself. */
export interface ColorEnvironmentContext {
  readonly color: Color;
  /** The color's target group: register the color's service in it. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  readonly network: BlueGreenNetwork;
  readonly routing: BlueGreenRouting;
}

export interface BlueGreenStacksProps {
  /**
   * Props of every stack (env, tags, synthesizer...). Stack names are `<id>-router`, `<id>-blue`, `<id>-green`; the
   * CDK CLI selects them by construct path: `cdk deploy <id>/Router <id>/Blue`, then `cdk deploy <id>/Green`.
   * @default - environment-agnostic stacks
   */
  readonly stackProps?: StackProps;
  /** Builds the shared network (VPC, load balancer, listener) in the router stack. */
  readonly network: (scope: Stack) => BlueGreenNetwork;
  /** Builds one color's environment (e.g. an ECS service) in its own stack; called once per color. */
  readonly colorEnvironment: (scope: Stack, context: ColorEnvironmentContext) => void;
  /**
   * Routing options.
   * @default - the defaults of BlueGreenRoutingProps
   */
  readonly routing?: Omit<BlueGreenRoutingProps, 'vpc' | 'loadBalancer' | 'listener'>;
  /**
   * Rollout options.
   * @default - the defaults of ProgressiveRolloutProps
   */
  readonly rollout?: Omit<ProgressiveRolloutProps, 'routing'>;
}

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,100}$/;

/**
 * A whole app as paired blue/green stacks: a router stack (network, load balancer, blue/green routing and the
 * progressive rollout) and one stack per color. A release is `cdk deploy <id>/<Idle color>` (e.g. `<id>/Green`) followed by starting
 * the rollout; deploying either stack never moves production traffic.
 */
export class BlueGreenStacks extends Construct {
  public readonly routerStack: Stack;
  public readonly colorStacks: Record<Color, Stack>;
  public readonly routing: BlueGreenRouting;
  public readonly rollout: ProgressiveRollout;
  public readonly network: BlueGreenNetwork;

  constructor(scope: Construct, id: string, props: BlueGreenStacksProps) {
    super(scope, id);
    if (!STACK_NAME.test(id)) {
      throw propError(this, `id must start with a letter and hold only letters, digits and "-" (it prefixes the stack names), got "${id}"`);
    }
    this.routerStack = new Stack(this, 'Router', { ...props.stackProps, stackName: `${id}-router` });
    this.network = props.network(this.routerStack);
    this.routing = new BlueGreenRouting(this.routerStack, 'Routing', { ...props.routing, ...this.network });
    this.rollout = new ProgressiveRollout(this.routerStack, 'Rollout', {
      serviceName: id,
      ...props.rollout,
      routing: this.routing,
    });
    const stacks: Partial<Record<Color, Stack>> = {};
    for (const color of COLORS) {
      const stack = new Stack(this, color === 'blue' ? 'Blue' : 'Green', { ...props.stackProps, stackName: `${id}-${color}` });
      stack.addStackDependency(this.routerStack, 'the color registers in target groups the router stack owns');
      props.colorEnvironment(stack, { color, targetGroup: this.routing.targetGroup(color), network: this.network, routing: this.routing });
      stacks[color] = stack;
    }
    this.colorStacks = stacks as Record<Color, Stack>;
  }
}
