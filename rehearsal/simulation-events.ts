/**
 * The rehearsal's EventBridge: the AWS::Events::Rule resources of the deployed stacks, honoured. An event that
 * reaches a bus (the state machine's events:putEvents, a handler's PutEvents, or the "Step Functions Execution
 * Status Change" the simulation emits when an execution ends) is matched against every enabled rule of that bus
 * (rehearsal/event-patterns.ts); each Lambda target of a matching rule is invoked with the rule's Input, InputPath
 * or InputTransformer, on the virtual clock, through the function's bound handler (the library's real code).
 *
 * Delivery is asynchronous, as in AWS: a publisher never waits for the targets. `drain()` waits for every delivery
 * under way (the simulation calls it when an execution ends). EventBridge invokes Lambda asynchronously, so a target
 * that throws is retried by Lambda's asynchronous invocation (twice by default, or the function's
 * AWS::Lambda::EventInvokeConfig MaximumRetryAttempts), a minute and then two minutes later.
 *
 * Not simulated: targets other than Lambda functions (SQS, SNS, Step Functions...: reported once on the timeline),
 * scheduled rules (ScheduleExpression), dead-letter queues, archives and replays, cross-account buses.
 */
import type { Clock } from '../lambda/shared/clock';
import type { RecordedEvent } from './fakes';
import { EventPattern, parseEventPattern, matchesEventPattern } from './event-patterns';
import { functionNameOfArn } from './resources';
import type { LambdaFunctionHandler } from './runner';
import { CfnTemplate, DEFAULT_ENVIRONMENT, TemplateResolver, TemplateResolverOptions } from './template';

/** Typical time from PutEvents (or a Step Functions status change) to the target's invocation. */
export const EVENT_DELIVERY_MS = 500;
/** Lambda's asynchronous invocation retries a failed invocation this many times unless configured otherwise. */
export const DEFAULT_ASYNC_RETRY_ATTEMPTS = 2;
/** Delays before Lambda's asynchronous retries (about one minute, then about two minutes). */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;
export const STATES_EVENT_SOURCE = 'aws.states';
export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';
const DEFAULT_BUS = 'default';
const RULE_TYPE = 'AWS::Events::Rule';
const EVENT_INVOKE_CONFIG_TYPE = 'AWS::Lambda::EventInvokeConfig';

/** An event as EventBridge delivers it to targets. */
export interface BusEvent {
  readonly 'version': '0';
  readonly 'id': string;
  readonly 'detail-type': string;
  readonly 'source': string;
  readonly 'account': string;
  /** ISO-8601, seconds precision (as EventBridge). */
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': readonly string[];
  readonly 'detail': Record<string, unknown>;
}

/** An InputTransformer of a rule target. */
export interface InputTransformer {
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  readonly InputTemplate: string;
}

/** One target of a rule, as the template declares it (resolved). */
export interface EventRuleTarget {
  readonly Id: string;
  readonly Arn: string;
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: InputTransformer;
}

/** One AWS::Events::Rule of a deployed stack. */
export interface EventRule {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly eventBusName: string;
  readonly enabled: boolean;
  /** Absent for scheduled rules. */
  readonly pattern?: EventPattern;
  readonly targets: readonly EventRuleTarget[];
}

/** One invocation of a rule's Lambda target. */
export interface RuleInvocation {
  readonly rule: string;
  readonly ruleLogicalId: string;
  readonly stackName: string;
  readonly targetId: string;
  readonly functionName: string;
  /** The library handler the function runs (cdk-zero-downtime:handler metadata), when known. */
  readonly handlerName?: string;
  readonly event: BusEvent;
  readonly input: unknown;
  /** 1 for the first invocation, 2 for Lambda's first asynchronous retry... */
  readonly attempt: number;
  /** Epoch ms (virtual) when the invocation started and ended. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly result?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** The execution the event is about (detail.executionArn or detail.execution), when it names one. */
  readonly executionArn?: string;
}

