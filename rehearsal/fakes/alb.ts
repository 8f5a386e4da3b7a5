/**
 * FakeAlb: a stateful, in-memory Application Load Balancer (ELBv2 API) for the rehearsal.
 *
 * It holds load balancers, target groups (with attributes, targets and their health), listeners
 * with their default actions and listener rules, and validates every write like ALB does
 * (priorities, weights, target group limits, stickiness, condition values), with ALB's error
 * names. Reads return copies in the normalized shape ALB returns. On top of the API it offers a
 * small simulation API: target health, how a request's traffic splits, and the history of every
 * rule's forward weights on the virtual clock.
 *
 * Simplifications (documented, deliberate): only application load balancers; writes are
 * immediately consistent unless `lagReads` asks for ALB's eventual consistency (DescribeRules then
 * shows a rule's state from before a write for a few reads); health checks are not run — a
 * registered target becomes healthy after the health-check grace (interval x healthy threshold)
 * unless `setTargetHealth` says otherwise.
 */
import type {
  Action, AddTagsInput, CreateListenerInput, CreateListenerOutput, CreateLoadBalancerInput, CreateLoadBalancerOutput,
  CreateRuleInput, CreateRuleOutput, CreateTargetGroupInput, CreateTargetGroupOutput, DeleteListenerInput,
  DeleteRuleInput, DeleteTargetGroupInput, DeregisterTargetsInput, DescribeListenersInput,
  DescribeListenersOutput, DescribeLoadBalancersInput, DescribeLoadBalancersOutput, DescribeRulesInput, DescribeRulesOutput,
  DescribeTagsInput, DescribeTagsOutput, DescribeTargetGroupAttributesInput, DescribeTargetGroupAttributesOutput,
  DescribeTargetGroupsInput, DescribeTargetGroupsOutput, DescribeTargetHealthInput, DescribeTargetHealthOutput, Listener,
  LoadBalancer, ModifyListenerInput, ModifyListenerOutput, ModifyRuleInput, ModifyRuleOutput, ModifyTargetGroupAttributesInput,
  ModifyTargetGroupAttributesOutput, RegisterTargetsInput, RemoveTagsInput, Rule, RuleCondition, SetRulePrioritiesInput,
  SetRulePrioritiesOutput, Tag, TargetGroup, TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Clock } from '../../lambda/shared/clock';
import { forwardWeightsOf, normalizeActions, targetGroupsOf, withoutClientSecrets } from './alb-actions';
import { matchConditions, normalizeConditions, SimulatedRequest } from './alb-conditions';
import { awsError } from './aws-errors';
import { InvalidTokenError, paginate } from './pagination';
import { deepClone } from './clone';

export type { SimulatedRequest } from './alb-conditions';

/** ALB limits of rule priorities. */
export const MIN_RULE_PRIORITY = 1;
export const MAX_RULE_PRIORITY = 50_000;
/** Page size limits of the ELB Describe* operations. */
export const MIN_PAGE_SIZE = 1;
export const MAX_PAGE_SIZE = 400;
/** ALB quota: rules per listener, not counting the default rule. */
export const MAX_RULES_PER_LISTENER = 100;
/**
 * ELB limits: tags per resource, resources per AddTags/DescribeTags call (load balancers, target groups, listeners and
 * rules can be tagged: https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html).
 */
export const MAX_TAGS_PER_RESOURCE = 50;
export const MAX_RESOURCES_PER_TAG_CALL = 20;
/** Longest target group / load balancer name. */
export const MAX_NAME_LENGTH = 32;
/** Target group health check defaults of an ALB (HTTP) target group. */
export const DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 30;
export const DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS = 5;
export const DEFAULT_HEALTHY_THRESHOLD = 5;
export const DEFAULT_UNHEALTHY_THRESHOLD = 2;
/** Default deregistration delay (draining) of a target group, seconds. */
export const DEFAULT_DEREGISTRATION_DELAY_SECONDS = 300;
/** Longest deregistration delay ALB accepts, seconds. */
export const MAX_DEREGISTRATION_DELAY_SECONDS = 3600;
const MS_PER_SECOND = 1000;
const MAX_PORT = 65_535;

/** Attributes (and their defaults) of an ALB target group that the fake knows. */
const DEFAULT_TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, string>> = {
  'deregistration_delay.timeout_seconds': String(DEFAULT_DEREGISTRATION_DELAY_SECONDS),
  'stickiness.enabled': 'false',
  'stickiness.type': 'lb_cookie',
  'stickiness.lb_cookie.duration_seconds': '86400',
  'slow_start.duration_seconds': '0',
  'load_balancing.algorithm.type': 'round_robin',
  'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
};

export interface FakeAlbOptions {
  readonly clock: Clock;
  /** @default us-east-1 */
  readonly region?: string;
  /** @default 123456789012 */
  readonly accountId?: string;
}

/** One change of a rule's forward weights, at a virtual time. */
export interface WeightChange {
  /** Epoch ms (the fake's clock). */
  readonly time: number;
  /** Target group ARN -> weight as written (0-999); empty when the rule stopped forwarding or was deleted. */
  readonly weights: Readonly<Record<string, number>>;
  /** True when this entry records the rule's deletion. */
  readonly deleted?: boolean;
}

/** Which rule a simulated request matched and how its traffic splits. */
export interface RouteDecision {
  readonly ruleArn: string;
  /** Rule priority, or "default". */
  readonly priority: string;
  /** Target group ARN -> share of the traffic (0-1, summing to 1); empty for fixed-response / redirect. */
  readonly weights: Record<string, number>;
}

/** A read-after-write lag of DescribeRules (see FakeAlb.lagReads). */
export interface ReadLag {
  /** The rule whose next write lags; absent: the next write to any rule (CreateRule, ModifyRule, DeleteRule, SetRulePriorities). */
  readonly rule?: string;
  /** How many DescribeRules calls after that write still show the rule as it was before it (an integer >= 1). */
  readonly reads: number;
}

/** Health a simulation assigns to the targets of a target group. */
export interface TargetHealthCounts {
  readonly healthy: number;
  readonly unhealthy?: number;
}

interface LoadBalancerState {
  readonly arn: string;
  readonly name: string;
  readonly id: string;
  readonly createdAt: number;
  readonly description: LoadBalancer;
  tags: Tag[];
}

interface TargetState {
  readonly id: string;
  readonly port: number;
  readonly availabilityZone?: string;
  registeredAt: number;
  /** Health forced by the simulation; undefined: healthy once the health-check grace has passed. */
  forced?: 'healthy' | 'unhealthy';
  /** Set while draining: when the target leaves the target group. */
  drainingUntil?: number;
}

interface TargetGroupState {
  readonly arn: string;
  readonly description: TargetGroup;
  readonly attributes: Map<string, string>;
  readonly targets: Map<string, TargetState>;
  /** Since when a load balancer routes to it (health checks run from then on). */
  inUseSince?: number;
  tags: Tag[];
}

interface ListenerState {
  readonly arn: string;
  readonly id: string;
  readonly loadBalancerArn: string;
  readonly defaultRuleArn: string;
  description: Listener;
  tags: Tag[];
}

