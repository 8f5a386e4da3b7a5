import { Aspects, IAspect, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { DEFAULT_RELEASE_SIGNAL_NAMESPACE, RELEASE_SIGNAL_ENV } from '../../lambda/metrics/release-signal-contract';
import { ALL_COLORS, colorId, wireColor } from '../private/colors';
import { ProgressiveRollout, ProgressiveRolloutOptions } from '../rollout/progressive-rollout';
import { BlueGreenRouting, BlueGreenRoutingOptions } from '../routing/blue-green-routing';
import { Color } from '../routing/color';
import { propError } from '../private/validation';

/** The network a blue/green pair shares, built in the router stack. */
export interface BlueGreenNetwork {
  /** VPC of the load balancer and of both colors. */
  readonly vpc: ec2.IVpc;
  /** The load balancer production traffic arrives at. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The listener the blue/green routing adds its rules to. */
  readonly listener: elbv2.IApplicationListener;
}

/** What a color's environment gets to build itself. */
export interface ColorEnvironmentContext {
  /** The color being built. */
  readonly color: Color;
  /** The color's target group: register the color's service in it. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The shared network from the router stack. */
  readonly network: BlueGreenNetwork;
  /** The routing in the router stack. */
  readonly routing: BlueGreenRouting;
  /**
   * The environment variables that tell the application which service and color it is, for the release signal it
   * emits (`ReleaseMetrics.fromEnvironment()` of cdk-zero-downtime-runtime/metrics): ZDT_RELEASE_SERVICE,
   * ZDT_RELEASE_COLOR and ZDT_RELEASE_NAMESPACE. BlueGreenStacks already adds them to every ECS container and Lambda
   * function of the color's stack (`releaseSignalEnvironment`); pass them yourself to other compute (EC2 user data...).
   */
  readonly releaseSignalEnvironment: { [name: string]: string };
}

/** Builds the network (VPC, load balancer, listener) a blue/green pair shares, in the router stack. */
export interface IBlueGreenNetworkFactory {
  /** Creates the network's constructs in `scope` (the router stack) and returns them. */
  createNetwork(scope: Stack): BlueGreenNetwork;
}

/** Builds one color's environment (e.g. an ECS service registered in the color's target group). */
export interface IColorEnvironmentFactory {
  /** Creates the environment of `context.color` in `scope` (that color's own stack); called once per color. */
  createEnvironment(scope: Stack, context: ColorEnvironmentContext): void;
}

/** Props of BlueGreenStacks. */
export interface BlueGreenStacksProps {
  /**
   * Props of every stack (env, tags, synthesizer...). Stack names are `<id>-router`, `<id>-blue`, `<id>-green`; the
   * CDK CLI selects them by construct path: `cdk deploy <id>/Router <id>/Blue`, then `cdk deploy <id>/Green`.
   * @default - environment-agnostic stacks
   */
  readonly stackProps?: StackProps;
  /** Builds the shared network (VPC, load balancer, listener) in the router stack. */
  readonly network: IBlueGreenNetworkFactory;
  /** Builds one color's environment (e.g. an ECS service) in its own stack; called once per color. */
  readonly colorEnvironment: IColorEnvironmentFactory;
  /**
   * Routing options.
   * @default - the defaults of BlueGreenRoutingProps
   */
  readonly routing?: BlueGreenRoutingOptions;
  /**
   * Rollout options.
   * @default - the defaults of ProgressiveRolloutProps, service name `id`
   */
  readonly rollout?: ProgressiveRolloutOptions;
  /**
   * Add the release signal's environment variables (ZDT_RELEASE_SERVICE, ZDT_RELEASE_COLOR, ZDT_RELEASE_NAMESPACE: see
   * `ColorEnvironmentContext.releaseSignalEnvironment`) to every ECS container definition and Lambda function in each
   * color's stack, so that the application's ReleaseMetrics knows its service and color.
   * @default true
   */
  readonly releaseSignalEnvironment?: boolean;
}

const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,100}$/;

/**
 * A whole app as paired blue/green stacks: a router stack (network, load balancer, blue/green routing and the
 * progressive rollout) and one stack per color. A release is `cdk deploy <id>/<Idle color>` (e.g. `<id>/Green`) followed by starting
 * the rollout; deploying either stack never moves production traffic.
 */
export class BlueGreenStacks extends Construct {
  /** The stack of the network, the routing and the rollout. */
  public readonly routerStack: Stack;
  /** The blue color's stack. */
  public readonly blueStack: Stack;
  /** The green color's stack. */
  public readonly greenStack: Stack;
  /** The blue/green routing in the router stack. */
  public readonly routing: BlueGreenRouting;
  /** The progressive rollout in the router stack. */
  public readonly rollout: ProgressiveRollout;
  /** The shared network in the router stack. */
  public readonly network: BlueGreenNetwork;

  constructor(scope: Construct, id: string, props: BlueGreenStacksProps) {
    super(scope, id);
    if (!STACK_NAME.test(id)) {
      throw propError(this, `id must start with a letter and hold only letters, digits and "-" (it prefixes the stack names), got "${id}"`);
    }
    this.routerStack = new Stack(this, 'Router', { ...props.stackProps, stackName: `${id}-router` });
    this.network = props.network.createNetwork(this.routerStack);
    this.routing = new BlueGreenRouting(this.routerStack, 'Routing', { ...props.routing, ...this.network });
    this.rollout = new ProgressiveRollout(this.routerStack, 'Rollout', {
      serviceName: id,
      ...props.rollout,
      routing: this.routing,
    });
    const stacks = new Map<Color, Stack>();
    for (const color of ALL_COLORS) {
      const stack = new Stack(this, colorId(color), { ...props.stackProps, stackName: `${id}-${wireColor(color)}` });
      stack.addStackDependency(this.routerStack, 'the color registers in target groups the router stack owns');
      const releaseSignalEnvironment = {
        [RELEASE_SIGNAL_ENV.SERVICE]: this.rollout.serviceName,
        [RELEASE_SIGNAL_ENV.COLOR]: wireColor(color),
        [RELEASE_SIGNAL_ENV.NAMESPACE]: props.rollout?.highResolutionSignal?.metricNamespace ?? DEFAULT_RELEASE_SIGNAL_NAMESPACE,
      };
      props.colorEnvironment.createEnvironment(stack, {
        color, targetGroup: this.routing.targetGroup(color), network: this.network, routing: this.routing, releaseSignalEnvironment,
      });
      if (props.releaseSignalEnvironment ?? true) Aspects.of(stack).add(new ReleaseSignalEnvironment(releaseSignalEnvironment));
      stacks.set(color, stack);
    }
    this.blueStack = stacks.get(Color.BLUE)!;
    this.greenStack = stacks.get(Color.GREEN)!;
  }

  /** The stack of a color. */
  public colorStack(color: Color): Stack {
    return color === Color.BLUE ? this.blueStack : this.greenStack;
  }
}

/**
 * Sets the release signal's environment variables on the compute of a color's stack: ECS container definitions (the
 * task's environment) and Lambda functions.
 */
class ReleaseSignalEnvironment implements IAspect {
  constructor(private readonly environment: { [name: string]: string }) {}

  public visit(node: IConstruct): void {
    if (node instanceof ecs.ContainerDefinition || node instanceof lambda.Function) {
      for (const [name, value] of Object.entries(this.environment)) node.addEnvironment(name, value);
    }
  }
}
