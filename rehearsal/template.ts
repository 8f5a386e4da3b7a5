import { createHash } from 'node:crypto';
import type { AslDefinition } from './asl';

/**
 * Reads a synthesized CloudFormation template the way CloudFormation would deploy it: every
 * intrinsic (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::If, ...) and pseudo parameter is resolved to a
 * string, with physical ids from a pluggable resolver or, by default, placeholders of the right
 * shape for the resource type (a Lambda function's Arn is arn:aws:lambda:<region>:<account>:function:<LogicalId>).
 */

/** One resource of a CloudFormation template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly [key: string]: unknown;
}

/** A synthesized CloudFormation template (Template.fromStack(stack).toJSON(), or the stack artifact's template). */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Type?: string; readonly Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Conditions?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/**
 * Gives the physical value of `Ref` (attribute undefined) or `Fn::GetAtt` (attribute set) for a
 * resource of the template. Return undefined to fall back to the default placeholder.
 */
export type PhysicalIdResolver = (logicalId: string, attribute: string | undefined, resource: CfnResource) => string | undefined;

/** The deployment environment placeholders are rendered for. */
export interface RehearsalEnvironment {
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'RehearsalStack' */
  readonly stackName?: string;
}

export interface TemplateResolverOptions extends RehearsalEnvironment {
  /** Physical ids of the template's resources. @default - placeholders (see placeholderValue) */
  readonly resolver?: PhysicalIdResolver;
  /** Values of template parameters. @default - each parameter's Default */
  readonly parameters?: Readonly<Record<string, string>>;
  /** Values of Fn::ImportValue by export name. @default - Fn::ImportValue is an error */
  readonly imports?: Readonly<Record<string, string>>;
}

/** The defaults of RehearsalEnvironment. */
export const DEFAULT_ENVIRONMENT: Required<RehearsalEnvironment> = {
  region: 'us-east-1',
  accountId: '123456789012',
  partition: 'aws',
  stackName: 'RehearsalStack',
};

/** Type of the resource CDK's CfnJson renders: its Value attribute is the JSON text of its Value property. */
const CFN_JSON_RESOURCE_TYPE = 'Custom::AWSCDKCfnJson';

/** Hex characters of the deterministic ids in placeholder ARNs (ALB ids are 16 hex characters). */
const PLACEHOLDER_HASH_LENGTH = 16;

/** Marks a value that resolved to AWS::NoValue: the enclosing key or array item is dropped. */
const NO_VALUE = Symbol('AWS::NoValue');

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, PLACEHOLDER_HASH_LENGTH);
}

/**
 * The placeholder physical value of a resource's Ref (attribute undefined) or Fn::GetAtt.
 * Shapes follow what CloudFormation returns for each type (an SNS topic's Ref is its ARN, a
 * DynamoDB table's Ref its name, ...); unknown types get the logical id for Ref and
 * "<LogicalId>.<Attribute>" for attributes.
 */
