import { CustomResource, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { AlbLimits, LiveRouteProperties } from '../../lambda/shared/contracts';
import { ALL_COLORS, colorId, wireColor } from '../private/colors';
import { PropChecks, propError } from '../private/validation';
import { grantRouteControl, targetGroupFullNameFromArn } from '../private/route-control';
import { Color } from './color';
import { LISTENER_PRIORITY_OWNER, priorityClashes, RULES_BEFORE_LIVE } from '../private/listener-priorities';
import { LiveRouteProvider } from './live-route-provider';

/** A header route that sends marked requests to one color before any production traffic moves. */
export interface TestRouteOptions {
  /**
   * Header whose value (`blue` or `green`) picks the color.
   * @default 'x-zdt-color'
   */
  readonly headerName?: string;
  /**
   * `false` turns the test route off: no header reaches a color whatever the weights.
   * @default true
   */
  readonly enabled?: boolean;
}

/** Options of BlueGreenRouting other than the network it is built on (BlueGreenStacks builds that). */
export interface BlueGreenRoutingOptions {
  /**
   * Port the targets listen on.
   * @default 80
   */
  readonly targetPort?: number;
  /**
   * Protocol between the load balancer and the targets.
   * @default elbv2.ApplicationProtocol.HTTP
   */
  readonly targetProtocol?: elbv2.ApplicationProtocol;
  /**
   * Kind of targets. Fargate tasks register by IP.
   * @default elbv2.TargetType.IP
   */
  readonly targetType?: elbv2.TargetType;
  /**
   * Health check of both target groups.
   * @default - path /, healthy after 2 checks, every 15 seconds
   */
  readonly healthCheck?: elbv2.HealthCheck;
  /**
   * Time a deregistering target keeps serving in-flight requests (connection draining), 0 to 3600 seconds.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * Ramp-up time of a newly registered target (0 turns it off; otherwise 30 to 900 seconds).
   * @default - no slow start
   */
  readonly slowStart?: Duration;
  /**
   * Keep a client on the color it first reached while traffic is split (target-group stickiness of the weighted
   * forward), 1 second to 7 days.
   * @default - no stickiness
   */
  readonly stickiness?: Duration;
  /**
   * Priority of the production rule on the listener (lower is evaluated first). The rules just before it hold the
   * segment route (`priority - 1`, created at run time by segment-first rollouts) and the test routes
   * (`priority - 3` and `priority - 2`). ELB allows one rule per priority on a listener: several BlueGreenRouting
   * (one per service) on one listener each need their own priority, at least 4 apart, and apart from your own rules;
   * a clash anywhere in the app fails at synth, naming both constructs.
   * @default 50000 (evaluated after any rule of your own; set it when a second BlueGreenRouting shares the listener)
   */
  readonly priority?: number;
  /**
   * Conditions of the production rule.
   * @default - every path (`/*`)
   */
  readonly conditions?: elbv2.ListenerCondition[];
  /**
   * Color that carries production traffic when the production rule is first created. Ignored afterwards:
   * from then on, the runtime owns the weights.
   * @default Color.BLUE
   */
  readonly initialColor?: Color;
  /**
   * Test route: requests with `x-zdt-color: green` (or `blue`) reach that color whatever the weights, so a new
   * color can be checked before any production traffic moves. `{ enabled: false }` turns it off.
   * @default - on, header `x-zdt-color`
   */
  readonly testRoute?: TestRouteOptions;
  /**
   * Header whose values name user segments, for segment-first rollouts (requests with `x-zdt-segment: beta` go to
   * the new color while the `beta` segment is on).
   * @default 'x-zdt-segment'
   */
  readonly segmentHeader?: string;
}

/** Props of BlueGreenRouting. */
export interface BlueGreenRoutingProps extends BlueGreenRoutingOptions {
  /** VPC of the target groups. */
  readonly vpc: ec2.IVpc;
  /** The load balancer of the listener (new or imported); its name is the `LoadBalancer` dimension of the metrics. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /**
   * The listener production traffic arrives on (new or imported). CloudFormation keeps owning the listener and
   * its default action; the production route is a listener rule that this construct adds and that the runtime owns.
   */
  readonly listener: elbv2.IApplicationListener;
}

/**
 * The blue/green routing a rollout drives: a BlueGreenRouting of this app, or one imported with
 * `BlueGreenRouting.fromBlueGreenRoutingAttributes()`. Read by the rollout, its alarms and its dashboard at synth time.
 */
export interface IBlueGreenRouting extends IConstruct {
  /** The listener production traffic arrives on. */
  readonly listener: elbv2.IApplicationListener;
  /** The load balancer of the listener. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** ARN of the listener rule that carries production traffic. */
  readonly liveRuleArn: string;
  /** The color that carried production traffic when the production rule was created. */
  readonly initialColor: Color;
  /** Target group of a color. */
  targetGroup(color: Color): elbv2.IApplicationTargetGroup;
  /** `TargetGroup` metric dimension value of a color (targetgroup/name/id). */
  targetGroupFullName(color: Color): string;
  /** `LoadBalancer` metric dimension value (app/name/id). */
  readonly loadBalancerFullName: string;
  /** Header whose values name user segments (segment-first rollouts route them to the new color). */
  readonly segmentHeader: string;
  /** Priority of the segment rule the router creates at runtime, just before the production rule. */
  readonly segmentRulePriority: number;
  /**
   * Header of the test route: a request with `<header>: <color>` reaches that color only (traffic hooks use it).
   * @default - no test route
   */
  readonly testRouteHeader?: string;
  /**
   * Permissions to read and move the production weights, and to manage the segment route: scoped to this
   * listener and its rules.
   */
  grantRouteControl(grantee: iam.IGrantable): iam.Grant;
}

/** What `BlueGreenRouting.fromBlueGreenRoutingAttributes()` needs: the routing as another app or stack built it. */
export interface BlueGreenRoutingAttributes {
  /** The listener production traffic arrives on. */
  readonly listener: elbv2.IApplicationListener;
  /** The load balancer of the listener. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The blue target group. */
  readonly blueTargetGroup: elbv2.IApplicationTargetGroup;
  /** The green target group. */
  readonly greenTargetGroup: elbv2.IApplicationTargetGroup;
  /** ARN of the production rule (`BlueGreenRouting.liveRuleArn`). */
  readonly liveRuleArn: string;
  /** Priority of the production rule (`BlueGreenRouting.priority`). */
  readonly priority: number;
  /**
   * The color that carried production traffic when the production rule was created (the first rollout's stable color).
   * @default Color.BLUE
   */
  readonly initialColor?: Color;
  /**
   * Header of the routing's test route.
   * @default - no test route
   */
  readonly testRouteHeader?: string;
  /**
   * Header of the routing's segments.
   * @default 'x-zdt-segment'
   */
  readonly segmentHeader?: string;
}

const DEFAULT_PRIORITY = AlbLimits.MAX_RULE_PRIORITY;
const DEFAULT_SEGMENT_HEADER = 'x-zdt-segment';
const DEFAULT_TEST_ROUTE_HEADER = 'x-zdt-color';
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/;

/** What a BlueGreenRouting and an imported one both hold, and how the base checks it. */
interface RoutingBasics {
  readonly listener: elbv2.IApplicationListener;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Priority of the production rule: the segment rule takes the one just below. */
  readonly priority: number;
  /** Said in the error about a priority out of range: where the priority comes from. */
  readonly priorityMeaning: string;
  /** A token (an imported routing's priority from a parameter) is taken as is; a routing of this app needs a number. */
  readonly priorityMayBeToken: boolean;
  readonly initialColor?: Color;
  readonly segmentHeader?: string;
}

/**
 * What every blue/green routing offers from its listener, load balancer and production rule's priority: the fields
 * the rollout reads, the priority check and the route-control grant. Shared by BlueGreenRouting and the routings
 * imported with `fromBlueGreenRoutingAttributes()`.
 */
abstract class BlueGreenRoutingBase extends Construct implements IBlueGreenRouting {
  /** The listener production traffic arrives on. */
  public readonly listener: elbv2.IApplicationListener;
  /** The load balancer of the listener. */
  public readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The color that carried production traffic when the production rule was created. */
  public readonly initialColor: Color;
  /** `LoadBalancer` metric dimension value (app/name/id). */
  public readonly loadBalancerFullName: string;
  /** Header whose values name user segments. */
  public readonly segmentHeader: string;
  /** Priority of the segment rule the router creates at runtime, just before the production rule. */
  public readonly segmentRulePriority: number;
  public abstract readonly liveRuleArn: string;
  public abstract readonly testRouteHeader?: string;

  constructor(scope: Construct, id: string, basics: RoutingBasics) {
    super(scope, id);
    const { priority } = basics;
    const tokenAllowed = basics.priorityMayBeToken && Token.isUnresolved(priority);
    if (!tokenAllowed && (!Number.isInteger(priority) || priority < RULES_BEFORE_LIVE + 1 || priority > AlbLimits.MAX_RULE_PRIORITY)) {
      // Thrown at once: the rules before the production rule are numbered from it.
      throw propError(this, `priority must be an integer from ${RULES_BEFORE_LIVE + 1} to ${AlbLimits.MAX_RULE_PRIORITY} (${basics.priorityMeaning}), got ${priority}`);
    }
    this.listener = basics.listener;
    this.loadBalancer = basics.loadBalancer;
    this.initialColor = basics.initialColor ?? Color.BLUE;
    this.segmentHeader = basics.segmentHeader ?? DEFAULT_SEGMENT_HEADER;
    this.segmentRulePriority = priority - 1;
    this.loadBalancerFullName = Fn.select(1, Fn.split(':loadbalancer/', basics.loadBalancer.loadBalancerArn));
  }

  /** Target group of a color. */
  public abstract targetGroup(color: Color): elbv2.IApplicationTargetGroup;
  /** `TargetGroup` metric dimension value of a color (targetgroup/name/id). */
  public abstract targetGroupFullName(color: Color): string;

  /**
   * Permissions to read and move the production weights, and to manage the segment route: scoped to this
   * listener and its rules.
   */
  public grantRouteControl(grantee: iam.IGrantable): iam.Grant {
    return grantRouteControl(this, grantee);
  }
}

/**
 * Weighted blue/green routing on an Application Load Balancer listener: a target group per color, a production
 * rule whose weighted forward belongs to the runtime (a `cdk deploy` never moves live traffic), a test route and
 * a slot for the segment route of segment-first rollouts.
 *
 * Why a custom resource: when CloudFormation owns a weighted forward, every deploy writes the weights in the
 * template back over the ones a rollout set (aws-cdk issue #36649). Here CloudFormation owns the listener and the
 * target groups; the production rule is created by a custom resource whose update handler keeps the current
 * weights by color and only re-points target groups, conditions and stickiness.
 */
export class BlueGreenRouting extends BlueGreenRoutingBase {
  /**
   * A routing built elsewhere (another stack or app), for a rollout, alarms or a dashboard of this one. The rollout
   * moves traffic on it exactly as on a routing of its own: the production rule must be the one a BlueGreenRouting
   * created (its weights belong to the runtime).
   */
  public static fromBlueGreenRoutingAttributes(scope: Construct, id: string, attrs: BlueGreenRoutingAttributes): IBlueGreenRouting {
    return new ImportedBlueGreenRouting(scope, id, attrs);
  }

  /** Target group of the blue color: register the blue environment's targets in it. */
  public readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  /** Target group of the green color: register the green environment's targets in it. */
  public readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  /** The custom resource that owns the production rule. */
  public readonly liveRoute: CustomResource;
  /** ARN of the listener rule that carries production traffic. */
  public readonly liveRuleArn: string;
  /** Priority of the production rule. */
  public readonly priority: number;
  /**
   * Header of the test route.
   * @default - no test route (it is off)
   */
  public readonly testRouteHeader?: string;

  constructor(scope: Construct, id: string, props: BlueGreenRoutingProps) {
    super(scope, id, {
      ...props,
      priority: props.priority ?? DEFAULT_PRIORITY,
      priorityMeaning: `the ${RULES_BEFORE_LIVE} rules before it take the priorities just below`,
      priorityMayBeToken: false,
    });
    this.priority = props.priority ?? DEFAULT_PRIORITY;
    this.testRouteHeader = props.testRoute?.enabled === false ? undefined : (props.testRoute?.headerName ?? DEFAULT_TEST_ROUTE_HEADER);
    Object.defineProperty(this, LISTENER_PRIORITY_OWNER, { value: true });
    this.node.addValidation({ validate: () => priorityClashes(this) });
    const stickinessSeconds = props.stickiness?.toSeconds({ integral: false });
    const slowStartSeconds = props.slowStart?.toSeconds();
    const slowStartValid = slowStartSeconds === undefined || slowStartSeconds === 0 || (slowStartSeconds >= 30 && slowStartSeconds <= 900);
    new PropChecks(this)
      .number('targetPort', props.targetPort, 1, 65535)
      .duration('deregistrationDelay', props.deregistrationDelay, Duration.seconds(0), Duration.seconds(3600))
      .duration('stickiness', props.stickiness, Duration.seconds(1), Duration.seconds(AlbLimits.MAX_STICKINESS_SECONDS), Duration.seconds(1))
      .that(slowStartValid, `slowStart must be 0 or from 30 to 900 seconds, got ${props.slowStart?.toHumanString()}`)
      .pattern('segmentHeader', props.segmentHeader, HEADER_NAME, 'an HTTP header name of 1-40 token characters')
      .pattern('testRoute.headerName', props.testRoute?.enabled === false ? undefined : props.testRoute?.headerName, HEADER_NAME, 'an HTTP header name of 1-40 token characters')
      .oneOf('initialColor', props.initialColor, ALL_COLORS);
    if (this.testRouteHeader !== undefined && this.testRouteHeader.toLowerCase() === this.segmentHeader.toLowerCase()) {
      throw propError(this, `testRoute.headerName and segmentHeader must differ (the test route picks a color, the segment header a user segment), both are "${this.segmentHeader}"`);
    }
    if (props.conditions !== undefined && props.conditions.length === 0) {
      throw propError(this, 'conditions must hold at least one condition (omit it to route every path), got []');
    }

    const targetGroup = (color: Color) => new elbv2.ApplicationTargetGroup(this, `${colorId(color)}TargetGroup`, {
      vpc: props.vpc,
      port: props.targetPort ?? 80,
      protocol: props.targetProtocol ?? elbv2.ApplicationProtocol.HTTP,
      targetType: props.targetType ?? elbv2.TargetType.IP,
      healthCheck: props.healthCheck ?? { path: '/', healthyThresholdCount: 2, interval: Duration.seconds(15) },
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
      slowStart: slowStartValid && slowStartSeconds ? props.slowStart : undefined,
    });
    this.blueTargetGroup = targetGroup(Color.BLUE);
    this.greenTargetGroup = targetGroup(Color.GREEN);

    // The test routes are static header rules owned by CloudFormation: they never carry unmarked production traffic.
    // They also attach both target groups to the load balancer, which ECS requires before a service registers.
    if (this.testRouteHeader !== undefined) {
      ALL_COLORS.forEach((color, i) => new elbv2.ApplicationListenerRule(this, `${colorId(color)}TestRoute`, {
        listener: props.listener,
        priority: this.priority - RULES_BEFORE_LIVE + i,
        conditions: [elbv2.ListenerCondition.httpHeader(this.testRouteHeader!, [color])],
        targetGroups: [this.targetGroup(color)],
      }));
    } else {
      ALL_COLORS.forEach((color) => this.ownTargetGroup(color).registerListener(props.listener, this));
    }

    const provider = LiveRouteProvider.getOrCreate(this);
    provider.grantRuleManagement(props.listener);
    const conditions = props.conditions ?? [elbv2.ListenerCondition.pathPatterns(['/*'])];
    const properties: LiveRouteProperties = {
      ListenerArn: props.listener.listenerArn,
      Priority: String(this.priority),
      BlueTargetGroupArn: this.blueTargetGroup.targetGroupArn,
      GreenTargetGroupArn: this.greenTargetGroup.targetGroupArn,
      InitialColor: wireColor(this.initialColor),
      Conditions: Stack.of(this).toJsonString(conditions.map((c) => pascalCaseKeys(c.renderRawCondition()))),
      // A stickiness PropChecks refuses (500 ms, 8 days) renders as none here: synth reports the prop instead of
      // Duration's own conversion error.
      StickinessSeconds: String(stickinessSeconds !== undefined && !Token.isUnresolved(stickinessSeconds) && validStickiness(stickinessSeconds) ? stickinessSeconds : 0),
    };
    this.liveRoute = new CustomResource(this, 'LiveRoute', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ZdtLiveRoute',
      properties: { ...properties },
    });
    this.liveRoute.node.addDependency(this.blueTargetGroup, this.greenTargetGroup);
    this.liveRuleArn = this.liveRoute.getAttString('RuleArn');
  }

  /** Target group of a color. */
  public targetGroup(color: Color): elbv2.IApplicationTargetGroup {
    return this.ownTargetGroup(color);
  }

  /** `TargetGroup` metric dimension value of a color (targetgroup/name/id). */
  public targetGroupFullName(color: Color): string {
    return this.ownTargetGroup(color).targetGroupFullName;
  }

  private ownTargetGroup(color: Color): elbv2.ApplicationTargetGroup {
    return color === Color.BLUE ? this.blueTargetGroup : this.greenTargetGroup;
  }
}