interface RuleState {
  readonly arn: string;
  readonly listenerArn: string;
  priority: number;
  conditions: RuleCondition[];
  actions: Action[];
  tags: Tag[];
}

/** What DescribeRules shows of a rule while a read lag lasts: its state before the write (undefined: it did not exist yet). */
interface LaggedRule {
  readonly before: RuleState | undefined;
  readonly listenerArn: string;
  readsLeft: number;
}

/** A 64-bit odd multiplier: maps the id counter to unique, random-looking, deterministic hex ids. */
const ID_MULTIPLIER = 0x9E3779B97F4A7C15n;
const ID_MASK = (1n << 64n) - 1n;

/** Resource-path suffix of an ALB ARN, as used by CloudWatch dimensions ("app/name/id", "targetgroup/name/id"). */
export function arnResourceSuffix(arn: string): string {
  const resource = arn.split(':').slice(5).join(':');
  return resource.startsWith('loadbalancer/') ? resource.slice('loadbalancer/'.length) : resource;
}

export class FakeAlb {
  readonly region: string;
  readonly accountId: string;
  private readonly clock: Clock;
  private idCounter = 0;
  private readonly loadBalancers = new Map<string, LoadBalancerState>();
  private readonly targetGroups = new Map<string, TargetGroupState>();
  private readonly listeners = new Map<string, ListenerState>();
  private readonly rules = new Map<string, RuleState>();
  private readonly history = new Map<string, WeightChange[]>();
  /** Read lags armed by lagReads, each waiting for its first write. */
  private readonly armedLags: ReadLag[] = [];
  /** Rule ARN -> what DescribeRules shows of it while its lag lasts. */
  private readonly laggedRules = new Map<string, LaggedRule>();

  constructor(options: FakeAlbOptions) {
    this.clock = options.clock;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
  }

  // -------------------------------------------------------------------------------------------
  // Load balancers
  // -------------------------------------------------------------------------------------------

  createLoadBalancer(input: CreateLoadBalancerInput): CreateLoadBalancerOutput {
    const name = this.validName(input.Name, 'load balancer');
    const type = input.Type ?? 'application';
    if (type !== 'application') {
      throw awsError('elbv2', 'FakeNotImplemented', `FakeAlb simulates application load balancers only; '${name}' asks for type '${type}'`);
    }
    const existing = [...this.loadBalancers.values()].find((lb) => lb.name === name);
    if (existing) return { LoadBalancers: [this.copy(existing.description)] };
    const id = this.nextId();
    const arn = this.arn(`loadbalancer/app/${name}/${id}`);
    const scheme = input.Scheme ?? 'internet-facing';
    const description: LoadBalancer = {
      LoadBalancerArn: arn,
      DNSName: `${scheme === 'internal' ? 'internal-' : ''}${name}-${parseInt(id.slice(0, 8), 16)}.${this.region}.elb.amazonaws.com`,
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      CreatedTime: new Date(this.clock.now()),
      LoadBalancerName: name,
      Scheme: scheme,
      VpcId: 'vpc-00000000000000001',
      State: { Code: 'active' },
      Type: 'application',
      AvailabilityZones: (input.Subnets ?? []).map((subnet, i) => ({ SubnetId: subnet, ZoneName: `${this.region}${String.fromCharCode(97 + i)}` })),
      SecurityGroups: [...(input.SecurityGroups ?? [])],
      IpAddressType: input.IpAddressType ?? 'ipv4',
    };
    this.loadBalancers.set(arn, { arn, name, id, createdAt: this.clock.now(), description, tags: this.checkedTags(input.Tags) });
    return { LoadBalancers: [this.copy(description)] };
  }

  describeLoadBalancers(input: DescribeLoadBalancersInput = {}): DescribeLoadBalancersOutput {
    let items: LoadBalancerState[];
    if (input.LoadBalancerArns?.length && input.Names?.length) {
      throw this.validation('Load balancer ARNs and names cannot be specified at the same time');
    }
    if (input.LoadBalancerArns?.length) {
      items = input.LoadBalancerArns.map((arn) => this.loadBalancers.get(arn)
        ?? this.fail('LoadBalancerNotFoundException', `Load balancers '[${arn}]' not found`));
    } else if (input.Names?.length) {
      items = input.Names.map((name) => [...this.loadBalancers.values()].find((lb) => lb.name === name)
        ?? this.fail('LoadBalancerNotFoundException', `Load balancers '[${name}]' not found`));
    } else {
      items = [...this.loadBalancers.values()];
    }
    const page = this.page('DescribeLoadBalancers', items, input.Marker, input.PageSize);
    return { LoadBalancers: page.items.map((lb) => this.copy(lb.description)), NextMarker: page.next };
  }

  // -------------------------------------------------------------------------------------------
  // Target groups
  // -------------------------------------------------------------------------------------------

  createTargetGroup(input: CreateTargetGroupInput): CreateTargetGroupOutput {
    const name = this.validName(input.Name, 'target group');
    const targetType = input.TargetType ?? 'instance';
    if (!['instance', 'ip', 'lambda', 'alb'].includes(targetType)) {
      throw this.validation(`Target type '${targetType}' is not valid; expected instance, ip, lambda or alb`);
    }
    const protocol = input.Protocol;
    if (targetType !== 'lambda') {
      if (protocol === undefined) throw this.validation(`A protocol must be specified for target group '${name}'`);
      if (input.Port === undefined || !Number.isInteger(input.Port) || input.Port < 1 || input.Port > MAX_PORT) {
        throw this.validation(`1 validation error detected: Value '${String(input.Port)}' at 'port' failed to satisfy constraint: Member must be between 1 and ${MAX_PORT} (target group '${name}')`);
      }
      if (!input.VpcId) throw this.validation(`A VPC ID must be specified for target group '${name}' of target type '${targetType}'`);
    }
    const interval = input.HealthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS;
    const timeout = input.HealthCheckTimeoutSeconds ?? DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS;
    if (interval < 5 || interval > 300) throw this.validation(`Health check interval must be between 5 and 300 seconds, got ${interval} (target group '${name}')`);
    if (timeout < 2 || timeout > 120 || timeout >= interval) {
      throw this.validation(`Health check timeout must be between 2 and 120 seconds and smaller than the interval (${interval}), got ${timeout} (target group '${name}')`);
    }
    const existing = [...this.targetGroups.values()].find((tg) => tg.description.TargetGroupName === name);
    if (existing) {
      const d = existing.description;
      if (d.Protocol === protocol && d.Port === input.Port && d.VpcId === input.VpcId && d.TargetType === targetType) {
        return { TargetGroups: [this.describeTargetGroup(existing)] };
      }
      throw this.fail('DuplicateTargetGroupNameException', `A target group with the same name '${name}' exists, but with different settings`);
    }
    const id = this.nextId();
    const arn = this.arn(`targetgroup/${name}/${id}`);
    const description: TargetGroup = {
      TargetGroupArn: arn,
      TargetGroupName: name,
      Protocol: protocol,
      ProtocolVersion: protocol === undefined ? undefined : (input.ProtocolVersion ?? 'HTTP1'),
      Port: input.Port,
      VpcId: input.VpcId,
      HealthCheckProtocol: input.HealthCheckProtocol ?? protocol,
      HealthCheckPort: input.HealthCheckPort ?? 'traffic-port',
      HealthCheckEnabled: input.HealthCheckEnabled ?? true,
      HealthCheckIntervalSeconds: interval,
      HealthCheckTimeoutSeconds: timeout,
      HealthyThresholdCount: input.HealthyThresholdCount ?? DEFAULT_HEALTHY_THRESHOLD,
      UnhealthyThresholdCount: input.UnhealthyThresholdCount ?? DEFAULT_UNHEALTHY_THRESHOLD,
      HealthCheckPath: input.HealthCheckPath ?? '/',
      Matcher: input.Matcher ?? { HttpCode: '200' },
      TargetType: targetType,
      IpAddressType: input.IpAddressType ?? 'ipv4',
    };
    this.targetGroups.set(arn, {
      arn, description, attributes: new Map(Object.entries(DEFAULT_TARGET_GROUP_ATTRIBUTES)), targets: new Map(), tags: this.checkedTags(input.Tags),
    });
    return { TargetGroups: [this.describeTargetGroup(this.targetGroups.get(arn)!)] };
  }