/** What the bus needs from the simulated world. */
export interface SimulatedEventBridgeOptions {
  readonly clock: Clock;
  readonly region: string;
  readonly accountId: string;
  readonly rules: readonly EventRule[];
  /** The bound handler of a Lambda function (by name), or undefined when the function is not simulated. */
  readonly lambda: (stackName: string, functionName: string) => { handler: LambdaFunctionHandler; handlerName?: string } | undefined;
  /** Lambda asynchronous retries per function name. @default DEFAULT_ASYNC_RETRY_ATTEMPTS */
  readonly asyncRetryAttempts?: (stackName: string, functionName: string) => number | undefined;
  /** A line for the timeline (kind 'note' or 'event'), at epoch ms. */
  readonly onTimeline?: (at: number, kind: 'note' | 'event', text: string) => void;
}

/** Every AWS::Events::Rule of a template, resolved (patterns parsed and validated). */
export function eventRulesOf(stackName: string, template: CfnTemplate, options: TemplateResolverOptions = {}): EventRule[] {
  const resolver = new TemplateResolver(template, options);
  return resolver.resourcesOfType(RULE_TYPE).map(({ logicalId }) => {
    const props = resolver.resourceProperties(logicalId);
    const name = typeof props.Name === 'string' ? props.Name : `${stackName}-${logicalId}`;
    const eventBusName = busName(typeof props.EventBusName === 'string' ? props.EventBusName : DEFAULT_BUS);
    const pattern = props.EventPattern === undefined ? undefined : withRuleContext(() => parseEventPattern(props.EventPattern as never), stackName, logicalId);
    return {
      stackName,
      logicalId,
      name,
      arn: `arn:${options.partition ?? DEFAULT_ENVIRONMENT.partition}:events:${options.region ?? DEFAULT_ENVIRONMENT.region}:${options.accountId ?? DEFAULT_ENVIRONMENT.accountId}:rule/${eventBusName === DEFAULT_BUS ? '' : `${eventBusName}/`}${name}`,
      eventBusName,
      enabled: props.State === undefined || String(props.State).startsWith('ENABLED'),
      pattern,
      targets: ((props.Targets as EventRuleTarget[] | undefined) ?? []).map((t) => ({ ...t, Arn: String(t.Arn), Id: String(t.Id) })),
    };
  });
}

/** MaximumRetryAttempts of the template's AWS::Lambda::EventInvokeConfig resources, by function name. */
export function asyncRetryAttemptsOf(template: CfnTemplate, options: TemplateResolverOptions = {}): Map<string, number> {
  const resolver = new TemplateResolver(template, options);
  const out = new Map<string, number>();
  for (const { logicalId } of resolver.resourcesOfType(EVENT_INVOKE_CONFIG_TYPE)) {
    const props = resolver.resourceProperties(logicalId);
    if (props.MaximumRetryAttempts === undefined) continue;
    const fn = String(props.FunctionName);
    out.set(functionNameOfArn(fn) ?? fn, Number(props.MaximumRetryAttempts));
  }
  return out;
}

function withRuleContext<T>(f: () => T, stackName: string, logicalId: string): T {
  try {
    return f();
  } catch (err) {
    (err as Error).message = `${stackName}/${logicalId}: ${(err as Error).message}`;
    throw err;
  }
}

/** "my-bus" from a bus name or ARN. */
function busName(nameOrArn: string): string {
  const m = /:event-bus\/(.+)$/.exec(nameOrArn);
  return m ? m[1] : nameOrArn;
}

export class SimulatedEventBridge {
  /** Every invocation of a rule's Lambda target, in the order they ended. */
  readonly invocations: RuleInvocation[] = [];
  /** Events that matched at least one rule, with the rules. */
  readonly matched: Array<{ readonly event: BusEvent; readonly rules: readonly string[] }> = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly reportedUnsimulated = new Set<string>();
  private counter = 0;

