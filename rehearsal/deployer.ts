/**
 * A miniature CloudFormation that deploys synthesized stacks into the rehearsal's AWS fakes: only what a rollout
 * touches is created (load balancer, listener, target groups, static listener rules, the live route through the
 * REAL Custom::ZdtLiveRoute handler, metric and composite alarms, the DynamoDB state table, and the target health
 * of the services registered in the target groups). Every other resource is skipped and resolves to a placeholder
 * of the right shape (see template.ts). The physical ids of what was created feed `resolverOptions()`, so the state
 * machine's definition and the Lambdas' ZDT_CONFIG name the fakes' real ARNs.
 *
 * Stacks are deployed in the order their exports and imports require (Fn::ImportValue), resources in the order of
 * their references (Ref, Fn::GetAtt, Fn::Sub, DependsOn). `update(newStacks)` re-deploys: changed live routes get
 * a Custom::ZdtLiveRoute Update with OldResourceProperties (the handler keeps the weights), changed alarms are put
 * again, new resources are created; nothing else changes (as a deploy that only touches those would).
 */
import type { CreateTargetGroupInput, RuleCondition, Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Color, COLORS, LiveRouteProperties } from '../lambda/shared/contracts';
import { handler as liveRouteHandler, LiveRouteEvent, LiveRouteResponse } from '../lambda/routing/live-route-handler';
import { arnResourceSuffix, AwsFakes, TargetHealthCounts } from './fakes';
import { CfnResource, CfnTemplate, TemplateResolver, TemplateResolverOptions } from './template';
import { bindHandlers } from './handlers';

/** One synthesized stack: its name (AWS::StackName) and template. */
export interface StackTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

/** Where a target group's healthy targets come from. */
export interface TargetGroupServiceInfo {
  readonly stackName: string;
  readonly logicalId: string;
  readonly targetGroupArn: string;
  /** Color of the target group when a live route names it. */
  readonly color?: Color;
  /** DesiredCount of the ECS services registered in it (summed), undefined when no service registers in it. */
  readonly desiredCount?: number;
}

export interface DeployerOptions {
  /**
   * Target health of each target group once deployed. Return undefined for the default: the DesiredCount of the
   * ECS services that register in it (all healthy), or `defaultHealthyTargets` when no service does.
   * @default - the default for every target group
   */
  readonly targetHealth?: (info: TargetGroupServiceInfo) => TargetHealthCounts | undefined;
  /**
   * Healthy targets of a target group that no ECS service of the templates registers in (e.g. instances
   * registered outside CloudFormation).
   * @default 2
   */
  readonly defaultHealthyTargets?: number;
}

/**
 * The live route (Custom::ZdtLiveRoute) of a stack, as deployed; or the production rule of a routing imported from
 * another app (`imported`: then `stackName` is the stack that refers to it and `logicalId` is empty).
 */
export interface DeployedLiveRoute {
  readonly stackName: string;
  readonly logicalId: string;
  /** True for a routing that exists outside the rehearsed stacks (importLiveRoute). */
  readonly imported?: boolean;
  readonly ruleArn: string;
  readonly listenerArn: string;
  readonly loadBalancerArn: string;
  readonly targetGroupArns: Record<Color, string>;
  readonly properties: LiveRouteProperties;
}

/** The production rule of a routing imported from another app, as the rollout's router knows it. */
export interface ImportedLiveRoute {
  /** The stack whose rollout refers to it. */
  readonly stackName: string;
  readonly ruleArn: string;
  readonly listenerArn: string;
  readonly targetGroupArns: Record<Color, string>;
  /** Priority of the production rule (the router's segment rule priority + 1). */
  readonly priority: number;
  /** The color that carries production traffic before the first rollout. */
  readonly initialColor: Color;
}

/** What a deploy or an update did, resource by resource. */
export interface DeployReport {
  readonly created: string[];
  readonly updated: string[];
  /** Resources of types the rollout does not touch (not simulated). */
  readonly skipped: string[];
}

const DEFAULT_HEALTHY_TARGETS = 2;
const ALB_NAME_MAX = 32;
const LIVE_ROUTE_TYPE = 'Custom::ZdtLiveRoute';