  describeTargetGroups(input: DescribeTargetGroupsInput = {}): DescribeTargetGroupsOutput {
    const filters = [input.LoadBalancerArn !== undefined, !!input.TargetGroupArns?.length, !!input.Names?.length].filter(Boolean).length;
    if (filters > 1) throw this.validation('Only one of LoadBalancerArn, TargetGroupArns and Names can be specified');
    let items: TargetGroupState[];
    if (input.TargetGroupArns?.length) {
      items = input.TargetGroupArns.map((arn) => this.targetGroupOrThrow(arn));
    } else if (input.Names?.length) {
      items = input.Names.map((name) => [...this.targetGroups.values()].find((tg) => tg.description.TargetGroupName === name)
        ?? this.fail('TargetGroupNotFoundException', `One or more target groups not found: '${name}'`));
    } else if (input.LoadBalancerArn !== undefined) {
      this.loadBalancerOrThrow(input.LoadBalancerArn);
      items = [...this.targetGroups.values()].filter((tg) => this.loadBalancersOf(tg.arn).includes(input.LoadBalancerArn!));
    } else {
      items = [...this.targetGroups.values()];
    }
    const page = this.page('DescribeTargetGroups', items, input.Marker, input.PageSize);
    return { TargetGroups: page.items.map((tg) => this.describeTargetGroup(tg)), NextMarker: page.next };
  }

  deleteTargetGroup(input: DeleteTargetGroupInput): Record<string, never> {
    const tg = input.TargetGroupArn === undefined ? undefined : this.targetGroups.get(input.TargetGroupArn);
    if (!tg) return {};
    if (this.loadBalancersOf(tg.arn).length > 0) {
      throw this.fail('ResourceInUseException', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
    }
    this.targetGroups.delete(tg.arn);
    return {};
  }

  describeTargetGroupAttributes(input: DescribeTargetGroupAttributesInput): DescribeTargetGroupAttributesOutput {
    const tg = this.targetGroupOrThrow(input.TargetGroupArn);
    return { Attributes: [...tg.attributes].map(([Key, Value]) => ({ Key, Value })) };
  }

  modifyTargetGroupAttributes(input: ModifyTargetGroupAttributesInput): ModifyTargetGroupAttributesOutput {
    const tg = this.targetGroupOrThrow(input.TargetGroupArn);
    const updates = input.Attributes ?? [];
    for (const { Key, Value } of updates) {
      if (Key === undefined || !(Key in DEFAULT_TARGET_GROUP_ATTRIBUTES)) {
        throw this.validation(`Target group attribute key '${String(Key)}' is not recognized`);
      }
      if (Key === 'deregistration_delay.timeout_seconds') {
        const seconds = Number(Value);
        if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_DEREGISTRATION_DELAY_SECONDS) {
          throw this.validation(`Deregistration delay must be an integer between 0 and ${MAX_DEREGISTRATION_DELAY_SECONDS} seconds, got '${String(Value)}'`);
        }
      }
    }
    for (const { Key, Value } of updates) tg.attributes.set(Key!, Value ?? '');
    return { Attributes: [...tg.attributes].map(([Key, Value]) => ({ Key, Value })) };
  }

  // -------------------------------------------------------------------------------------------
  // Targets and health
  // -------------------------------------------------------------------------------------------

  registerTargets(input: RegisterTargetsInput): Record<string, never> {
    const tg = this.targetGroupOrThrow(input.TargetGroupArn);
    if (!input.Targets?.length) throw this.validation('At least one target must be specified');
    const now = this.clock.now();
    for (const target of input.Targets) {
      if (!target.Id) throw this.validation('A target ID must be specified');
      const port = target.Port ?? tg.description.Port ?? 0;
      const key = `${target.Id}:${port}`;
      const existing = tg.targets.get(key);
      if (existing && existing.drainingUntil === undefined) continue; // registering twice is a no-op
      tg.targets.set(key, { id: target.Id, port, availabilityZone: target.AvailabilityZone, registeredAt: now, forced: existing?.forced });
    }
    return {};
  }

  deregisterTargets(input: DeregisterTargetsInput): Record<string, never> {
    const tg = this.targetGroupOrThrow(input.TargetGroupArn);
    if (!input.Targets?.length) throw this.validation('At least one target must be specified');
    this.expireDrainedTargets(tg);
    const now = this.clock.now();
    const delayMs = Number(tg.attributes.get('deregistration_delay.timeout_seconds')) * MS_PER_SECOND;
    for (const target of input.Targets) {
      const port = target.Port ?? tg.description.Port ?? 0;
      const state = tg.targets.get(`${target.Id}:${port}`);
      if (!state) {
        throw this.fail('InvalidTargetException', `The following targets are not registered in target group '${tg.arn}': '${String(target.Id)}:${port}'`);
      }
      if (state.drainingUntil === undefined) state.drainingUntil = now + delayMs;
    }
    return {};
  }

  describeTargetHealth(input: DescribeTargetHealthInput): DescribeTargetHealthOutput {
    const tg = this.targetGroupOrThrow(input.TargetGroupArn);
    this.expireDrainedTargets(tg);
    if (input.Targets?.length) {
      return {
        TargetHealthDescriptions: input.Targets.map((target) => {
          const port = target.Port ?? tg.description.Port ?? 0;
          const state = tg.targets.get(`${target.Id}:${port}`);
          return state ? this.healthOf(tg, state) : {
            Target: { Id: target.Id, Port: port },
            TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' },
          };
        }),
      };
    }
    return { TargetHealthDescriptions: [...tg.targets.values()].map((state) => this.healthOf(tg, state)) };
  }

  /**
   * Simulation: the target group holds exactly `healthy` healthy and `unhealthy` unhealthy targets
   * from now on (targets are registered or deregistered at once, without draining, to get there).
   * Health checks still only count while a load balancer routes to the target group: otherwise
   * DescribeTargetHealth reports the targets `unused`, as ALB does.
   */
  setTargetHealth(targetGroupArn: string, counts: TargetHealthCounts): void {
    const tg = this.targetGroups.get(targetGroupArn);
    if (!tg) throw new Error(`FakeAlb.setTargetHealth: target group ${targetGroupArn} does not exist`);
    const unhealthy = counts.unhealthy ?? 0;
    if (!Number.isInteger(counts.healthy) || counts.healthy < 0 || !Number.isInteger(unhealthy) || unhealthy < 0) {
      throw new Error(`FakeAlb.setTargetHealth: counts must be integers >= 0, got healthy=${counts.healthy} unhealthy=${unhealthy}`);
    }
    const now = this.clock.now();
    const port = tg.description.Port ?? 0;
    const existing = [...tg.targets.values()].filter((t) => t.drainingUntil === undefined);
    tg.targets.clear();
    const total = counts.healthy + unhealthy;
    for (let i = 0; i < total; i++) {
      const previous = existing[i];
      const id = previous?.id ?? this.targetId(tg, i);
      const state: TargetState = previous
        ? { ...previous, forced: i < counts.healthy ? 'healthy' : 'unhealthy' }
        : { id, port, registeredAt: now, forced: i < counts.healthy ? 'healthy' : 'unhealthy' };
      tg.targets.set(`${state.id}:${state.port}`, state);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Listeners
  // -------------------------------------------------------------------------------------------

  createListener(input: CreateListenerInput): CreateListenerOutput {
    const lb = this.loadBalancerOrThrow(input.LoadBalancerArn);
    const protocol = input.Protocol ?? 'HTTP';
    if (protocol !== 'HTTP' && protocol !== 'HTTPS') {
      throw this.validation(`Listener protocol '${protocol}' is not supported by application load balancers; expected HTTP or HTTPS`);
    }
    if (protocol === 'HTTPS' && !input.Certificates?.length) {
      throw this.validation(`A certificate must be specified for HTTPS listeners (load balancer '${lb.arn}')`);
    }
    const port = this.validPort(input.Port ?? (protocol === 'HTTPS' ? 443 : 80));
    if ([...this.listeners.values()].some((l) => l.loadBalancerArn === lb.arn && l.description.Port === port)) {
      throw this.fail('DuplicateListenerException', `A listener already exists on port ${port} of load balancer '${lb.arn}'`);
    }
    const defaultActions = normalizeActions(input.DefaultActions, 'the listener default actions', (tgArn) => this.checkTargetGroup(tgArn, lb.arn));
    const id = this.nextId();
    const arn = this.arn(`listener/app/${lb.name}/${lb.id}/${id}`);
    const defaultRuleArn = this.arn(`listener-rule/app/${lb.name}/${lb.id}/${id}/${this.nextId()}`);
    const description: Listener = {
      ListenerArn: arn,
      LoadBalancerArn: lb.arn,
      Port: port,
      Protocol: protocol,
      Certificates: input.Certificates?.map((c) => ({ ...c })),
      SslPolicy: protocol === 'HTTPS' ? (input.SslPolicy ?? 'ELBSecurityPolicy-2016-08') : undefined,
      DefaultActions: defaultActions,
    };
    this.listeners.set(arn, { arn, id, loadBalancerArn: lb.arn, defaultRuleArn, description, tags: this.checkedTags(input.Tags) });
    this.refreshAssociations();
    this.recordWeights(defaultRuleArn, defaultActions);
    return { Listeners: [this.describeListener(description)] };
  }

  /**
   * The simulation's back door for a listener that exists outside the rehearsed stacks (imported by ARN): creates its
   * load balancer and the listener under the ARNs given (HTTP on port 80, a fixed 404 default action, as a listener
   * owned by another stack would have something of its own), unless they exist. Not an ELB API: ELB has no call that
   * takes the ARN of a resource to create; the rehearsal's deployer uses it for a template's imported listener.
   */
  importListener(listenerArn: string): Listener {
    const existing = this.listeners.get(listenerArn);
    if (existing) return this.describeListener(existing.description);
    const match = /^(arn:aws[a-z-]*:elasticloadbalancing:[^:]+:\d{12}:)listener\/app\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(listenerArn);
    if (!match) throw this.validation(`'${listenerArn}' is not the ARN of an application load balancer's listener`);
    const [, prefix, name, lbId, id] = match;
    const lbArn = `${prefix}loadbalancer/app/${name}/${lbId}`;
    if (!this.loadBalancers.has(lbArn)) {
      const description: LoadBalancer = {
        LoadBalancerArn: lbArn, DNSName: `${name}.${this.region}.elb.amazonaws.com`, CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
        CreatedTime: new Date(this.clock.now()), LoadBalancerName: name, Scheme: 'internet-facing', VpcId: 'vpc-00000000000000001',
        State: { Code: 'active' }, Type: 'application', AvailabilityZones: [], SecurityGroups: [], IpAddressType: 'ipv4',
      };
      this.loadBalancers.set(lbArn, { arn: lbArn, name, id: lbId, createdAt: this.clock.now(), description, tags: [] });
    }
    const defaultActions = normalizeActions([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }], 'the listener default actions', (tgArn) => this.checkTargetGroup(tgArn, lbArn));
    const description: Listener = { ListenerArn: listenerArn, LoadBalancerArn: lbArn, Port: 80, Protocol: 'HTTP', DefaultActions: defaultActions };
    const defaultRuleArn = `${prefix}listener-rule/app/${name}/${lbId}/${id}/${this.nextId()}`;
    this.listeners.set(listenerArn, { arn: listenerArn, id, loadBalancerArn: lbArn, defaultRuleArn, description, tags: [] });
    this.refreshAssociations();
    this.recordWeights(defaultRuleArn, defaultActions);
    return this.describeListener(description);
  }

  /**
   * The simulation's back door for a target group that exists outside the rehearsed stacks (imported by ARN, e.g. by
   * `BlueGreenRouting.fromBlueGreenRoutingAttributes()`): creates it under the ARN given (HTTP on port 80, IP targets,
   * the defaults of CreateTargetGroup otherwise), unless it exists. Not an ELB API, like importListener.
   */
  importTargetGroup(targetGroupArn: string): TargetGroup {
    const existing = this.targetGroups.get(targetGroupArn);
    if (existing) return this.describeTargetGroup(existing);
    const match = /^arn:aws[a-z-]*:elasticloadbalancing:[^:]+:\d{12}:targetgroup\/([^/]+)\/([^/]+)$/.exec(targetGroupArn);
    if (!match) throw this.validation(`'${targetGroupArn}' is not the ARN of a target group`);
    const description: TargetGroup = {
      TargetGroupArn: targetGroupArn, TargetGroupName: match[1], Protocol: 'HTTP', ProtocolVersion: 'HTTP1', Port: 80, VpcId: 'vpc-00000000000000001',
      HealthCheckProtocol: 'HTTP', HealthCheckPort: 'traffic-port', HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS, HealthCheckTimeoutSeconds: DEFAULT_HEALTH_CHECK_TIMEOUT_SECONDS,
      HealthyThresholdCount: DEFAULT_HEALTHY_THRESHOLD, UnhealthyThresholdCount: DEFAULT_UNHEALTHY_THRESHOLD, HealthCheckPath: '/',
      Matcher: { HttpCode: '200' }, TargetType: 'ip', IpAddressType: 'ipv4',
    };
    this.targetGroups.set(targetGroupArn, {
      arn: targetGroupArn, description, attributes: new Map(Object.entries(DEFAULT_TARGET_GROUP_ATTRIBUTES)), targets: new Map(), tags: [],
    });
    return this.describeTargetGroup(this.targetGroups.get(targetGroupArn)!);
  }

  /**
   * The simulation's back door for a listener rule that exists outside the rehearsed stacks (the production rule of
   * an imported routing): creates it under the ARN given, on the listener the ARN names (imported with
   * importListener if need be), with CreateRule's checks (priority free, actions' target groups known). Not an ELB
   * API, like importListener.
   */
  importRule(ruleArn: string, input: Omit<CreateRuleInput, 'ListenerArn' | 'Tags'>): Rule {
    const existing = this.rules.get(ruleArn);
    if (existing) return this.describeRule(existing);
    const match = /^(arn:aws[a-z-]*:elasticloadbalancing:[^:]+:\d{12}:)listener-rule\/app\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(ruleArn);
    if (!match) throw this.validation(`'${ruleArn}' is not the ARN of an application load balancer's listener rule`);
    const [, prefix, name, lbId, listenerId] = match;
    const listener = this.listeners.get(`${prefix}listener/app/${name}/${lbId}/${listenerId}`)
      ?? this.listenerOrThrow(this.importListener(`${prefix}listener/app/${name}/${lbId}/${listenerId}`).ListenerArn!);
    const priority = this.validPriority(input.Priority, 'priority');
    if (this.listenerRules(listener.arn).some((r) => r.priority === priority)) {
      throw this.fail('PriorityInUseException', `Priority '${priority}' is currently in use on listener '${listener.arn}'`);
    }
    const conditions = normalizeConditions(input.Conditions, `the imported rule at priority ${priority}`);
    const actions = normalizeActions(input.Actions, `the imported rule at priority ${priority}`,
      (tgArn) => this.checkTargetGroup(tgArn, listener.loadBalancerArn));
    const rule: RuleState = { arn: ruleArn, listenerArn: listener.arn, priority, conditions, actions, tags: [] };
    this.rules.set(ruleArn, rule);
    this.refreshAssociations();
    this.recordWeights(ruleArn, actions);
    return this.describeRule(rule);
  }

  modifyListener(input: ModifyListenerInput): ModifyListenerOutput {
    const listener = this.listenerOrThrow(input.ListenerArn);
    const next: Listener = { ...listener.description };
    if (input.Protocol !== undefined) {
      if (input.Protocol !== 'HTTP' && input.Protocol !== 'HTTPS') throw this.validation(`Listener protocol '${input.Protocol}' is not supported by application load balancers`);
      next.Protocol = input.Protocol;
    }
    if (input.Port !== undefined) {
      const port = this.validPort(input.Port);
      if ([...this.listeners.values()].some((l) => l !== listener && l.loadBalancerArn === listener.loadBalancerArn && l.description.Port === port)) {
        throw this.fail('DuplicateListenerException', `A listener already exists on port ${port} of load balancer '${listener.loadBalancerArn}'`);
      }
      next.Port = port;
    }
    if (input.Certificates !== undefined) next.Certificates = input.Certificates.map((c) => ({ ...c }));
    if (input.SslPolicy !== undefined) next.SslPolicy = input.SslPolicy;
    if (next.Protocol === 'HTTPS' && !next.Certificates?.length) {
      throw this.validation(`A certificate must be specified for HTTPS listener '${listener.arn}'`);
    }
    if (input.DefaultActions !== undefined) {
      next.DefaultActions = normalizeActions(input.DefaultActions, `the default actions of listener '${listener.arn}'`,
        (tgArn) => this.checkTargetGroup(tgArn, listener.loadBalancerArn), listener.description.DefaultActions);
    }
    listener.description = next;
    this.refreshAssociations();
    this.recordWeights(listener.defaultRuleArn, next.DefaultActions ?? []);
    return { Listeners: [this.describeListener(next)] };
  }

  describeListeners(input: DescribeListenersInput): DescribeListenersOutput {
    if (input.LoadBalancerArn === undefined && !input.ListenerArns?.length) {
      throw this.validation('You must specify either listener ARNs or a load balancer ARN');
    }
    if (input.LoadBalancerArn !== undefined && input.ListenerArns?.length) {
      throw this.validation('Listener ARNs and a load balancer ARN cannot be specified at the same time');
    }
    let items: ListenerState[];
    if (input.ListenerArns?.length) {
      items = input.ListenerArns.map((arn) => this.listenerOrThrow(arn));
    } else {
      const lbArn = this.loadBalancerOrThrow(input.LoadBalancerArn).arn;
      items = [...this.listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
    }
    const page = this.page('DescribeListeners', items, input.Marker, input.PageSize);
    return { Listeners: page.items.map((l) => this.describeListener(l.description)), NextMarker: page.next };
  }

  deleteListener(input: DeleteListenerInput): Record<string, never> {
    const listener = this.listenerOrThrow(input.ListenerArn);
    for (const rule of [...this.rules.values()].filter((r) => r.listenerArn === listener.arn)) {
      this.rules.delete(rule.arn);
      this.recordDeletion(rule.arn);
    }
    this.listeners.delete(listener.arn);
    this.recordDeletion(listener.defaultRuleArn);
    this.refreshAssociations();
    return {};
  }

  // -------------------------------------------------------------------------------------------
  // Rules
  // -------------------------------------------------------------------------------------------

  createRule(input: CreateRuleInput): CreateRuleOutput {
    const listener = this.listenerOrThrow(input.ListenerArn);
    const priority = this.validPriority(input.Priority, 'priority');
    if (this.listenerRules(listener.arn).some((r) => r.priority === priority)) {
      throw this.fail('PriorityInUseException', `Priority '${priority}' is currently in use on listener '${listener.arn}'`);
    }
    if (this.listenerRules(listener.arn).length >= MAX_RULES_PER_LISTENER) {
      throw this.fail('TooManyRulesException', `Listener '${listener.arn}' already has the maximum of ${MAX_RULES_PER_LISTENER} rules`);
    }
    const conditions = normalizeConditions(input.Conditions, `the new rule at priority ${priority}`);
    const actions = normalizeActions(input.Actions, `the new rule at priority ${priority}`,
      (tgArn) => this.checkTargetGroup(tgArn, listener.loadBalancerArn));
    const lb = this.loadBalancers.get(listener.loadBalancerArn)!;
    const arn = this.arn(`listener-rule/app/${lb.name}/${lb.id}/${listener.id}/${this.nextId()}`);
    // CreateRule's Tags are assigned to the new rule with it, in the same call
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html).
    const rule: RuleState = { arn, listenerArn: listener.arn, priority, conditions, actions, tags: this.checkedTags(input.Tags) };
    this.startReadLags([{ arn, listenerArn: listener.arn }]);
    this.rules.set(arn, rule);
    this.refreshAssociations();
    this.recordWeights(arn, actions);
    return { Rules: [this.describeRule(rule)] };
  }

  modifyRule(input: ModifyRuleInput): ModifyRuleOutput {
    if (input.RuleArn !== undefined && this.isDefaultRule(input.RuleArn)) {
      throw this.fail('OperationNotPermittedException', `The default rule '${input.RuleArn}' cannot be modified with ModifyRule; change the listener's default actions with ModifyListener`);
    }
    const rule = this.ruleOrThrow(input.RuleArn);
    const listener = this.listeners.get(rule.listenerArn)!;
    const label = `rule '${rule.arn}'`;
    const conditions = input.Conditions === undefined ? rule.conditions : normalizeConditions(input.Conditions, label);
    const actions = input.Actions === undefined ? rule.actions
      : normalizeActions(input.Actions, label, (tgArn) => this.checkTargetGroup(tgArn, listener.loadBalancerArn), rule.actions);
    this.startReadLags([{ arn: rule.arn, listenerArn: rule.listenerArn }]);
    rule.conditions = conditions;
    rule.actions = actions;
    this.refreshAssociations();
    this.recordWeights(rule.arn, actions);
    return { Rules: [this.describeRule(rule)] };
  }

  deleteRule(input: DeleteRuleInput): Record<string, never> {
    if (input.RuleArn !== undefined && this.isDefaultRule(input.RuleArn)) {
      throw this.fail('OperationNotPermittedException', `The default rule '${input.RuleArn}' cannot be deleted`);
    }
    const rule = this.ruleOrThrow(input.RuleArn);
    this.startReadLags([{ arn: rule.arn, listenerArn: rule.listenerArn }]);
    this.rules.delete(rule.arn);
    this.refreshAssociations();
    this.recordDeletion(rule.arn);
    return {};
  }

  setRulePriorities(input: SetRulePrioritiesInput): SetRulePrioritiesOutput {
    const pairs = input.RulePriorities ?? [];
    if (pairs.length === 0) throw this.validation('At least one rule priority must be specified');
    const changes = pairs.map((pair, i) => {
      if (pair.RuleArn !== undefined && this.isDefaultRule(pair.RuleArn)) {
        throw this.fail('OperationNotPermittedException', `The priority of the default rule '${pair.RuleArn}' cannot be changed`);
      }
      return { rule: this.ruleOrThrow(pair.RuleArn), priority: this.validPriority(pair.Priority, `rulePriorities.${i + 1}.member.priority`) };
    });
    if (new Set(changes.map((c) => c.rule.arn)).size !== changes.length) throw this.validation('A rule can only be specified once');
    // Validate the end state of every listener touched before changing anything (the call is atomic).
    for (const listenerArn of new Set(changes.map((c) => c.rule.listenerArn))) {
      const end = new Map(this.listenerRules(listenerArn).map((r) => [r.arn, r.priority]));
      for (const c of changes) if (c.rule.listenerArn === listenerArn) end.set(c.rule.arn, c.priority);
      const seen = new Map<number, string>();
      for (const [arn, priority] of end) {
        if (seen.has(priority)) throw this.fail('PriorityInUseException', `Priority '${priority}' is currently in use on listener '${listenerArn}'`);
        seen.set(priority, arn);
      }
    }
    this.startReadLags(changes.map((c) => ({ arn: c.rule.arn, listenerArn: c.rule.listenerArn })));
    for (const c of changes) c.rule.priority = c.priority;
    return { Rules: changes.map((c) => this.describeRule(c.rule)) };
  }

  describeRules(input: DescribeRulesInput): DescribeRulesOutput {
    if (input.ListenerArn === undefined && !input.RuleArns?.length) {
      throw this.validation('You must specify either a listener ARN or rule ARNs');
    }
    if (input.ListenerArn !== undefined && input.RuleArns?.length) {
      throw this.validation('A listener ARN and rule ARNs cannot be specified at the same time');
    }
    let items: Rule[];
    if (input.RuleArns?.length) {
      const ruleArns = input.RuleArns;
      try {
        items = ruleArns.map((arn) => {
          const listener = [...this.listeners.values()].find((l) => l.defaultRuleArn === arn);
          if (listener) return this.describeDefaultRule(listener);
          const rule = this.visibleRule(arn);
          if (!rule) throw this.fail('RuleNotFoundException', `One or more rules not found: '${arn}'`);
          return this.describeRule(rule);
        });
      } finally {
        this.countLaggedReads((arn) => ruleArns.includes(arn));
      }
    } else {
      const listener = this.listenerOrThrow(input.ListenerArn);
      items = [...this.visibleListenerRules(listener.arn).sort((a, b) => a.priority - b.priority).map((r) => this.describeRule(r)),
        this.describeDefaultRule(listener)];
      this.countLaggedReads((_arn, lagged) => lagged.listenerArn === listener.arn);
    }
    const page = this.page('DescribeRules', items, input.Marker, input.PageSize);
    return { Rules: page.items, NextMarker: page.next };
  }

  /**
   * Simulation of ALB's eventual consistency: the next write to `rule` (to any rule when absent)
   * is applied at once, but the next `reads` DescribeRules calls that ask for the rule by ARN or
   * list its listener still show the rule as it was before that write (absent, for a CreateRule;
   * still there, for a DeleteRule). Each such call counts as one read, whatever page it asks for
   * and whether it succeeds. Further writes to a rule while it lags stay hidden with the first
   * until the lag ends. Only DescribeRules lags: the write's own response, the validation of
   * later writes, `route`, `forwardWeights` and `weightHistory` see the write at once. Each call
   * arms one lag, for one write (the rules that write touches; with `rule`, that rule only).
   */
  lagReads(lag: ReadLag): void {
    if (!Number.isInteger(lag.reads) || lag.reads < 1) throw new Error(`FakeAlb.lagReads: reads must be an integer >= 1, got ${String(lag.reads)}`);
    this.armedLags.push({ ...lag });
  }

  // -------------------------------------------------------------------------------------------
  // Tags
  // -------------------------------------------------------------------------------------------

  /**
   * AddTags: a key the resource already has gets the new value; DuplicateTagKeys for a key given twice; TooManyTags
   * past the limit; RuleNotFound (and the like) for a resource that does not exist
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html).
   */
  addTags(input: AddTagsInput): Record<string, never> {
    const resources = this.tagResources(input.ResourceArns);
    const tags = input.Tags ?? [];
    if (tags.length === 0) throw this.validation('At least one tag must be specified');
    const keys = tags.map((t) => t.Key);
    const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
    if (duplicate !== undefined) throw this.fail('DuplicateTagKeysException', `Tag key '${duplicate}' is specified more than once`);
    for (const resource of resources) {
      const merged = new Map(resource.tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value);
      if (merged.size > MAX_TAGS_PER_RESOURCE) {
        throw this.fail('TooManyTagsException', `Resource '${resource.arn}' would have ${merged.size} tags; the limit is ${MAX_TAGS_PER_RESOURCE}`);
      }
    }
    for (const resource of resources) {
      const merged = new Map(resource.tags.map((t) => [t.Key, t.Value]));
      for (const t of tags) merged.set(t.Key, t.Value);
      resource.tags = [...merged].map(([Key, Value]) => ({ Key, Value }));
    }
    return {};
  }

  /** RemoveTags: removes the keys given; a key the resource does not have is no error (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RemoveTags.html). */
  removeTags(input: RemoveTagsInput): Record<string, never> {
    const resources = this.tagResources(input.ResourceArns);
    const keys = new Set(input.TagKeys ?? []);
    for (const resource of resources) resource.tags = resource.tags.filter((t) => !keys.has(t.Key!));
    return {};
  }

  /** DescribeTags: one TagDescription per ARN asked for, in that order; up to 20 ARNs a call (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html). */
  describeTags(input: DescribeTagsInput): DescribeTagsOutput {
    const resources = this.tagResources(input.ResourceArns);
    return { TagDescriptions: resources.map((r) => ({ ResourceArn: r.arn, Tags: r.tags.map((t) => ({ ...t })) })) };
  }

  // -------------------------------------------------------------------------------------------
  // Simulation API (not AWS)
  // -------------------------------------------------------------------------------------------

  /** Which rule of the listener serves this request, and how its traffic splits across target groups. */
  route(listenerArn: string, request: SimulatedRequest = {}): RouteDecision {
    const listener = this.listeners.get(listenerArn);
    if (!listener) throw new Error(`FakeAlb.route: listener ${listenerArn} does not exist`);
    const rule = this.listenerRules(listenerArn).sort((a, b) => a.priority - b.priority).find((r) => matchConditions(r.conditions, request));
    const actions = rule ? rule.actions : listener.description.DefaultActions ?? [];
    const weights = forwardWeightsOf(actions) ?? {};
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    const fractions: Record<string, number> = {};
    if (total > 0) for (const [arn, weight] of Object.entries(weights)) fractions[arn] = weight / total;
    return { ruleArn: rule ? rule.arn : listener.defaultRuleArn, priority: rule ? String(rule.priority) : 'default', weights: fractions };
  }

  /** How the traffic of this request splits: target group ARN -> fraction (0-1). Empty for fixed-response / redirect. */
  forwardWeights(listenerArn: string, request: SimulatedRequest = {}): Record<string, number> {
    return this.route(listenerArn, request).weights;
  }

  /** Every change of the rule's forward weights (creation first), with its virtual time. */
  weightHistory(ruleArn: string): readonly WeightChange[] {
    return (this.history.get(ruleArn) ?? []).map((c) => ({ ...c, weights: { ...c.weights } }));
  }

  /** ARN of the default rule of a listener (DescribeRules lists it with IsDefault). */
  defaultRuleArn(listenerArn: string): string {
    const listener = this.listeners.get(listenerArn);
    if (!listener) throw new Error(`FakeAlb.defaultRuleArn: listener ${listenerArn} does not exist`);
    return listener.defaultRuleArn;
  }

  // -------------------------------------------------------------------------------------------
  // Internals
  // -------------------------------------------------------------------------------------------

  private nextId(): string {
    this.idCounter += 1;
    return ((BigInt(this.idCounter) * ID_MULTIPLIER) & ID_MASK).toString(16).padStart(16, '0');
  }

  private targetId(tg: TargetGroupState, index: number): string {
    const n = tg.targets.size + index + 1;
    if (tg.description.TargetType === 'ip') return `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    return `i-${this.nextId().slice(0, 17).padEnd(17, '0')}`;
  }

  private arn(resource: string): string {
    return `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:${resource}`;
  }

  private copy<T>(value: T): T {
    return deepClone(value);
  }

  private validation(message: string): Error {
    return awsError('elbv2', 'ValidationError', message);
  }

  private fail(name: string, message: string): never {
    throw awsError('elbv2', name, message);
  }

  private validName(name: string | undefined, kind: string): string {
    if (!name || name.length > MAX_NAME_LENGTH || !/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name) || name.startsWith('internal-')) {
      throw this.validation(`The ${kind} name '${String(name)}' is not valid: at most ${MAX_NAME_LENGTH} alphanumeric characters or hyphens, not beginning or ending with a hyphen, not beginning with 'internal-'`);
    }
    return name;
  }

  private validPort(port: number): number {
    if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) {
      throw this.validation(`1 validation error detected: Value '${port}' at 'port' failed to satisfy constraint: Member must be between 1 and ${MAX_PORT}`);
    }
    return port;
  }

  private validPriority(priority: number | undefined, at: string): number {
    if (priority === undefined || !Number.isInteger(priority) || priority < MIN_RULE_PRIORITY || priority > MAX_RULE_PRIORITY) {
      throw this.validation(`1 validation error detected: Value '${String(priority)}' at '${at}' failed to satisfy constraint: Member must be an integer between ${MIN_RULE_PRIORITY} and ${MAX_RULE_PRIORITY}`);
    }
    return priority;
  }

  private checkedTags(tags: readonly Tag[] | undefined): Tag[] {
    const list = (tags ?? []).map((t) => ({ ...t }));
    if (list.length > MAX_TAGS_PER_RESOURCE) this.fail('TooManyTagsException', `At most ${MAX_TAGS_PER_RESOURCE} tags can be specified, got ${list.length}`);
    return list;
  }

  private page<T>(operation: string, items: readonly T[], marker: string | undefined, pageSize: number | undefined) {
    if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE)) {
      throw this.validation(`1 validation error detected: Value '${pageSize}' at 'pageSize' failed to satisfy constraint: Member must be between ${MIN_PAGE_SIZE} and ${MAX_PAGE_SIZE}`);
    }
    try {
      return paginate(operation, items, marker, pageSize ?? MAX_PAGE_SIZE);
    } catch (err) {
      if (err instanceof InvalidTokenError) throw this.validation(`Invalid marker '${marker}' for ${operation}`);
      throw err;
    }
  }

  private loadBalancerOrThrow(arn: string | undefined): LoadBalancerState {
    const lb = arn === undefined ? undefined : this.loadBalancers.get(arn);
    return lb ?? this.fail('LoadBalancerNotFoundException', `Load balancer '${String(arn)}' not found`);
  }

  private targetGroupOrThrow(arn: string | undefined): TargetGroupState {
    const tg = arn === undefined ? undefined : this.targetGroups.get(arn);
    return tg ?? this.fail('TargetGroupNotFoundException', `Target groups '${String(arn)}' not found`);
  }

  private listenerOrThrow(arn: string | undefined): ListenerState {
    const listener = arn === undefined ? undefined : this.listeners.get(arn);
    return listener ?? this.fail('ListenerNotFoundException', `One or more listeners not found: '${String(arn)}'`);
  }

  private ruleOrThrow(arn: string | undefined): RuleState {
    const rule = arn === undefined ? undefined : this.rules.get(arn);
    return rule ?? this.fail('RuleNotFoundException', `One or more rules not found: '${String(arn)}'`);
  }

  private isDefaultRule(arn: string): boolean {
    return [...this.listeners.values()].some((l) => l.defaultRuleArn === arn);
  }

  private listenerRules(listenerArn: string): RuleState[] {
    return [...this.rules.values()].filter((r) => r.listenerArn === listenerArn);
  }

  /** An action may forward to a target group only if it exists and no other load balancer uses it (ALB limit). */
  private checkTargetGroup(targetGroupArn: string, loadBalancerArn: string): void {
    this.targetGroupOrThrow(targetGroupArn);
    const others = this.loadBalancersOf(targetGroupArn).filter((arn) => arn !== loadBalancerArn);
    if (others.length > 0) {
      this.fail('TargetGroupAssociationLimitException', `The following target groups cannot be associated with more than one load balancer: '${targetGroupArn}' (already used by '${others[0]}')`);
    }
  }

  /** Load balancers whose listeners or rules forward to the target group. */
  private loadBalancersOf(targetGroupArn: string): string[] {
    const out = new Set<string>();
    for (const listener of this.listeners.values()) {
      if (targetGroupsOf(listener.description.DefaultActions ?? []).includes(targetGroupArn)) out.add(listener.loadBalancerArn);
    }
    for (const rule of this.rules.values()) {
      if (targetGroupsOf(rule.actions).includes(targetGroupArn)) out.add(this.listeners.get(rule.listenerArn)!.loadBalancerArn);
    }
    return [...out];
  }

  /** Health checks of a target group start when a load balancer starts routing to it. */
  private refreshAssociations(): void {
    const now = this.clock.now();
    for (const tg of this.targetGroups.values()) {
      const inUse = this.loadBalancersOf(tg.arn).length > 0;
      if (inUse && tg.inUseSince === undefined) tg.inUseSince = now;
      if (!inUse) tg.inUseSince = undefined;
    }
  }

  private expireDrainedTargets(tg: TargetGroupState): void {
    const now = this.clock.now();
    for (const [key, target] of tg.targets) {
      if (target.drainingUntil !== undefined && target.drainingUntil <= now) tg.targets.delete(key);
    }
  }

  private healthOf(tg: TargetGroupState, target: TargetState): TargetHealthDescription {
    const base = { Target: { Id: target.id, Port: target.port, AvailabilityZone: target.availabilityZone }, HealthCheckPort: String(target.port) };
    if (target.drainingUntil !== undefined) {
      return { ...base, TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' } };
    }
    // A target group no listener rule forwards to is not health-checked: its targets are "unused", Target.NotInUse
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html#target-health-states).
    if (tg.inUseSince === undefined) {
      return { ...base, TargetHealth: { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' } };
    }
    if (target.forced === 'unhealthy') {
      return { ...base, TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [502]' } };
    }
    if (target.forced === 'healthy') return { ...base, TargetHealth: { State: 'healthy' } };
    const d = tg.description;
    const graceMs = (d.HealthCheckIntervalSeconds ?? DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS) * (d.HealthyThresholdCount ?? DEFAULT_HEALTHY_THRESHOLD) * MS_PER_SECOND;
    if (this.clock.now() < Math.max(target.registeredAt, tg.inUseSince) + graceMs) {
      return { ...base, TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' } };
    }
    return { ...base, TargetHealth: { State: 'healthy' } };
  }

  private describeTargetGroup(tg: TargetGroupState): TargetGroup {
    return { ...this.copy(tg.description), LoadBalancerArns: this.loadBalancersOf(tg.arn) };
  }

  private describeRule(rule: RuleState): Rule {
    return { RuleArn: rule.arn, Priority: String(rule.priority), Conditions: this.copy(rule.conditions), Actions: withoutClientSecrets(rule.actions), IsDefault: false };
  }

  private describeDefaultRule(listener: ListenerState): Rule {
    return { RuleArn: listener.defaultRuleArn, Priority: 'default', Conditions: [], Actions: withoutClientSecrets(listener.description.DefaultActions ?? []), IsDefault: true };
  }

  /** A listener as ALB describes it (no client secrets in its default actions). */
  private describeListener(description: Listener): Listener {
    const copy = this.copy(description);
    if (copy.DefaultActions) copy.DefaultActions = withoutClientSecrets(copy.DefaultActions);
    return copy;
  }

  private tagResources(arns: readonly string[] | undefined): Array<{ arn: string; tags: Tag[] }> {
    if (!arns?.length) throw this.validation('At least one resource ARN must be specified');
    if (arns.length > MAX_RESOURCES_PER_TAG_CALL) throw this.validation(`At most ${MAX_RESOURCES_PER_TAG_CALL} resource ARNs can be specified, got ${arns.length}`);
    return arns.map((arn) => {
      const resource = this.loadBalancers.get(arn) ?? this.targetGroups.get(arn) ?? this.listeners.get(arn) ?? this.rules.get(arn);
      if (resource) return resource;
      const type = arn.split(':')[5]?.split('/')[0];
      switch (type) {
        case 'targetgroup': return this.fail('TargetGroupNotFoundException', `Target groups '${arn}' not found`);
        case 'listener': return this.fail('ListenerNotFoundException', `One or more listeners not found: '${arn}'`);
        case 'listener-rule': return this.fail('RuleNotFoundException', `One or more rules not found: '${arn}'`);
        default: return this.fail('LoadBalancerNotFoundException', `Load balancer '${arn}' not found`);
      }
    });
  }

  /** A write is about to change these rules: the first armed lag that matches starts showing their state from before it. */
  private startReadLags(rules: ReadonlyArray<{ readonly arn: string; readonly listenerArn: string }>): void {
    const index = this.armedLags.findIndex((lag) => lag.rule === undefined || rules.some((r) => r.arn === lag.rule));
    if (index < 0) return;
    const [lag] = this.armedLags.splice(index, 1);
    for (const { arn, listenerArn } of rules) {
      if (lag.rule !== undefined && lag.rule !== arn) continue;
      if (this.laggedRules.has(arn)) continue; // already lagging: it keeps showing the state before the first write
      const current = this.rules.get(arn);
      this.laggedRules.set(arn, { before: current && this.copy(current), listenerArn, readsLeft: lag.reads });
    }
  }

  /** The rule as DescribeRules shows it now (its state before a lagging write, while the lag lasts). */
  private visibleRule(arn: string): RuleState | undefined {
    const lagged = this.laggedRules.get(arn);
    return lagged ? lagged.before : this.rules.get(arn);
  }

  /** The rules of a listener as DescribeRules lists them now. */
  private visibleListenerRules(listenerArn: string): RuleState[] {
    const current = this.listenerRules(listenerArn).filter((r) => !this.laggedRules.has(r.arn));
    const lagging = [...this.laggedRules.values()].filter((l) => l.listenerArn === listenerArn && l.before !== undefined).map((l) => l.before!);
    return [...current, ...lagging];
  }

  /** One DescribeRules call read these lagging rules: one read less for each; a lag without reads left ends. */
  private countLaggedReads(read: (arn: string, lagged: LaggedRule) => boolean): void {
    for (const [arn, lagged] of this.laggedRules) {
      if (!read(arn, lagged)) continue;
      lagged.readsLeft -= 1;
      if (lagged.readsLeft <= 0) this.laggedRules.delete(arn);
    }
  }

  private recordWeights(ruleArn: string, actions: readonly Action[]): void {
    const weights = forwardWeightsOf(actions) ?? {};
    const list = this.history.get(ruleArn) ?? [];
    const last = list[list.length - 1];
    if (last && !last.deleted && sameWeights(last.weights, weights)) return;
    list.push({ time: this.clock.now(), weights });
    this.history.set(ruleArn, list);
  }

  private recordDeletion(ruleArn: string): void {
    const list = this.history.get(ruleArn) ?? [];
    list.push({ time: this.clock.now(), weights: {}, deleted: true });
    this.history.set(ruleArn, list);
  }
}

function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
