import { Stack } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct, IConstruct } from 'constructs';

/** A listener rule priority a construct takes, and which rule takes it. */
export interface TakenPriority {
  readonly priority: number;
  readonly rule: string;
}

/** Marks a construct that takes priorities on a listener (BlueGreenRouting), found by priorityClashes across the app. */
export const LISTENER_PRIORITY_OWNER = Symbol.for('cdk-zero-downtime.ListenerPriorityOwner');

/** What priorityClashes reads of a BlueGreenRouting. */
export interface ListenerPriorityOwner extends IConstruct {
  readonly listener: elbv2.IApplicationListener;
  /** Priority of the production rule. */
  readonly priority: number;
  /** Header of the test route, undefined when it is off. */
  readonly testRouteHeader?: string;
}

/** The priorities a BlueGreenRouting takes below its production rule: the segment rule and the two test routes. */
export const RULES_BEFORE_LIVE = 3;

/** The listener rule priorities a BlueGreenRouting takes: its production rule, segment rule and test routes. */
export function takenPriorities(owner: ListenerPriorityOwner): TakenPriority[] {
  return [
    { priority: owner.priority, rule: 'the production rule (Custom::ZdtLiveRoute)' },
    { priority: owner.priority - 1, rule: 'the segment rule (created at run time by segment-first rollouts)' },
    ...(owner.testRouteHeader === undefined ? [] : ['blue', 'green'].map((color, i) => ({ priority: owner.priority - RULES_BEFORE_LIVE + i, rule: `the ${color} test route` }))),
  ];
}

function isOwner(c: IConstruct): c is ListenerPriorityOwner {
  return (c as unknown as Record<symbol, unknown>)[LISTENER_PRIORITY_OWNER] === true;
}

/**
 * Every clash, across the whole app, between the priorities `owner` takes on its listener and those another
 * owner or any other listener rule (AWS::ElasticLoadBalancingV2::ListenerRule) of the app takes on the same
 * listener. ELB refuses a second rule at a taken priority (PriorityInUse): the deploy would fail, or the router's
 * segment rule would fail at run time. Listeners are compared by their ARN as their own stack resolves it, so the
 * same listener used from several stacks (imported by reference or by ARN) is one listener.
 */
export function priorityClashes(owner: ListenerPriorityOwner): string[] {
  // The same listener has the same ARN string everywhere: the literal ARN of an imported listener, or the one token
  // of the listener's ARN however many stacks reference it (CDK resolves it per consuming stack only when rendering).
  const mine = owner.listener.listenerArn;
  const taken = new Map(takenPriorities(owner).map((t) => [t.priority, t.rule]));
  const problems: string[] = [];
  const clash = (priority: number, otherRule: string, otherPath: string) => problems.push(
    `priority: listener rule priority ${priority} (${taken.get(priority)} of this BlueGreenRouting) is also taken by ${otherRule} of ${otherPath} `
    + 'on the same listener; ELB allows one rule per priority. Give each BlueGreenRouting on a listener its own `priority`, '
    + 'at least 4 apart from any other rule: it takes `priority` (production rule), `priority - 1` (segment rule, created '
    + 'at run time) and `priority - 3`, `priority - 2` (test routes)');
  const owners: IConstruct[] = [];
  for (const c of owner.node.root.node.findAll()) {
    if (c === owner || !isOwner(c)) continue;
    owners.push(c);
    if (c.listener.listenerArn !== mine) continue;
    for (const t of takenPriorities(c)) if (taken.has(t.priority)) clash(t.priority, t.rule, c.node.path);
  }
  for (const c of owner.node.root.node.findAll()) {
    if (!(c instanceof elbv2.CfnListenerRule)) continue;
    // A BlueGreenRouting's own rules are counted with its taken priorities.
    if (c.node.scopes.some((s) => s === owner || owners.includes(s))) continue;
    const priority = Stack.of(c).resolve(c.priority);
    if (typeof priority !== 'number' || !taken.has(priority) || c.listenerArn === undefined || c.listenerArn !== mine) continue;
    clash(priority, 'the listener rule', (c.node.scope as Construct).node.path);
  }
  return problems;
}