interface Physical {
  readonly ref: string;
  readonly attributes: Record<string, string>;
}

interface DeployedStack {
  stackName: string;
  template: CfnTemplate;
  physical: Map<string, Physical>;
  /** Resolved properties of each created resource, to detect changes on update. */
  properties: Map<string, string>;
}

type Creator = (stack: DeployedStack, logicalId: string, props: Record<string, unknown>, resource: CfnResource) => Promise<Physical | undefined>;

export class Deployer {
  private readonly stacks = new Map<string, DeployedStack>();
  private readonly exportValues: Record<string, string> = {};
  private readonly liveRouteList: DeployedLiveRoute[] = [];
  private readonly creators: Record<string, Creator>;

  constructor(private readonly aws: AwsFakes, private readonly options: DeployerOptions = {}) {
    // AppConfig's Lambda validators (FeatureFlags' flags-validator): the library's handler of that ARN, in-process.
    aws.appconfig.setLambdaInvoker((arn, event) => this.invokeLibraryFunction(arn, event));
    this.creators = {
      'AWS::ElasticLoadBalancingV2::LoadBalancer': async (stack, id, props) => this.createLoadBalancer(stack, id, props),
      'AWS::ElasticLoadBalancingV2::Listener': async (_stack, _id, props) => this.createListener(props),
      'AWS::ElasticLoadBalancingV2::TargetGroup': async (stack, id, props) => this.createTargetGroup(stack, id, props),
      'AWS::ElasticLoadBalancingV2::ListenerRule': async (_stack, _id, props) => this.createListenerRule(props),
      'AWS::CloudWatch::Alarm': async (stack, id, props) => this.putAlarm(stack, id, props, false),
      'AWS::CloudWatch::CompositeAlarm': async (stack, id, props) => this.putAlarm(stack, id, props, true),
      'AWS::DynamoDB::Table': async (stack, id, props) => this.createTable(stack, id, props),
      [LIVE_ROUTE_TYPE]: async (stack, id, props) => this.createLiveRoute(stack, id, props),
      ...this.appConfigCreators(),
    };
  }

  /**
   * AWS AppConfig (FeatureFlags, GuardedFlagRollout): application, environment, profile, strategy, the hosted
   * version and its deployment, into `aws.appconfig`, so that the flags handlers read what the template declares.
   */
  private appConfigCreators(): Record<string, Creator> {
    const fake = this.aws.appconfig;
    const str = (v: unknown) => String(v);
    return {
      'AWS::AppConfig::Application': async (_s, _id, props) => { const id = fake.createApplication(str(props.Name)); return { ref: id, attributes: { ApplicationId: id } }; },
      'AWS::AppConfig::Environment': async (_s, _id, props) => { const id = fake.createEnvironment(str(props.ApplicationId)); return { ref: id, attributes: { EnvironmentId: id } }; },
      'AWS::AppConfig::ConfigurationProfile': async (_s, _id, props) => {
        const validators = ((props.Validators ?? []) as Array<{ Type?: unknown; Content?: unknown }>).map((v) => ({ Type: str(v.Type), Content: str(v.Content) }));
        const id = fake.createConfigurationProfile(str(props.ApplicationId), str(props.Name), { type: props.Type === undefined ? undefined : str(props.Type), validators });
        return { ref: id, attributes: { ConfigurationProfileId: id } };
      },
      'AWS::AppConfig::DeploymentStrategy': async (_s, _id, props) => {
        const id = fake.createDeploymentStrategy({
          deploymentDurationInMinutes: Number(props.DeploymentDurationInMinutes), finalBakeTimeInMinutes: Number(props.FinalBakeTimeInMinutes ?? 0),
          growthFactor: Number(props.GrowthFactor), growthType: props.GrowthType === undefined ? undefined : str(props.GrowthType),
        });
        return { ref: id, attributes: { Id: id } };
      },
      'AWS::AppConfig::HostedConfigurationVersion': async (_s, _id, props) => {
        const out = fake.createHostedConfigurationVersion({
          ApplicationId: str(props.ApplicationId), ConfigurationProfileId: str(props.ConfigurationProfileId),
          Content: new TextEncoder().encode(str(props.Content)), ContentType: str(props.ContentType),
        });
        return { ref: String(out.VersionNumber), attributes: { VersionNumber: String(out.VersionNumber) } };
      },
      'AWS::AppConfig::Deployment': async (_s, _id, props) => {
        const out = await fake.startDeployment({
          ApplicationId: str(props.ApplicationId), EnvironmentId: str(props.EnvironmentId), ConfigurationProfileId: str(props.ConfigurationProfileId),
          ConfigurationVersion: str(props.ConfigurationVersion), DeploymentStrategyId: str(props.DeploymentStrategyId),
        });
        return { ref: String(out.DeploymentNumber), attributes: { DeploymentNumber: String(out.DeploymentNumber) } };
      },
    };
  }