export function placeholderValue(type: string, logicalId: string, attribute: string | undefined, environment: RehearsalEnvironment = {}): string {
  const env = { ...DEFAULT_ENVIRONMENT, ...environment };
  const { region, accountId, partition } = env;
  const arn = (service: string, resource: string, withRegion = true, withAccount = true): string =>
    `arn:${partition}:${service}:${withRegion ? region : ''}:${withAccount ? accountId : ''}:${resource}`;
  const attr = attribute ?? 'Ref';
  const pick = (values: Record<string, string>): string => values[attr] ?? `${logicalId}.${attr}`;
  const hash = hashOf(logicalId);
  switch (type) {
    case 'AWS::Lambda::Function':
      return pick({ Ref: logicalId, Arn: arn('lambda', `function:${logicalId}`) });
    case 'AWS::Lambda::Alias':
    case 'AWS::Lambda::Version':
      return pick({ Ref: arn('lambda', `function:${logicalId}:1`), Version: '1' });
    case 'AWS::SNS::Topic':
      return pick({ Ref: arn('sns', logicalId), TopicArn: arn('sns', logicalId), TopicName: logicalId });
    case 'AWS::SQS::Queue':
      return pick({
        Ref: `https://sqs.${region}.amazonaws.com/${accountId}/${logicalId}`,
        QueueUrl: `https://sqs.${region}.amazonaws.com/${accountId}/${logicalId}`,
        Arn: arn('sqs', logicalId),
        QueueName: logicalId,
      });
    // CloudFormation User Guide, AWS::CodeBuild::ReportGroup and ::Project return values: a report group's Ref is its
    // ARN; a project's Ref is its name.
    case 'AWS::CodeBuild::ReportGroup':
      return pick({ Ref: arn('codebuild', `report-group/${logicalId}`), Arn: arn('codebuild', `report-group/${logicalId}`), Name: logicalId });
    case 'AWS::CodeBuild::Project':
      return pick({ Ref: logicalId, Arn: arn('codebuild', `project/${logicalId}`) });
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return pick({
        Ref: logicalId,
        Arn: arn('dynamodb', `table/${logicalId}`),
        StreamArn: arn('dynamodb', `table/${logicalId}/stream/2026-01-01T00:00:00.000`),
      });
    case 'AWS::Events::EventBus':
      return pick({ Ref: logicalId, Name: logicalId, Arn: arn('events', `event-bus/${logicalId}`) });
    case 'AWS::Events::Rule':
      return pick({ Ref: logicalId, Arn: arn('events', `rule/${logicalId}`) });
    case 'AWS::IAM::Role':
      return pick({ Ref: logicalId, Arn: arn('iam', `role/${logicalId}`, false), RoleId: `AROA${hash.toUpperCase()}` });
    case 'AWS::IAM::Policy':
    case 'AWS::IAM::ManagedPolicy':
      return pick({ Ref: arn('iam', `policy/${logicalId}`, false), PolicyArn: arn('iam', `policy/${logicalId}`, false) });
    case 'AWS::StepFunctions::StateMachine':
      return pick({ Ref: arn('states', `stateMachine:${logicalId}`), Arn: arn('states', `stateMachine:${logicalId}`), Name: logicalId });
    case 'AWS::StepFunctions::Activity':
      return pick({ Ref: arn('states', `activity:${logicalId}`), Arn: arn('states', `activity:${logicalId}`), Name: logicalId });
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
      const fullName = `app/${logicalId}/${hash}`;
      return pick({
        Ref: arn('elasticloadbalancing', `loadbalancer/${fullName}`),
        LoadBalancerArn: arn('elasticloadbalancing', `loadbalancer/${fullName}`),
        LoadBalancerFullName: fullName,
        LoadBalancerName: logicalId,
        DNSName: `${logicalId}-${hash}.${region}.elb.amazonaws.com`.toLowerCase(),
        CanonicalHostedZoneID: 'Z35SXDOTRQ7X7K',
      });
    }
    case 'AWS::ElasticLoadBalancingV2::TargetGroup': {
      const fullName = `targetgroup/${logicalId}/${hash}`;
      return pick({
        Ref: arn('elasticloadbalancing', fullName),
        TargetGroupArn: arn('elasticloadbalancing', fullName),
        TargetGroupFullName: fullName,
        TargetGroupName: logicalId,
      });
    }
    case 'AWS::ElasticLoadBalancingV2::Listener':
      return pick({
        Ref: arn('elasticloadbalancing', `listener/app/${logicalId}/${hash}/${hashOf(`${logicalId}/listener`)}`),
        ListenerArn: arn('elasticloadbalancing', `listener/app/${logicalId}/${hash}/${hashOf(`${logicalId}/listener`)}`),
      });
    case 'AWS::ElasticLoadBalancingV2::ListenerRule':
      return pick({
        Ref: arn('elasticloadbalancing', `listener-rule/app/${logicalId}/${hash}/${hashOf(`${logicalId}/listener`)}/${hashOf(`${logicalId}/rule`)}`),
        RuleArn: arn('elasticloadbalancing', `listener-rule/app/${logicalId}/${hash}/${hashOf(`${logicalId}/listener`)}/${hashOf(`${logicalId}/rule`)}`),
      });
    case 'AWS::CloudWatch::Alarm':
    case 'AWS::CloudWatch::CompositeAlarm':
      return pick({ Ref: logicalId, Arn: arn('cloudwatch', `alarm:${logicalId}`), AlarmName: logicalId });
    case 'AWS::Logs::LogGroup':
      return pick({ Ref: logicalId, Arn: arn('logs', `log-group:${logicalId}:*`) });
    case 'AWS::S3::Bucket':
      return pick({
        Ref: logicalId.toLowerCase(),
        Arn: `arn:${partition}:s3:::${logicalId.toLowerCase()}`,
        DomainName: `${logicalId.toLowerCase()}.s3.amazonaws.com`,
        RegionalDomainName: `${logicalId.toLowerCase()}.s3.${region}.amazonaws.com`,
      });
    case 'AWS::KMS::Key':
      return pick({ Ref: hash, KeyId: hash, Arn: arn('kms', `key/${hash}`) });
    case 'AWS::SecretsManager::Secret':
      return pick({ Ref: arn('secretsmanager', `secret:${logicalId}-${hash.slice(0, 6)}`), Id: arn('secretsmanager', `secret:${logicalId}-${hash.slice(0, 6)}`) });
    case 'AWS::EC2::SecurityGroup':
      return pick({ Ref: `sg-${hash}`, GroupId: `sg-${hash}`, VpcId: `vpc-${hashOf('vpc')}` });
    case 'AWS::EC2::VPC':
      return pick({ Ref: `vpc-${hash}`, VpcId: `vpc-${hash}`, CidrBlock: '10.0.0.0/16' });
    case 'AWS::EC2::Subnet':
      return pick({ Ref: `subnet-${hash}`, SubnetId: `subnet-${hash}` });
    default:
      return attr === 'Ref' ? logicalId : `${logicalId}.${attr}`;
  }
}