/** A BlueGreenRouting built elsewhere, from its attributes. */
class ImportedBlueGreenRouting extends BlueGreenRoutingBase {
  public readonly liveRuleArn: string;
  public readonly testRouteHeader?: string;
  private readonly targetGroups: { readonly blue: elbv2.IApplicationTargetGroup; readonly green: elbv2.IApplicationTargetGroup };

  constructor(scope: Construct, id: string, attrs: BlueGreenRoutingAttributes) {
    super(scope, id, { ...attrs, priorityMeaning: 'the production rule\'s priority of the imported routing', priorityMayBeToken: true });
    new PropChecks(this)
      .pattern('segmentHeader', attrs.segmentHeader, HEADER_NAME, 'an HTTP header name of 1-40 token characters')
      .pattern('testRouteHeader', attrs.testRouteHeader, HEADER_NAME, 'an HTTP header name of 1-40 token characters')
      .oneOf('initialColor', attrs.initialColor, ALL_COLORS);
    this.liveRuleArn = attrs.liveRuleArn;
    this.testRouteHeader = attrs.testRouteHeader;
    this.targetGroups = { blue: attrs.blueTargetGroup, green: attrs.greenTargetGroup };
  }

  public targetGroup(color: Color): elbv2.IApplicationTargetGroup {
    return color === Color.BLUE ? this.targetGroups.blue : this.targetGroups.green;
  }

  public targetGroupFullName(color: Color): string {
    return targetGroupFullNameFromArn(this.targetGroup(color));
  }
}

/** ListenerCondition renders L1 (camelCase) keys; the ELB API and CloudFormation use PascalCase (Field, Values). */
function pascalCaseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascalCaseKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [capitalize(k), pascalCaseKeys(v)]));
}

/** Stickiness ALB accepts: whole seconds from 1 second to 7 days. */
function validStickiness(seconds: number): boolean {
  return Number.isInteger(seconds) && seconds >= 1 && seconds <= AlbLimits.MAX_STICKINESS_SECONDS;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