  /**
   * Invokes the library's handler whose function has this ARN in a deployed stack (a FeatureFlags validator); an
   * ARN of no library handler is an error (the rehearsal runs no code it does not have).
   */
  private async invokeLibraryFunction(arn: string, event: unknown): Promise<unknown> {
    for (const stack of this.stacks.values()) {
      const fn = bindHandlers(stack.template, {}, { ...this.resolverOptions(stack.stackName), environment: { ZDT_LOG_LEVEL: process.env.ZDT_LOG_LEVEL ?? 'silent' }, nested: true }).get(arn);
      if (fn) return fn(event, { functionName: arn.split(':').pop()!, stateName: 'AppConfig validator', executionArn: '', attempt: 1 });
    }
    throw new Error(`Deployer: no library handler has the ARN ${arn} in the deployed stacks; the rehearsal cannot run that Lambda validator`);
  }

  /** Deploys the stacks (in the order their imports require). */
  async deploy(stacks: readonly StackTemplate[]): Promise<DeployReport> {
    const report: DeployReport = { created: [], updated: [], skipped: [] };
    for (const { stackName, template } of orderStacks(stacks)) {
      if (this.stacks.has(stackName)) throw new Error(`Deployer: stack ${stackName} is already deployed; use update()`);
      const stack: DeployedStack = { stackName, template, physical: new Map(), properties: new Map() };
      this.stacks.set(stackName, stack);
      await this.deployResources(stack, report, false);
      this.collectExports(stack);
    }
    this.applyTargetHealth();
    return report;
  }

  /**
   * Re-deploys changed stacks. A changed Custom::ZdtLiveRoute gets an Update event with OldResourceProperties
   * through the real handler; changed alarms are put again; new resources are created.
   */
  async update(stacks: readonly StackTemplate[]): Promise<DeployReport> {
    const report: DeployReport = { created: [], updated: [], skipped: [] };
    for (const { stackName, template } of orderStacks(stacks)) {
      const stack = this.stacks.get(stackName);
      if (!stack) {
        const fresh: DeployedStack = { stackName, template, physical: new Map(), properties: new Map() };
        this.stacks.set(stackName, fresh);
        await this.deployResources(fresh, report, false);
      } else {
        stack.template = template;
        await this.deployResources(stack, report, true);
      }
      this.collectExports(this.stacks.get(stackName)!);
    }
    return report;
  }

  /** Options for TemplateResolver / stateMachineOf / bindHandlers: physical ids of the deployed resources, imports. */
  resolverOptions(stackName: string): TemplateResolverOptions {
    const stack = this.stackOrThrow(stackName);
    return {
      region: this.aws.region,
      accountId: this.aws.accountId,
      stackName,
      imports: this.exportValues,
      resolver: (logicalId, attribute) => {
        const p = stack.physical.get(logicalId);
        if (!p) return undefined;
        return attribute === undefined ? p.ref : p.attributes[attribute];
      },
    };
  }

  /** Physical id (Ref) or attribute of a deployed resource. */
  physicalId(stackName: string, logicalId: string, attribute?: string): string | undefined {
    const p = this.stackOrThrow(stackName).physical.get(logicalId);
    return attribute === undefined ? p?.ref : p?.attributes[attribute];
  }

  /** Every deployed live route. */
  liveRoutes(): readonly DeployedLiveRoute[] {
    return [...this.liveRouteList];
  }

  /**
   * A routing another app built (`BlueGreenRouting.fromBlueGreenRoutingAttributes()`): its listener, its two target
   * groups and its production rule exist in the account before the deploy, so the fake ALB gets them under the ARNs
   * the rollout was given. The production rule forwards everything (path /*) to the initial color, as a
   * BlueGreenRouting's live route starts; the target groups get the default healthy targets (or `targetHealth`'s).
   */
  importLiveRoute(route: ImportedLiveRoute): DeployedLiveRoute {
    const known = this.liveRouteList.find((r) => r.ruleArn === route.ruleArn);
    if (known) return known;
    const listener = this.aws.alb.importListener(route.listenerArn);
    for (const color of COLORS) this.aws.alb.importTargetGroup(route.targetGroupArns[color]);
    const conditions = [{ Field: 'path-pattern', Values: ['/*'] }];
    this.aws.alb.importRule(route.ruleArn, {
      Priority: route.priority,
      Conditions: conditions,
      Actions: [{
        Type: 'forward',
        ForwardConfig: { TargetGroups: COLORS.map((c) => ({ TargetGroupArn: route.targetGroupArns[c], Weight: c === route.initialColor ? 100 : 0 })) },
      }],
    });
    for (const color of COLORS) {
      const info: TargetGroupServiceInfo = { stackName: route.stackName, logicalId: '', targetGroupArn: route.targetGroupArns[color], color };
      this.aws.alb.setTargetHealth(info.targetGroupArn, this.options.targetHealth?.(info) ?? { healthy: this.options.defaultHealthyTargets ?? DEFAULT_HEALTHY_TARGETS });
    }
    const deployed: DeployedLiveRoute = {
      stackName: route.stackName,
      logicalId: '',
      imported: true,
      ruleArn: route.ruleArn,
      listenerArn: route.listenerArn,
      loadBalancerArn: listener.LoadBalancerArn!,
      targetGroupArns: { ...route.targetGroupArns },
      properties: {
        ListenerArn: route.listenerArn, Priority: String(route.priority), BlueTargetGroupArn: route.targetGroupArns.blue,
        GreenTargetGroupArn: route.targetGroupArns.green, InitialColor: route.initialColor, Conditions: JSON.stringify(conditions), StickinessSeconds: '0',
      },
    };
    this.liveRouteList.push(deployed);
    return deployed;
  }

  /** Names of the deployed stacks, in deploy order. */
  stackNames(): string[] {
    return [...this.stacks.keys()];
  }

  template(stackName: string): CfnTemplate {
    return this.stackOrThrow(stackName).template;
  }

  // -- internals ------------------------------------------------------------------------------------------------

  private stackOrThrow(stackName: string): DeployedStack {
    const stack = this.stacks.get(stackName);
    if (!stack) throw new Error(`Deployer: expected a deployed stack named ${stackName}, found ${[...this.stacks.keys()].join(', ') || 'none'}`);
    return stack;
  }

  private resolver(stack: DeployedStack): TemplateResolver {
    return new TemplateResolver(stack.template, this.resolverOptions(stack.stackName));
  }

  private async deployResources(stack: DeployedStack, report: DeployReport, updating: boolean): Promise<void> {
    const resources = stack.template.Resources ?? {};
    for (const logicalId of orderResources(resources)) {
      const resource = resources[logicalId];
      const where = `${stack.stackName}/${logicalId}`;
      const creator = this.creators[resource.Type];
      if (!creator) {
        if (!updating) report.skipped.push(`${where} (${resource.Type})`);
        continue;
      }
      const resolver = this.resolver(stack);
      const props = resolver.resourceProperties(logicalId);
      const fingerprint = JSON.stringify(props);
      const existing = stack.physical.get(logicalId);
      if (existing) {
        if (stack.properties.get(logicalId) === fingerprint) continue;
        const updated = await this.updateResource(stack, logicalId, resource, props, existing);
        if (updated) {
          stack.physical.set(logicalId, updated);
          stack.properties.set(logicalId, fingerprint);
          report.updated.push(where);
        }
        continue;
      }
      const physical = await creator(stack, logicalId, props, resource);
      if (physical) {
        stack.physical.set(logicalId, physical);
        stack.properties.set(logicalId, fingerprint);
        report.created.push(where);
      }
    }
  }

  private async updateResource(stack: DeployedStack, logicalId: string, resource: CfnResource, props: Record<string, unknown>, existing: Physical): Promise<Physical | undefined> {
    switch (resource.Type) {
      case LIVE_ROUTE_TYPE: {
        const route = this.liveRouteList.find((r) => r.stackName === stack.stackName && r.logicalId === logicalId)!;
        const properties = liveRouteProperties(props);
        const out = await liveRouteHandler({
          RequestType: 'Update',
          ResourceProperties: properties,
          OldResourceProperties: route.properties,
          PhysicalResourceId: existing.ref,
          LogicalResourceId: logicalId,
          StackId: this.stackId(stack.stackName),
          ResourceType: LIVE_ROUTE_TYPE,
        } satisfies LiveRouteEvent) as LiveRouteResponse;
        const index = this.liveRouteList.indexOf(route);
        this.liveRouteList[index] = { ...route, ruleArn: out.Data.RuleArn, properties, listenerArn: properties.ListenerArn,
          targetGroupArns: { blue: properties.BlueTargetGroupArn, green: properties.GreenTargetGroupArn } };
        return { ref: out.PhysicalResourceId, attributes: { RuleArn: out.Data.RuleArn } };
      }
      case 'AWS::CloudWatch::Alarm':
      case 'AWS::CloudWatch::CompositeAlarm':
        return this.putAlarm(stack, logicalId, props, resource.Type === 'AWS::CloudWatch::CompositeAlarm');
      default:
        // Other changes (listener, target group settings...) do not move weights; the rehearsal keeps them as first deployed.
        return undefined;
    }
  }

  private collectExports(stack: DeployedStack): void {
    const outputs = (stack.template.Outputs ?? {}) as Record<string, { Value: unknown; Export?: { Name: unknown } }>;
    const resolver = this.resolver(stack);
    for (const [name, output] of Object.entries(outputs)) {
      if (!output.Export) continue;
      this.exportValues[resolver.resolveString(output.Export.Name, `Outputs.${name}.Export.Name of ${stack.stackName}`)] =
        String(resolver.resolve(output.Value));
    }
  }

  private physicalName(stack: DeployedStack, logicalId: string, maxLength = 255): string {
    const raw = `${stack.stackName}-${logicalId}`.replace(/[^A-Za-z0-9-]/g, '-');
    return raw.length <= maxLength ? raw : `${raw.slice(0, maxLength - 9)}-${hash8(raw)}`;
  }

  private createLoadBalancer(stack: DeployedStack, logicalId: string, props: Record<string, unknown>): Physical {
    const name = (props.Name as string | undefined) ?? this.physicalName(stack, logicalId, ALB_NAME_MAX).replace(/^-+|-+$/g, '');
    const lb = this.aws.alb.createLoadBalancer({
      Name: name,
      Type: props.Type as 'application' | undefined,
      Scheme: props.Scheme as 'internet-facing' | undefined,
      Subnets: props.Subnets as string[] | undefined,
      SecurityGroups: props.SecurityGroups as string[] | undefined,
      IpAddressType: props.IpAddressType as 'ipv4' | undefined,
    }).LoadBalancers![0];
    const arn = lb.LoadBalancerArn!;
    return {
      ref: arn,
      attributes: {
        LoadBalancerArn: arn,
        LoadBalancerFullName: arnResourceSuffix(arn),
        LoadBalancerName: lb.LoadBalancerName!,
        DNSName: lb.DNSName ?? `${name}.${this.aws.region}.elb.amazonaws.com`,
        CanonicalHostedZoneID: lb.CanonicalHostedZoneId ?? 'Z35SXDOTRQ7X7K',
      },
    };
  }