  constructor(private readonly options: SimulatedEventBridgeOptions) {}

  get rules(): readonly EventRule[] {
    return this.options.rules;
  }

  /** Delivers an event to `bus` (name or ARN): every enabled rule of that bus whose pattern matches, each target. */
  publish(event: BusEvent, bus: string = DEFAULT_BUS): void {
    const name = busName(bus);
    const rules = this.options.rules.filter((r) => r.enabled && r.pattern && r.eventBusName === name && matchesEventPattern(r.pattern, event));
    if (rules.length === 0) return;
    this.matched.push({ event, rules: rules.map((r) => r.name) });
    if (event.source === STATES_EVENT_SOURCE) {
      this.options.onTimeline?.(this.options.clock.now(), 'event',
        `${event['detail-type']}: ${String(event.detail.status ?? '')} -> rule ${rules.map((r) => r.logicalId).join(', ')}`);
    }
    for (const rule of rules) {
      for (const target of rule.targets) this.track(this.deliver(rule, target, event));
    }
  }

  /** The events a PutEvents accepted (as EventBridgeRecorder recorded them), published to their buses. */
  accepted(events: readonly RecordedEvent[]): void {
    for (const e of events) this.publish(this.envelope(e.source, e.detailType, e.detail, e.resources, e.eventId), e.eventBusName);
  }

