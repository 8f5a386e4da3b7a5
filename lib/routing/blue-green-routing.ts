import { CustomResource, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AlbLimits, Color, COLORS, LiveRouteProperties, RouterConfig } from '../../lambda/shared/contracts';
import { PropChecks, propError } from '../private/validation';
import { listenerRulesArn } from '../private/arns';
import { LISTENER_PRIORITY_OWNER, priorityClashes, RULES_BEFORE_LIVE } from '../private/listener-priorities';
import { acknowledge, iam5Resource } from '../private/nag';
import { LiveRouteProvider } from './live-route-provider';

/** A header route that sends marked requests to one color before any production traffic moves. */
export interface TestRouteOptions {
  /**
   * Header whose value (`blue` or `green`) picks the color.
   * @default 'x-zdt-color'
   */
  readonly headerName?: string;
}

export interface BlueGreenRoutingProps {
  /** VPC of the target groups. */
  readonly vpc: ec2.IVpc;
  /** The load balancer of the listener (new or imported); its name is the `LoadBalancer` dimension of the metrics. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /**
   * The listener production traffic arrives on (new or imported). CloudFormation keeps owning the listener and
   * its default action; the production route is a listener rule that this construct adds and that the runtime owns.
   */
  readonly listener: elbv2.IApplicationListener;
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
   * @default 'blue'
   */
  readonly initialColor?: Color;
  /**
   * Test route: requests with `x-zdt-color: green` (or `blue`) reach that color whatever the weights, so a new
   * color can be checked before any production traffic moves. `false` turns it off.
   * @default - on, header `x-zdt-color`
   */
  readonly testRoute?: TestRouteOptions | false;
  /**
   * Header whose values name user segments, for segment-first rollouts (requests with `x-zdt-segment: beta` go to
   * the new color while the `beta` segment is on).
   * @default 'x-zdt-segment'
   */
  readonly segmentHeader?: string;
}

/** The blue/green routing a rollout drives: read by the rollout at synth time. */
export interface IBlueGreenRouting {
  readonly listener: elbv2.IApplicationListener;
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
  /** The configuration the router Lambda needs. */
  routerConfig(): RouterConfig;
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

const DEFAULT_PRIORITY = AlbLimits.MAX_RULE_PRIORITY;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/;

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
export class BlueGreenRouting extends Construct implements IBlueGreenRouting {
  public readonly listener: elbv2.IApplicationListener;
  public readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  public readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  public readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  /** The custom resource that owns the production rule. */
  public readonly liveRoute: CustomResource;
  public readonly liveRuleArn: string;
  public readonly initialColor: Color;
  public readonly loadBalancerFullName: string;
  /** Priority of the production rule. */
  public readonly priority: number;
  /** Header of the test route, or undefined when it is off. */
  public readonly testRouteHeader?: string;
  public readonly segmentHeader: string;