  private createListener(props: Record<string, unknown>): Physical {
    const listener = this.aws.alb.createListener({
      LoadBalancerArn: props.LoadBalancerArn as string,
      Port: props.Port === undefined ? undefined : Number(props.Port),
      Protocol: props.Protocol as 'HTTP' | undefined,
      DefaultActions: normalizeNumbers(props.DefaultActions) as Action[],
      Certificates: props.Certificates as never,
      SslPolicy: props.SslPolicy as string | undefined,
    }).Listeners![0];
    return { ref: listener.ListenerArn!, attributes: { ListenerArn: listener.ListenerArn! } };
  }

  private createTargetGroup(stack: DeployedStack, logicalId: string, props: Record<string, unknown>): Physical {
    const num = (key: string) => (props[key] === undefined ? undefined : Number(props[key]));
    const name = (props.Name as string | undefined) ?? this.physicalName(stack, logicalId, ALB_NAME_MAX).replace(/^-+|-+$/g, '');
    const input: CreateTargetGroupInput = {
      Name: name,
      Port: num('Port'),
      Protocol: props.Protocol as 'HTTP' | undefined,
      ProtocolVersion: props.ProtocolVersion as string | undefined,
      VpcId: props.VpcId as string | undefined,
      TargetType: props.TargetType as 'ip' | undefined,
      HealthCheckEnabled: props.HealthCheckEnabled === undefined ? undefined : String(props.HealthCheckEnabled) === 'true',
      HealthCheckIntervalSeconds: num('HealthCheckIntervalSeconds'),
      HealthCheckPath: props.HealthCheckPath as string | undefined,
      HealthCheckPort: props.HealthCheckPort as string | undefined,
      HealthCheckProtocol: props.HealthCheckProtocol as 'HTTP' | undefined,
      HealthCheckTimeoutSeconds: num('HealthCheckTimeoutSeconds'),
      HealthyThresholdCount: num('HealthyThresholdCount'),
      UnhealthyThresholdCount: num('UnhealthyThresholdCount'),
      Matcher: props.Matcher as never,
    };
    const tg = this.aws.alb.createTargetGroup(input).TargetGroups![0];
    const arn = tg.TargetGroupArn!;
    const attributes = (props.TargetGroupAttributes as Array<{ Key: string; Value: unknown }> | undefined) ?? [];
    if (attributes.length > 0) {
      this.aws.alb.modifyTargetGroupAttributes({ TargetGroupArn: arn, Attributes: attributes.map((a) => ({ Key: a.Key, Value: String(a.Value) })) });
    }
    const targets = (props.Targets as Array<{ Id: string; Port?: unknown }> | undefined) ?? [];
    if (targets.length > 0) {
      this.aws.alb.registerTargets({ TargetGroupArn: arn, Targets: targets.map((t) => ({ Id: t.Id, Port: t.Port === undefined ? undefined : Number(t.Port) })) });
    }
    return {
      ref: arn,
      attributes: { TargetGroupArn: arn, TargetGroupFullName: arnResourceSuffix(arn), TargetGroupName: tg.TargetGroupName!, LoadBalancerArns: '' },
    };
  }

  /**
   * A listener the template refers to by ARN instead of creating it (`ApplicationListener.fromApplicationListenerAttributes`,
   * a listener of another team's stack) exists in the account before the deploy: the fake ALB gets it under that ARN.
   */
  private ensureImportedListener(listenerArn: unknown): void {
    if (typeof listenerArn === 'string' && listenerArn.startsWith('arn:')) this.aws.alb.importListener(listenerArn);
  }

  private createListenerRule(props: Record<string, unknown>): Physical {
    this.ensureImportedListener(props.ListenerArn);
    const rule = this.aws.alb.createRule({
      ListenerArn: props.ListenerArn as string,
      Priority: Number(props.Priority),
      Conditions: props.Conditions as RuleCondition[],
      Actions: normalizeNumbers(props.Actions) as Action[],
    }).Rules![0];
    return { ref: rule.RuleArn!, attributes: { RuleArn: rule.RuleArn!, IsDefault: 'false' } };
  }