/** A function `CfnTemplate -> value` with every intrinsic and pseudo parameter resolved. */
export class TemplateResolver {
  private readonly env: Required<RehearsalEnvironment>;
  private readonly resources: Record<string, CfnResource>;
  private readonly conditionCache = new Map<string, boolean>();

  constructor(readonly template: CfnTemplate, private readonly options: TemplateResolverOptions = {}) {
    this.env = {
      region: options.region ?? DEFAULT_ENVIRONMENT.region,
      accountId: options.accountId ?? DEFAULT_ENVIRONMENT.accountId,
      partition: options.partition ?? DEFAULT_ENVIRONMENT.partition,
      stackName: options.stackName ?? DEFAULT_ENVIRONMENT.stackName,
    };
    this.resources = template.Resources ?? {};
  }

  /** The environment placeholders are rendered for. */
  get environment(): Required<RehearsalEnvironment> {
    return this.env;
  }

  /** The resource with this logical id; throws naming the id when the template has none. */
  resource(logicalId: string): CfnResource {
    const resource = this.resources[logicalId];
    if (!resource) {
      throw new Error(`Template: expected a resource with logical id "${logicalId}", found none (resources: ${Object.keys(this.resources).join(', ') || 'none'})`);
    }
    return resource;
  }

  /** Logical ids and resources, optionally of one type, in template order. */
  resourcesOfType(type?: string): Array<{ readonly logicalId: string; readonly resource: CfnResource }> {
    return Object.entries(this.resources)
      .filter(([, resource]) => type === undefined || resource.Type === type)
      .map(([logicalId, resource]) => ({ logicalId, resource }));
  }

