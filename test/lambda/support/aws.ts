import { Action, Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { setClock } from '../../../lambda/shared/clock';
import { AwsFakes, forwardWeightsOf } from '../../../rehearsal/fakes';
import { ManualClock } from '../../fakes/manual-clock';
import { NOW_MS } from './env';

/**
 * The handler tests' AWS: the rehearsal's stateful fakes (rehearsal/fakes) behind every SDK
 * client, on a ManualClock that starts at NOW_MS and is the handlers' clock too (their sleeps
 * advance it). Call in beforeEach; `restore` goes in afterEach.
 */
export interface FakeAws {
  readonly aws: AwsFakes;
  readonly clock: ManualClock;
  readonly restore: () => void;
}

export function installAwsFakes(): FakeAws {
  const clock = new ManualClock(NOW_MS);
  const restoreClock = setClock(clock);
  const aws = new AwsFakes({ clock }).install();
  return { aws, clock, restore: () => { aws.restore(); restoreClock(); } };
}

export const PATH_ALL: RuleCondition = { Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } };
export const HOST_SHOP: RuleCondition = { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } };

/** A forward action to target groups with these weights, sticky for `stickinessSeconds` (0: not sticky). */
export function forwardTo(weights: Record<string, number>, stickinessSeconds = 0): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: Object.entries(weights).map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
      ...(stickinessSeconds > 0 ? { TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: stickinessSeconds } } : {}),
    },
  };
}

/**
 * One load balancer "web" with two listeners (ports 80 and 8080, default action 404) and the
 * target groups web-blue and web-green, made through the fake's back door (not logged, never
 * faulted). Reads go through DescribeRules, so they count against a `lagReads` lag.
 */
export class WebAlb {
  readonly listenerArn: string;
  readonly otherListenerArn: string;
  readonly blueTg: string;
  readonly greenTg: string;

  constructor(readonly aws: AwsFakes) {
    const lb = aws.alb.createLoadBalancer({ Name: 'web', Subnets: ['subnet-a', 'subnet-b'] }).LoadBalancers![0];
    const listener = (port: number) => aws.alb.createListener({
      LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: port,
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    }).Listeners![0].ListenerArn!;
    this.listenerArn = listener(80);
    this.otherListenerArn = listener(8080);
    this.blueTg = this.targetGroup('web-blue');
    this.greenTg = this.targetGroup('web-green');
  }

  /** A target group of IP targets (created, or the existing one of that name). */
  targetGroup(name: string): string {
    return this.aws.alb.createTargetGroup({ Name: name, Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', TargetType: 'ip' }).TargetGroups![0].TargetGroupArn!;
  }

  /** Creates a rule as if someone else had (a previous deployment, a rollout, an operator); returns its ARN. */
  addRule(listenerArn: string, priority: number, conditions: RuleCondition[], actions: Action[]): string {
    return this.aws.alb.createRule({ ListenerArn: listenerArn, Priority: priority, Conditions: conditions, Actions: actions }).Rules![0].RuleArn!;
  }

  /** Deletes a rule behind the code's back. */
  removeRule(ruleArn: string): void {
    this.aws.alb.deleteRule({ RuleArn: ruleArn });
  }

  /** The rule as DescribeRules returns it, or undefined when it does not exist. */
  rule(ruleArn: string): Rule | undefined {
    try {
      return this.aws.alb.describeRules({ RuleArns: [ruleArn] }).Rules![0];
    } catch (err) {
      if ((err as Error).name === 'RuleNotFoundException') return undefined;
      throw err;
    }
  }

  /** The listener's rules by priority, without its default rule. */
  rules(listenerArn: string): Rule[] {
    return this.aws.alb.describeRules({ ListenerArn: listenerArn }).Rules!.filter((r) => !r.IsDefault);
  }

  /** Target group ARN -> weight of the rule's forward action. */
  weights(ruleArn: string): Record<string, number> {
    return forwardWeightsOf(this.rule(ruleArn)?.Actions ?? []) ?? {};
  }

  /** Inputs of the calls of an ELBv2 command the code made (SDK calls, logged by the fakes). */
  sent<T = Record<string, unknown>>(command: string): T[] {
    return this.aws.calls.filter((c) => c.service === 'elbv2' && c.command === command).map((c) => c.input as T);
  }
}