  private putAlarm(stack: DeployedStack, logicalId: string, props: Record<string, unknown>, composite: boolean): Physical {
    const name = (props.AlarmName as string | undefined) ?? this.physicalName(stack, logicalId);
    const input = { ...normalizeNumbers(props) as Record<string, unknown>, AlarmName: name };
    if (composite) this.aws.cloudwatch.putCompositeAlarm(input as never);
    else this.aws.cloudwatch.putMetricAlarm(input as never);
    const described = this.aws.cloudwatch.describeAlarms({ AlarmNames: [name], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    const arn = [...(described.MetricAlarms ?? []), ...(described.CompositeAlarms ?? [])][0]?.AlarmArn
      ?? `arn:aws:cloudwatch:${this.aws.region}:${this.aws.accountId}:alarm:${name}`;
    return { ref: name, attributes: { Arn: arn, AlarmName: name } };
  }

  private createTable(stack: DeployedStack, logicalId: string, props: Record<string, unknown>): Physical {
    const name = (props.TableName as string | undefined) ?? this.physicalName(stack, logicalId);
    this.aws.dynamodb.createTable({
      TableName: name,
      KeySchema: props.KeySchema as never,
      AttributeDefinitions: props.AttributeDefinitions as never,
      BillingMode: (props.BillingMode as 'PAY_PER_REQUEST' | undefined) ?? 'PAY_PER_REQUEST',
    });
    return { ref: name, attributes: { Arn: `arn:aws:dynamodb:${this.aws.region}:${this.aws.accountId}:table/${name}` } };
  }

  /** The stack's id as CloudFormation sends it with every custom-resource request (an ARN naming the stack). */
  private stackId(stackName: string): string {
    return `arn:aws:cloudformation:${this.aws.region}:${this.aws.accountId}:stack/${stackName}/rehearsal`;
  }

  private async createLiveRoute(stack: DeployedStack, logicalId: string, props: Record<string, unknown>): Promise<Physical> {
    const properties = liveRouteProperties(props);
    this.ensureImportedListener(properties.ListenerArn);
    const out = await liveRouteHandler({
      RequestType: 'Create',
      ResourceProperties: properties,
      LogicalResourceId: logicalId,
      StackId: this.stackId(stack.stackName),
      ResourceType: LIVE_ROUTE_TYPE,
    }) as LiveRouteResponse;
    const listener = this.aws.alb.describeListeners({ ListenerArns: [properties.ListenerArn] }).Listeners![0];
    this.liveRouteList.push({
      stackName: stack.stackName,
      logicalId,
      ruleArn: out.Data.RuleArn,
      listenerArn: properties.ListenerArn,
      loadBalancerArn: listener.LoadBalancerArn!,
      targetGroupArns: { blue: properties.BlueTargetGroupArn, green: properties.GreenTargetGroupArn },
      properties,
    });
    return { ref: out.PhysicalResourceId, attributes: { RuleArn: out.Data.RuleArn } };
  }

  /** Registers the simulated services' targets: ECS DesiredCount per target group, or the scenario's override. */
  private applyTargetHealth(): void {
    const desired = new Map<string, number>();
    for (const stack of this.stacks.values()) {
      const resolver = this.resolver(stack);
      for (const { logicalId } of resolver.resourcesOfType('AWS::ECS::Service')) {
        const props = resolver.resourceProperties(logicalId);
        const count = props.DesiredCount === undefined ? 1 : Number(props.DesiredCount);
        for (const lb of (props.LoadBalancers as Array<{ TargetGroupArn?: string }> | undefined) ?? []) {
          if (lb.TargetGroupArn) desired.set(lb.TargetGroupArn, (desired.get(lb.TargetGroupArn) ?? 0) + count);
        }
      }
    }
    for (const stack of this.stacks.values()) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
        if (resource.Type !== 'AWS::ElasticLoadBalancingV2::TargetGroup') continue;
        const arn = stack.physical.get(logicalId)?.ref;
        if (!arn) continue;
        const route = this.liveRouteList.find((r) => COLORS.some((c) => r.targetGroupArns[c] === arn));
        const info: TargetGroupServiceInfo = {
          stackName: stack.stackName,
          logicalId,
          targetGroupArn: arn,
          color: route ? COLORS.find((c) => route.targetGroupArns[c] === arn) : undefined,
          desiredCount: desired.get(arn),
        };
        const counts = this.options.targetHealth?.(info)
          ?? { healthy: info.desiredCount ?? this.options.defaultHealthyTargets ?? DEFAULT_HEALTHY_TARGETS };
        this.aws.alb.setTargetHealth(arn, counts);
      }
    }
  }
}