  constructor(scope: Construct, id: string, props: BlueGreenRoutingProps) {
    super(scope, id);
    this.listener = props.listener;
    this.loadBalancer = props.loadBalancer;
    this.priority = props.priority ?? DEFAULT_PRIORITY;
    this.initialColor = props.initialColor ?? 'blue';
    this.segmentHeader = props.segmentHeader ?? 'x-zdt-segment';
    this.testRouteHeader = props.testRoute === false ? undefined : (props.testRoute?.headerName ?? 'x-zdt-color');

    if (!Number.isInteger(this.priority) || this.priority < RULES_BEFORE_LIVE + 1 || this.priority > AlbLimits.MAX_RULE_PRIORITY) {
      // Thrown at once: the rules before the production rule are numbered from it.
      throw propError(this, `priority must be an integer from ${RULES_BEFORE_LIVE + 1} to ${AlbLimits.MAX_RULE_PRIORITY} (the ${RULES_BEFORE_LIVE} rules before it take the priorities just below), got ${props.priority}`);
    }
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
      .pattern('testRoute.headerName', props.testRoute === false ? undefined : props.testRoute?.headerName, HEADER_NAME, 'an HTTP header name of 1-40 token characters')
      .oneOf('initialColor', props.initialColor, COLORS);
    if (this.testRouteHeader !== undefined && this.testRouteHeader.toLowerCase() === this.segmentHeader.toLowerCase()) {
      throw propError(this, `testRoute.headerName and segmentHeader must differ (the test route picks a color, the segment header a user segment), both are "${this.segmentHeader}"`);
    }
    if (props.conditions !== undefined && props.conditions.length === 0) {
      throw propError(this, 'conditions must hold at least one condition (omit it to route every path), got []');
    }

    const targetGroup = (color: Color) => new elbv2.ApplicationTargetGroup(this, `${capitalize(color)}TargetGroup`, {
      vpc: props.vpc,
      port: props.targetPort ?? 80,
      protocol: props.targetProtocol ?? elbv2.ApplicationProtocol.HTTP,
      targetType: props.targetType ?? elbv2.TargetType.IP,
      healthCheck: props.healthCheck ?? { path: '/', healthyThresholdCount: 2, interval: Duration.seconds(15) },
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
      slowStart: slowStartValid && slowStartSeconds ? props.slowStart : undefined,
    });
    this.blueTargetGroup = targetGroup('blue');
    this.greenTargetGroup = targetGroup('green');

    // The test routes are static header rules owned by CloudFormation: they never carry unmarked production traffic.
    // They also attach both target groups to the load balancer, which ECS requires before a service registers.
    if (this.testRouteHeader !== undefined) {
      COLORS.forEach((color, i) => new elbv2.ApplicationListenerRule(this, `${capitalize(color)}TestRoute`, {
        listener: props.listener,
        priority: this.priority - RULES_BEFORE_LIVE + i,
        conditions: [elbv2.ListenerCondition.httpHeader(this.testRouteHeader!, [color])],
        targetGroups: [this.targetGroup(color)],
      }));
    } else {
      COLORS.forEach((color) => this.targetGroup(color).registerListener(props.listener, this));
    }

    const provider = LiveRouteProvider.getOrCreate(this);
    provider.grantRuleManagement(props.listener);
    const conditions = props.conditions ?? [elbv2.ListenerCondition.pathPatterns(['/*'])];
    const properties: LiveRouteProperties = {
      ListenerArn: props.listener.listenerArn,
      Priority: String(this.priority),
      BlueTargetGroupArn: this.blueTargetGroup.targetGroupArn,
      GreenTargetGroupArn: this.greenTargetGroup.targetGroupArn,
      InitialColor: this.initialColor,
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
    this.loadBalancerFullName = Fn.select(1, Fn.split(':loadbalancer/', props.loadBalancer.loadBalancerArn));
  }

  public targetGroup(color: Color): elbv2.ApplicationTargetGroup {
    return color === 'blue' ? this.blueTargetGroup : this.greenTargetGroup;
  }

  public targetGroupFullName(color: Color): string {
    return this.targetGroup(color).targetGroupFullName;
  }

  public routerConfig(): RouterConfig {
    return {
      listenerArn: this.listener.listenerArn,
      liveRuleArn: this.liveRuleArn,
      targetGroupArns: { blue: this.blueTargetGroup.targetGroupArn, green: this.greenTargetGroup.targetGroupArn },
      segmentHeader: this.segmentHeader,
      segmentRulePriority: this.priority - 1,
    };
  }

  public grantRouteControl(grantee: iam.IGrantable): iam.Grant {
    const rules = listenerRulesArn(this.listener);
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetHealth'],
      resourceArns: ['*'], // Describe* actions of ELB do not support resource-level permissions.
    });
    iam.Grant.addToPrincipal({ grantee, actions: ['elasticloadbalancing:CreateRule'], resourceArns: [this.listener.listenerArn] });
    acknowledge(grantee.grantPrincipal as unknown as Construct, iam5Resource(this, rules),
      'Scoped to the rules of this one listener: the segment rule is created at runtime, so its ARN is not known at synth');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:SetRulePriorities'],
      resourceArns: [rules],
    });
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