  /** What `{ Ref: logicalId }` resolves to (a resource, a template parameter or a pseudo parameter). */
  ref(logicalId: string): string {
    const pseudo = this.pseudoParameter(logicalId);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter) {
      const value = this.options.parameters?.[logicalId] ?? parameter.Default;
      if (value === undefined) {
        throw new Error(`Template: parameter "${logicalId}" has no Default; pass its value in options.parameters`);
      }
      return String(value);
    }
    const resource = this.resource(logicalId);
    return this.options.resolver?.(logicalId, undefined, resource) ?? placeholderValue(resource.Type, logicalId, undefined, this.env);
  }

  /** What `{ "Fn::GetAtt": [logicalId, attribute] }` resolves to. */
  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const given = this.options.resolver?.(logicalId, attribute, resource);
    if (given !== undefined) return given;
    if (resource.Type === CFN_JSON_RESOURCE_TYPE && attribute === 'Value') {
      return JSON.stringify(this.resolve(resource.Properties?.Value));
    }
    return placeholderValue(resource.Type, logicalId, attribute, this.env);
  }

  /** The resource's Properties with every intrinsic resolved. */
  resourceProperties(logicalId: string): Record<string, unknown> {
    return (this.resolve(this.resource(logicalId).Properties ?? {}) ?? {}) as Record<string, unknown>;
  }

  /** Deep-resolves every intrinsic function in `value`. */
  resolve(value: unknown): unknown {
    const resolved = this.resolveValue(value, '');
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Deep-resolves `value` and requires a string. */
  resolveString(value: unknown, where: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') {
      throw new Error(`Template: expected ${where} to resolve to a string, got ${JSON.stringify(resolved)}`);
    }
    return resolved;
  }

  private pseudoParameter(name: string): string | undefined {
    const { region, accountId, partition, stackName } = this.env;
    switch (name) {
      case 'AWS::Region': return region;
      case 'AWS::AccountId': return accountId;
      case 'AWS::Partition': return partition;
      case 'AWS::StackName': return stackName;
      case 'AWS::StackId': return `arn:${partition}:cloudformation:${region}:${accountId}:stack/${stackName}/${hashOf(stackName)}`;
      case 'AWS::URLSuffix': return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
      case 'AWS::NotificationARNs': return '';
      default: return undefined;
    }
  }

  private resolveValue(value: unknown, path: string): unknown {
    if (Array.isArray(value)) {
      return value.map((item, i) => this.resolveValue(item, `${path}[${i}]`)).filter((item) => item !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && isIntrinsicKey(entries[0][0])) {
      return this.intrinsic(entries[0][0], entries[0][1], path);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.resolveValue(item, path ? `${path}.${key}` : key);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(name: string, args: unknown, path: string): unknown {
    const where = path ? ` at ${path}` : '';
    switch (name) {
      case 'Ref': {
        if (args === 'AWS::NoValue') return NO_VALUE;
        return this.ref(asString(args, `Ref${where}`));
      }
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = typeof args === 'string' ? args.split('.') : asArray(args, `Fn::GetAtt${where}`).map((a) => this.resolveString(a, `Fn::GetAtt${where}`));
        return this.getAtt(logicalId, attribute.join('.'));
      }
      case 'Fn::Join': {
        const [delimiter, items] = asArray(args, `Fn::Join${where}`);
        const list = this.resolveValue(items, path);
        return asArray(list, `Fn::Join list${where}`).map((item) => this.stringOf(item, `Fn::Join${where}`)).join(asString(delimiter, `Fn::Join delimiter${where}`));
      }
      case 'Fn::Sub':
        return this.sub(args, where);
      case 'Fn::Select': {
        const [index, list] = asArray(args, `Fn::Select${where}`);
        const items = asArray(this.resolveValue(list, path), `Fn::Select list${where}`);
        const i = Number(this.resolve(index));
        if (!Number.isInteger(i) || i < 0 || i >= items.length) {
          throw new Error(`Template: Fn::Select${where} expected an index within 0..${items.length - 1}, got ${JSON.stringify(index)}`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, source] = asArray(args, `Fn::Split${where}`);
        return this.resolveString(source, `Fn::Split source${where}`).split(asString(delimiter, `Fn::Split delimiter${where}`));
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = asArray(args, `Fn::If${where}`);
        return this.resolveValue(this.condition(asString(condition, `Fn::If condition${where}`)) ? whenTrue : whenFalse, path);
      }
      case 'Fn::Equals': case 'Fn::And': case 'Fn::Or': case 'Fn::Not': case 'Condition':
        return this.evaluateCondition({ [name]: args }, where);
      case 'Fn::Base64':
        return Buffer.from(this.resolveString(args, `Fn::Base64${where}`), 'utf8').toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.env.region}${zone}`);
      case 'Fn::FindInMap': {
        const [map, top, second] = asArray(args, `Fn::FindInMap${where}`).map((a) => this.resolveString(a, `Fn::FindInMap${where}`));
        const found = this.template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) throw new Error(`Template: Fn::FindInMap${where} found no ${map}.${top}.${second}`);
        return this.resolveValue(found, path);
      }
      case 'Fn::ImportValue': {
        const exportName = this.resolveString(args, `Fn::ImportValue${where}`);
        const imported = this.options.imports?.[exportName];
        if (imported === undefined) {
          throw new Error(`Template: Fn::ImportValue${where} needs the value of export "${exportName}"; pass it in options.imports`);
        }
        return imported;
      }
      case 'Fn::ToJsonString':
        return JSON.stringify(this.resolve(args));
      default:
        throw new Error(`Template: intrinsic function ${name}${where} is not supported by the rehearsal`);
    }
  }

  private stringOf(value: unknown, where: string): string {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new Error(`Template: ${where} expected strings to join, got ${JSON.stringify(value)}`);
  }

  private sub(args: unknown, where: string): string {
    const [text, variables] = typeof args === 'string' ? [args, {}] : asArray(args, `Fn::Sub${where}`);
    const vars = (this.resolve(variables ?? {}) ?? {}) as Record<string, unknown>;
    return asString(text, `Fn::Sub${where}`).replace(/\$\{(!?)([^}]*)\}/g, (_match, bang: string, name: string) => {
      if (bang) return `\${${name}}`;
      const trimmed = name.trim();
      if (trimmed in vars) return this.stringOf(vars[trimmed], `Fn::Sub variable ${trimmed}${where}`);
      const dot = trimmed.indexOf('.');
      if (dot > 0 && !trimmed.startsWith('AWS::')) return this.getAtt(trimmed.slice(0, dot), trimmed.slice(dot + 1));
      return this.ref(trimmed);
    });
  }

  private condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`Template: condition "${name}" is not defined in Conditions`);
    const result = this.evaluateCondition(definition, ` in condition ${name}`);
    this.conditionCache.set(name, result);
    return result;
  }

  private evaluateCondition(expression: unknown, where: string): boolean {
    const [name, args] = Object.entries(expression as Record<string, unknown>)[0] ?? [];
    switch (name) {
      case 'Condition':
        return this.condition(asString(args, `Condition${where}`));
      case 'Fn::Equals': {
        const [a, b] = asArray(args, `Fn::Equals${where}`).map((v) => this.resolve(v));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::And':
        return asArray(args, `Fn::And${where}`).every((c) => this.evaluateCondition(c, where));
      case 'Fn::Or':
        return asArray(args, `Fn::Or${where}`).some((c) => this.evaluateCondition(c, where));
      case 'Fn::Not':
        return !this.evaluateCondition(asArray(args, `Fn::Not${where}`)[0], where);
      default:
        throw new Error(`Template: expected a condition function${where}, got ${JSON.stringify(expression)}`);
    }
  }
}

function isIntrinsicKey(key: string): boolean {
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::');
}

function asArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`Template: ${where} expected an array, got ${JSON.stringify(value)}`);
  return value;
}

function asString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`Template: ${where} expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** A state machine of a template, with its definition resolved to ASL. */
export interface TemplateStateMachine {
  readonly logicalId: string;
  /** The resolved Amazon States Language definition. */
  readonly definition: AslDefinition;
  /** Physical ARN (resolver or placeholder). */
  readonly stateMachineArn: string;
  /** Physical name (resolver or placeholder). */
  readonly name: string;
  /** The resource's other Properties, resolved (RoleArn, StateMachineType, LoggingConfiguration...). */
  readonly properties: Record<string, unknown>;
}

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';

/** Every AWS::StepFunctions::StateMachine of the template, with its definition resolved to ASL. */
export function stateMachinesOf(template: CfnTemplate, options: TemplateResolverOptions = {}): TemplateStateMachine[] {
  const resolver = new TemplateResolver(template, options);
  return resolver.resourcesOfType(STATE_MACHINE_TYPE).map(({ logicalId }) => resolveStateMachine(resolver, logicalId));
}

/**
 * The state machine with this logical id or, when `logicalId` is omitted, the template's only
 * state machine (an error when there are none or several).
 */
export function stateMachineOf(template: CfnTemplate, logicalId?: string, options: TemplateResolverOptions = {}): TemplateStateMachine {
  const resolver = new TemplateResolver(template, options);
  const candidates = resolver.resourcesOfType(STATE_MACHINE_TYPE).map((r) => r.logicalId);
  if (logicalId === undefined) {
    if (candidates.length !== 1) {
      throw new Error(`Template: expected exactly one ${STATE_MACHINE_TYPE}, found ${candidates.length} (${candidates.join(', ') || 'none'}); pass a logical id`);
    }
    return resolveStateMachine(resolver, candidates[0]);
  }
  const resource = resolver.resource(logicalId);
  if (resource.Type !== STATE_MACHINE_TYPE) {
    throw new Error(`Template: expected "${logicalId}" to be a ${STATE_MACHINE_TYPE}, found ${resource.Type}`);
  }
  return resolveStateMachine(resolver, logicalId);
}

/** Resolves one state machine resource of `resolver`'s template. */
export function resolveStateMachine(resolver: TemplateResolver, logicalId: string): TemplateStateMachine {
  const raw = resolver.resource(logicalId).Properties ?? {};
  const { DefinitionString, Definition, DefinitionS3Location, DefinitionSubstitutions, ...rest } = raw as Record<string, unknown>;
  const substitutions = (resolver.resolve(DefinitionSubstitutions ?? {}) ?? {}) as Record<string, unknown>;
  let definition: unknown;
  if (DefinitionString !== undefined) {
    const text = substitute(resolver.resolveString(DefinitionString, `DefinitionString of ${logicalId}`), substitutions);
    try {
      definition = JSON.parse(text);
    } catch (err) {
      throw new Error(`Template: the DefinitionString of ${logicalId} is not valid JSON once resolved (${(err as Error).message}): ${text.slice(0, 200)}`, { cause: err });
    }
  } else if (Definition !== undefined) {
    definition = JSON.parse(substitute(JSON.stringify(resolver.resolve(Definition)), substitutions));
  } else if (DefinitionS3Location !== undefined) {
    throw new Error(`Template: ${logicalId} keeps its definition in S3 (DefinitionS3Location); the rehearsal needs DefinitionString or Definition in the template`);
  } else {
    throw new Error(`Template: ${logicalId} has neither DefinitionString nor Definition`);
  }
  return {
    logicalId,
    definition: definition as AslDefinition,
    stateMachineArn: resolver.ref(logicalId),
    name: resolver.getAtt(logicalId, 'Name'),
    properties: (resolver.resolve(rest) ?? {}) as Record<string, unknown>,
  };
}

function substitute(text: string, substitutions: Record<string, unknown>): string {
  return text.replace(/\$\{([^}]+)\}/g, (match, key: string) => (key in substitutions ? String(substitutions[key]) : match));
}