/** CloudFormation passes every custom-resource property as a string. */
function liveRouteProperties(props: Record<string, unknown>): LiveRouteProperties {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(props)) {
    if (key === 'ServiceToken') continue;
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return out as unknown as LiveRouteProperties;
}

/** CloudFormation accepts numbers as strings ("404", "60"); the API wants numbers in a few places. */
function normalizeNumbers(value: unknown): unknown {
  const NUMERIC = new Set(['Weight', 'DurationSeconds', 'Port', 'Period', 'EvaluationPeriods', 'DatapointsToAlarm', 'Threshold']);
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (key && NUMERIC.has(key) && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    return v;
  };
  return walk(value);
}

/** Stacks in an order where every Fn::ImportValue is exported by a stack before it. */
export function orderStacks(stacks: readonly StackTemplate[]): StackTemplate[] {
  const exportsOf = new Map<string, Set<string>>();
  for (const s of stacks) {
    const names = new Set<string>();
    for (const output of Object.values((s.template.Outputs ?? {}) as Record<string, { Export?: { Name?: unknown } }>)) {
      const name = output.Export?.Name;
      if (typeof name === 'string') names.add(name);
      else if (name !== undefined) names.add(JSON.stringify(name).replace(/\{"Ref":"AWS::StackName"\}/g, JSON.stringify(s.stackName)));
    }
    exportsOf.set(s.stackName, names);
  }
  const importsOf = (s: StackTemplate): string[] => {
    const found: string[] = [];
    walkJson(s.template.Resources, (node) => {
      const v = (node as Record<string, unknown>)['Fn::ImportValue'];
      if (typeof v === 'string') found.push(v);
    });
    return found;
  };
  const ordered: StackTemplate[] = [];
  const remaining = [...stacks];
  while (remaining.length > 0) {
    const provided = new Set(ordered.flatMap((s) => [...exportsOf.get(s.stackName)!]));
    const index = remaining.findIndex((s) => importsOf(s).every((name) => provided.has(name) || !stacks.some((o) => exportsOf.get(o.stackName)!.has(name))));
    if (index < 0) throw new Error(`Deployer: the stacks ${remaining.map((s) => s.stackName).join(', ')} import each other's exports in a cycle`);
    ordered.push(remaining.splice(index, 1)[0]);
  }
  return ordered;
}

/** Logical ids in an order where every resource comes after the resources it references. */
export function orderResources(resources: Readonly<Record<string, CfnResource>>): string[] {
  const deps = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const set = new Set<string>();
    const dependsOn = resource.DependsOn;
    for (const d of Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) set.add(String(d));
    walkJson(resource.Properties, (node) => {
      const obj = node as Record<string, unknown>;
      if (typeof obj.Ref === 'string') set.add(obj.Ref);
      const getAtt = obj['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') set.add(getAtt[0]);
      if (typeof getAtt === 'string') set.add(getAtt.split('.')[0]);
      const sub = obj['Fn::Sub'];
      const text = typeof sub === 'string' ? sub : Array.isArray(sub) && typeof sub[0] === 'string' ? sub[0] : undefined;
      for (const m of text?.matchAll(/\$\{([^!}][^}.]*)/g) ?? []) set.add(m[1].trim());
    });
    deps.set(id, new Set([...set].filter((d) => d in resources && d !== id)));
  }
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string): void => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`Deployer: resource ${id} takes part in a reference cycle`);
    state.set(id, 'visiting');
    for (const d of deps.get(id)!) visit(d);
    state.set(id, 'done');
    ordered.push(id);
  };
  for (const id of Object.keys(resources)) visit(id);
  return ordered;
}

function walkJson(value: unknown, visit: (node: object) => void): void {
  if (Array.isArray(value)) {
    for (const v of value) walkJson(v, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(value);
    for (const v of Object.values(value)) walkJson(v, visit);
  }
}

function hash8(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