  /** An event as EventBridge would deliver it (id, account, region and time filled in). */
  envelope(source: string, detailType: string, detail: Record<string, unknown>, resources: readonly string[] = [], id?: string): BusEvent {
    this.counter += 1;
    return {
      'version': '0',
      'id': id ?? `b0000000-0000-4000-8000-${this.counter.toString(16).padStart(12, '0')}`,
      'detail-type': detailType,
      'source': source,
      'account': this.options.accountId,
      'time': new Date(this.options.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'region': this.options.region,
      'resources': resources,
      'detail': detail,
    };
  }

  /** Waits until no delivery is under way (deliveries started meanwhile included). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(delivery: Promise<void>): void {
    const tracked = delivery.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private async deliver(rule: EventRule, target: EventRuleTarget, event: BusEvent): Promise<void> {
    const functionName = functionNameOfArn(target.Arn);
    const bound = functionName === undefined ? undefined : this.options.lambda(rule.stackName, functionName);
    if (!bound || functionName === undefined) {
      const key = `${rule.stackName}/${rule.logicalId}/${target.Id}`;
      if (!this.reportedUnsimulated.has(key)) {
        this.reportedUnsimulated.add(key);
        this.options.onTimeline?.(this.options.clock.now(), 'note', `rule ${rule.logicalId}: target ${target.Arn} is not simulated (only the library's Lambda handlers are)`);
      }
      return;
    }
    const input = targetInput(rule, target, event);
    const executionArn = executionOf(event);
    const retries = this.options.asyncRetryAttempts?.(rule.stackName, functionName) ?? DEFAULT_ASYNC_RETRY_ATTEMPTS;
    await this.options.clock.sleep(EVENT_DELIVERY_MS);
    for (let attempt = 1; ; attempt++) {
      const startedAt = this.options.clock.now();
      let result: unknown;
      let failure: Error | undefined;
      try {
        result = await bound.handler(JSON.parse(JSON.stringify(input ?? null)), {
          functionName, stateName: `rule ${rule.logicalId}`, executionArn: executionArn ?? `eventbridge:${event.id}`, attempt,
        });
      } catch (err) {
        failure = err as Error;
      }
      const invocation: RuleInvocation = {
        rule: rule.name, ruleLogicalId: rule.logicalId, stackName: rule.stackName, targetId: target.Id, functionName,
        handlerName: bound.handlerName, event, input, attempt, startedAt, endedAt: this.options.clock.now(), executionArn,
        ...(failure ? { error: failure.name, cause: failure.message } : { result }),
      };
      this.invocations.push(invocation);
      this.options.onTimeline?.(invocation.endedAt, 'note', describeInvocation(invocation));
      if (!failure || attempt > retries) return;
      await this.options.clock.sleep(ASYNC_RETRY_DELAYS_MS[Math.min(attempt - 1, ASYNC_RETRY_DELAYS_MS.length - 1)]);
    }
  }
}

/** The execution an event is about: a Step Functions status change names it, rollout events carry it. */
function executionOf(event: BusEvent): string | undefined {
  const d = event.detail as { executionArn?: unknown; execution?: unknown };
  if (typeof d.executionArn === 'string') return d.executionArn;
  return typeof d.execution === 'string' ? d.execution : undefined;
}

/** "rule ExecutionEnded -> guard: restored (execution ended ABORTED while holding the lock)". */
function describeInvocation(i: RuleInvocation): string {
  const who = `rule ${i.ruleLogicalId} -> ${i.handlerName ?? i.functionName}${i.attempt > 1 ? ` (retry ${i.attempt - 1})` : ''}`;
  if (i.error) return `${who}: failed, ${i.error}: ${i.cause}`;
  const r = i.result as { action?: unknown; reason?: unknown; liveColor?: unknown } | undefined;
  if (typeof r?.action === 'string') {
    const color = typeof r.liveColor === 'string' ? ` 100% to ${r.liveColor}` : '';
    return `${who}: ${r.action}${color}${typeof r.reason === 'string' ? ` (${r.reason})` : ''}`;
  }
  return `${who}: done`;
}

/** What a target receives: the event, or the rule's Input, InputPath or InputTransformer applied to it. */
export function targetInput(rule: Pick<EventRule, 'name' | 'arn'>, target: Omit<EventRuleTarget, 'Id' | 'Arn'>, event: BusEvent): unknown {
  if (target.Input !== undefined) return parseJsonOrText(target.Input);
  if (target.InputPath !== undefined) return jsonPath(event, target.InputPath);
  if (target.InputTransformer !== undefined) return transform(rule, target.InputTransformer, event);
  return event;
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A simple JSONPath: $, $.a.b, $.a[0], $['a-b']. Undefined when the path leads nowhere. */
export function jsonPath(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`InputPath/InputPathsMap: expected a JSONPath starting with "$", got "${path}"`);
  const tokens = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]|\["([^"]+)"\]/g)];
  let current: unknown = value;
  for (const t of tokens) {
    const key = t[1] ?? t[3] ?? t[4];
    if (current === null || typeof current !== 'object') return undefined;
    current = key !== undefined ? (current as Record<string, unknown>)[key] : (current as unknown[])[Number(t[2])];
  }
  return current;
}

/**
 * InputTransformer: `<name>` placeholders of the template replaced by the InputPathsMap values (and the predefined
 * aws.events.* variables). Inside a JSON string a string value goes in without quotes; elsewhere a value goes in as
 * JSON. A JSON template gives a JSON object; any other template a string.
 */
function transform(rule: Pick<EventRule, 'name' | 'arn'>, transformer: InputTransformer, event: BusEvent): unknown {
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': rule.arn,
    'aws.events.rule-name': rule.name,
    'aws.events.event.ingestion-time': event.time,
    'aws.events.event': event,
    'aws.events.event.json': event,
  };
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) values[name] = jsonPath(event, path);
  const template = transformer.InputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c === '"' && template[i - 1] !== '\\') inString = !inString;
    const placeholder = c === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (placeholder && placeholder[1] in values) {
      const v = values[placeholder[1]];
      if (inString) out += typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : v === undefined ? '' : JSON.stringify(v).replace(/"/g, '\\"');
      else out += v === undefined ? 'null' : JSON.stringify(v);
      i += placeholder[0].length - 1;
      continue;
    }
    out += c;
  }
  const trimmed = out.trim();
  return trimmed.startsWith('{') || trimmed.startsWith('[') ? parseJsonOrText(out) : out;
}
