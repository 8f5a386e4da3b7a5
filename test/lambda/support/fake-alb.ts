import {
  CreateRuleCommand, DeleteRuleCommand, DescribeRulesCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client,
  ModifyRuleCommand, PriorityInUseException, Rule, RuleCondition, RuleNotFoundException, SetRulePrioritiesCommand,
  TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * A small stateful fake of ALB listener rules over aws-sdk-client-mock: DescribeRules (by ARN or
 * by listener, paginated), CreateRule, ModifyRule, DeleteRule, SetRulePriorities and
 * DescribeTargetHealth. Like ALB, DescribeRules reports path-pattern and host-header conditions
 * in both spellings (legacy Values and the typed config). `lagNextWrite(n)` makes the next n
 * DescribeRules calls after a write return the state from before it (eventual consistency).
 */

export const ACCOUNT = '111122223333';
export const LISTENER = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/web/0123456789abcdef/fedcba9876543210`;
export const OTHER_LISTENER = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/web/0123456789abcdef/1111111111111111`;
export const tgArn = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/${name}/${name.length.toString(16).padStart(16, '0')}`;
export const BLUE_TG = tgArn('web-blue');
export const GREEN_TG = tgArn('web-green');

interface StoredRule {
  readonly listenerArn: string;
  rule: Rule;
}

const clone = <T>(value: T): T => structuredClone(value);

/** ALB echoes path-pattern / host-header values in both spellings. */
function asAlbReports(c: RuleCondition): RuleCondition {
  const typedKey = c.Field === 'path-pattern' ? 'PathPatternConfig' : c.Field === 'host-header' ? 'HostHeaderConfig' : undefined;
  if (!typedKey) return c;
  const values = c[typedKey]?.Values ?? c.Values ?? [];
  return { ...c, Values: values, [typedKey]: { Values: values } };
}

export class FakeAlb {
  readonly mock = mockClient(ElasticLoadBalancingV2Client);
  private readonly rules = new Map<string, StoredRule>();
  private readonly targets = new Map<string, TargetHealthDescription[]>();
  private stale: Map<string, StoredRule> | undefined;
  private staleReadsLeft = 0;
  private lagReads = 0;
  private nextId = 1;

  constructor() {
    this.mock.on(DescribeRulesCommand).callsFake((input) => this.describeRules(input));
    this.mock.on(CreateRuleCommand).callsFake((input) => this.createRule(input));
    this.mock.on(ModifyRuleCommand).callsFake((input) => this.modifyRule(input));
    this.mock.on(DeleteRuleCommand).callsFake((input) => this.deleteRule(input));
    this.mock.on(SetRulePrioritiesCommand).callsFake((input) => this.setPriorities(input));
    this.mock.on(DescribeTargetHealthCommand).callsFake((input) => ({ TargetHealthDescriptions: clone(this.targets.get(input.TargetGroupArn) ?? []) }));
  }

  /** Adds a rule as if created outside the code under test; returns its ARN. */
  addRule(listenerArn: string, rule: Omit<Rule, 'RuleArn'>): string {
    const ruleArn = this.newArn(listenerArn);
    this.rules.set(ruleArn, { listenerArn, rule: { ...clone(rule), RuleArn: ruleArn, Conditions: (rule.Conditions ?? []).map(asAlbReports) } });
    return ruleArn;
  }

  /** Deletes a rule behind the code's back. */
  removeRule(ruleArn: string): void {
    this.rules.delete(ruleArn);
  }

  /** The rule as ALB holds it now (undefined when deleted). */
  rule(ruleArn: string): Rule | undefined {
    return clone(this.rules.get(ruleArn)?.rule);
  }

  /** Rules of a listener, by priority. */
  listenerRules(listenerArn: string): Rule[] {
    return [...this.rules.values()].filter((r) => r.listenerArn === listenerArn).map((r) => clone(r.rule));
  }

  /** Target group ARN -> weight of the rule's forward action. */
  weights(ruleArn: string): Record<string, number> {
    const forward = this.rules.get(ruleArn)?.rule.Actions?.find((a) => a.Type === 'forward');
    return Object.fromEntries((forward?.ForwardConfig?.TargetGroups ?? []).map((t) => [t.TargetGroupArn, t.Weight]));
  }

  setTargets(targetGroupArn: string, states: string[]): void {
    this.targets.set(targetGroupArn, states.map((state, i) => ({
      Target: { Id: `i-${String(i).padStart(17, '0')}`, Port: 8080 },
      TargetHealth: { State: state as NonNullable<TargetHealthDescription['TargetHealth']>['State'] },
    })));
  }

  /** The next write leaves DescribeRules showing the previous state for `reads` calls. */
  lagNextWrite(reads: number): void {
    this.lagReads = reads;
  }

  private newArn(listenerArn: string): string {
    return `${listenerArn.replace(':listener/', ':listener-rule/')}/${(this.nextId++).toString(16).padStart(16, '0')}`;
  }

  private beforeWrite(): void {
    if (this.lagReads > 0 && this.staleReadsLeft === 0) {
      this.stale = clone(this.rules);
      this.staleReadsLeft = this.lagReads;
      this.lagReads = 0;
    }
  }

  private visible(): Map<string, StoredRule> {
    if (this.staleReadsLeft > 0 && this.stale) {
      this.staleReadsLeft--;
      return this.stale;
    }
    return this.rules;
  }

  private describeRules(input: { RuleArns?: string[]; ListenerArn?: string; Marker?: string; PageSize?: number }) {
    const rules = this.visible();
    if (input.RuleArns) {
      const missing = input.RuleArns.find((arn) => !rules.has(arn));
      if (missing) throw new RuleNotFoundException({ message: `One or more rules not found: ${missing}`, $metadata: {} });
      return { Rules: input.RuleArns.map((arn) => clone(rules.get(arn)!.rule)) };
    }
    const all = [...rules.values()].filter((r) => r.listenerArn === input.ListenerArn).map((r) => clone(r.rule));
    const start = Number(input.Marker ?? 0);
    const size = input.PageSize ?? all.length;
    const end = start + size;
    return { Rules: all.slice(start, end), NextMarker: end < all.length ? String(end) : undefined };
  }

  private createRule(input: { ListenerArn?: string; Priority?: number; Conditions?: RuleCondition[]; Actions?: Rule['Actions'] }) {
    if ([...this.rules.values()].some((r) => r.listenerArn === input.ListenerArn && r.rule.Priority === String(input.Priority))) {
      throw new PriorityInUseException({ message: `Priority '${input.Priority}' is currently in use`, $metadata: {} });
    }
    this.beforeWrite();
    const ruleArn = this.addRule(input.ListenerArn!, { Priority: String(input.Priority), Conditions: input.Conditions, Actions: input.Actions, IsDefault: false });
    return { Rules: [this.rule(ruleArn)!] };
  }

  private modifyRule(input: { RuleArn?: string; Conditions?: RuleCondition[]; Actions?: Rule['Actions'] }) {
    const stored = this.rules.get(input.RuleArn!);
    if (!stored) throw new RuleNotFoundException({ message: `One or more rules not found: ${input.RuleArn}`, $metadata: {} });
    this.beforeWrite();
    stored.rule = {
      ...stored.rule,
      ...(input.Actions ? { Actions: clone(input.Actions) } : {}),
      ...(input.Conditions ? { Conditions: clone(input.Conditions).map(asAlbReports) } : {}),
    };
    return { Rules: [this.rule(input.RuleArn!)!] };
  }

  private deleteRule(input: { RuleArn?: string }) {
    if (!this.rules.has(input.RuleArn!)) throw new RuleNotFoundException({ message: `One or more rules not found: ${input.RuleArn}`, $metadata: {} });
    this.beforeWrite();
    this.rules.delete(input.RuleArn!);
    return {};
  }

  private setPriorities(input: { RulePriorities?: { RuleArn?: string; Priority?: number }[] }) {
    this.beforeWrite();
    for (const { RuleArn, Priority } of input.RulePriorities ?? []) {
      const stored = this.rules.get(RuleArn!);
      if (!stored) throw new RuleNotFoundException({ message: `One or more rules not found: ${RuleArn}`, $metadata: {} });
      stored.rule = { ...stored.rule, Priority: String(Priority) };
    }
    return { Rules: (input.RulePriorities ?? []).map((p) => this.rule(p.RuleArn!)!) };
  }
}

/** A forward action of a rule as ALB reports it. */
export function forwardTo(weights: Record<string, number>, stickinessSeconds = 0): NonNullable<Rule['Actions']>[number] {
  return {
    Type: 'forward',
    Order: 1,
    ForwardConfig: {
      TargetGroups: Object.entries(weights).map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
      TargetGroupStickinessConfig: stickinessSeconds > 0 ? { Enabled: true, DurationSeconds: stickinessSeconds } : { Enabled: false },
    },
  };
}

export const PATH_ALL: RuleCondition = { Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } };
export const HOST_SHOP: RuleCondition = { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } };
