import {
  Action, CreateRuleCommand, DeleteRuleCommand, Rule, RuleCondition, SetRulePrioritiesCommand, TargetGroupTuple,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AlbLimits, Color, COLORS, ErrorName, LiveRouteProperties } from '../shared/contracts';
import { clock } from '../shared/clock';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { invalid, requireColor, requireInteger, requireObject, requireString } from '../shared/validate';
import { sameConditions } from './conditions';
import { describeRule, elbv2, isRuleArn, isRuleNotFound, MAX_RULE_PRIORITY, ruleAtPriority } from './elbv2';
import {
  echoAction, findForwardAction, forwardAction, forwardTuples, LIVE_RULE, readRawWeights, readStickiness, sameStickiness, sameTuples,
  Stickiness, stickinessOf, tupleMap,
} from './forward-action';
import { claim, claimedRule, claimTag, LiveRouteOwner, release } from './live-route-owner';
import { writeRule } from './rule-writer';
import { checkTargets } from './target-health';
import { formatWeights, FULL_WEIGHT, RawWeights, weightsFor } from './weights';

/**
 * The live route: the listener rule that carries production traffic, owned by the
 * Custom::ZdtLiveRoute resource. It exists so that a `cdk deploy` never moves live traffic
 * (aws-cdk issue #36649): CloudFormation creates the rule once, and afterwards only re-points
 * it (target groups, conditions, stickiness, priority) while the weights stay whatever the
 * rollouts left them, color by color.
 *
 * - Ownership: several resource instances may point at one rule while CloudFormation replaces one by another; a
 *   Delete removes only its own claim, and the rule only when no claim is left (live-route-owner.ts).
 * - Target health: a deploy that re-points live weights at target groups that carry no traffic yet (replaced target
 *   groups) first attaches them at weight 0, so ALB health-checks them, and moves the weights only once they have
 *   healthy targets; it waits for that within the handler's time (TARGET_HEALTH_WAIT_MS), then fails the update,
 *   which CloudFormation rolls back with traffic never having left the old target groups.
 * - A rule deleted out of band is recreated (the initial color at 100%: the weights it had are lost with it), so
 *   neither the deploy nor its rollback is wedged.
 * - Writes are compare-and-retry (rule-writer.ts): the weights are the router's, and a deploy never undoes a shift
 *   that lands while it writes.
 */

/** ALB's longest stickiness duration (7 days), seconds. */
export const MAX_STICKINESS_SECONDS = AlbLimits.MAX_STICKINESS_SECONDS;


/** The properties of the resource, parsed. */
export interface LiveRouteSpec {
  readonly listenerArn: string;
  readonly priority: number;
  readonly targetGroupArns: Record<Color, string>;
  /** Only used when the rule is first created: an update never changes weights. */
  readonly initialColor: Color;
  readonly conditions: RuleCondition[];
  readonly stickiness: Stickiness;
}

/** Validates ResourceProperties / OldResourceProperties (CloudFormation passes numbers as strings). */
export function parseLiveRouteProperties(raw: unknown, source: string): LiveRouteSpec {
  const obj = requireObject(raw, source, source) as Partial<Record<keyof LiveRouteProperties, unknown>>;
  const targetGroupArns = {
    blue: requireString(obj, 'BlueTargetGroupArn', source),
    green: requireString(obj, 'GreenTargetGroupArn', source),
  };
  if (targetGroupArns.blue === targetGroupArns.green) {
    throw invalid(source, 'GreenTargetGroupArn', 'a different target group from BlueTargetGroupArn', targetGroupArns.green);
  }
  return {
    listenerArn: requireString(obj, 'ListenerArn', source),
    priority: requireInteger(obj, 'Priority', { min: 1, max: MAX_RULE_PRIORITY }, source, true),
    targetGroupArns,
    initialColor: requireColor(obj, 'InitialColor', source),
    conditions: parseConditions(obj.Conditions, source),
    stickiness: stickinessOf(requireInteger(obj, 'StickinessSeconds', { min: 0, max: MAX_STICKINESS_SECONDS }, source, true)),
  };
}

function parseConditions(raw: unknown, source: string): RuleCondition[] {
  const expected = 'a JSON array of listener rule conditions, each with a Field';
  let parsed: unknown;
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch {
    throw invalid(source, 'Conditions', expected, raw);
  }
  if (!Array.isArray(parsed) || parsed.some((c) => typeof c !== 'object' || c === null || typeof c.Field !== 'string')) {
    throw invalid(source, 'Conditions', expected, raw);
  }
  return parsed as RuleCondition[];
}

/** What an Update did: the physical id to answer and the rule the route is. */
export interface LiveRouteUpdate {
  readonly physicalResourceId: string;
  readonly ruleArn: string;
}

/**
 * How long an update waits for the target groups the live weights move to to have healthy targets before it fails
 * with TARGETS_UNHEALTHY (CloudFormation then rolls it back, production never having left the old target groups).
 * ALB's default health check calls a target healthy after 5 checks 30 s apart (2.5 min); services need time to start
 * and register first. It stays under the 15 minutes a Lambda function (the handler's, and the provider framework's,
 * which waits for it) may run: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html.
 */
export const TARGET_HEALTH_WAIT_MS = 12 * 60 * 1000;
/** Wait between two target-health checks while an update waits. */
export const TARGET_HEALTH_POLL_MS = 15 * 1000;

/**
 * Creates the live rule with all traffic on InitialColor and the owner's claim, or adopts the rule already at the
 * listener and priority (a retried create, or a resource that replaces another: the old one's Delete then keeps
 * the rule, see live-route-owner.ts). No health check: a new service's target groups get their first targets only
 * once a rule forwards to them.
 */
export async function createLiveRoute(spec: LiveRouteSpec, owner: LiveRouteOwner): Promise<string> {
  return createOrAdopt(spec, weightsFor(spec.initialColor, FULL_WEIGHT), owner);
}

/**
 * Re-points the live rule at the new properties, keeping its weights color by color: the weights are read from the
 * rule, mapped to colors with the OLD or the NEW target group ARNs (a retried update, or an update rollback, finds
 * either), and written with the NEW ones. InitialColor is ignored. A new listener gets a new rule carrying the
 * current weights (CloudFormation then deletes the old one). Target groups that would get traffic but carry none
 * yet are attached at weight 0 first; the weights move to them once they are healthy, TARGETS_UNHEALTHY if they do
 * not get healthy in time.
 * A rule that is gone is recreated with InitialColor at 100%, under the same physical id.
 */
export async function updateLiveRoute(physicalResourceId: string, spec: LiveRouteSpec, old: LiveRouteSpec, owner: LiveRouteOwner): Promise<LiveRouteUpdate> {
  const rule = await findRule(physicalResourceId, [old.listenerArn, spec.listenerArn], owner);
  if (!rule?.RuleArn) {
    log('warn', `${LIVE_RULE} is gone (deleted out of band): recreating it with ${spec.initialColor} at 100%, the weights it had being lost with it`,
      { physicalResourceId, listenerArn: spec.listenerArn, priority: spec.priority });
    const ruleArn = await createOrAdopt(spec, weightsFor(spec.initialColor, FULL_WEIGHT), owner);
    return { physicalResourceId, ruleArn };
  }
  if (spec.listenerArn !== old.listenerArn && !rule.RuleArn.includes(`:listener-rule/${listenerPath(spec.listenerArn)}/`)) {
    const weights = weightsByColor(rule, old, spec);
    log('info', 'live route moves to another listener', { from: old.listenerArn, to: spec.listenerArn, weights });
    // The new rule sends traffic at once: target groups that carry none now must be healthy already (a move to a
    // new listener and to new target groups is two deploys: the target groups first, which waits for their health).
    for (const { color, targetGroupArn } of unservedTargetGroups(rule, spec, old)) await checkTargets(targetGroupArn, color);
    const ruleArn = await createOrAdopt(spec, weights, owner);
    return { physicalResourceId: ruleArn, ruleArn };
  }
  await claim(rule.RuleArn, owner, { adopting: false });
  const attached = await attachUnservedTargetGroups(rule, spec, old);
  // The latest read is enough to plan from: the write compares it with a fresh read just before ModifyRule.
  await reconcile(await waitForHealthyTargets(attached, spec, old), spec, old);
  return { physicalResourceId, ruleArn: rule.RuleArn };
}

/**
 * Waits until every target group the weights move to has healthy targets (checked as a rollout checks a color:
 * target-health.ts), polling every TARGET_HEALTH_POLL_MS for TARGET_HEALTH_WAIT_MS at most, then TARGETS_UNHEALTHY.
 * Returns the rule as last read.
 */
async function waitForHealthyTargets(rule: Rule, spec: LiveRouteSpec, old: LiveRouteSpec): Promise<Rule> {
  const ruleArn = rule.RuleArn ?? '';
  const deadline = clock().now() + TARGET_HEALTH_WAIT_MS;
  let current = rule;
  for (;;) {
    let unhealthy: ZdtError | undefined;
    for (const { color, targetGroupArn } of unservedTargetGroups(current, spec, old)) {
      try {
        await checkTargets(targetGroupArn, color);
      } catch (err) {
        if (!(err instanceof ZdtError) || err.name !== ErrorName.TARGETS_UNHEALTHY) throw err;
        unhealthy = err;
        break;
      }
    }
    if (!unhealthy) return current;
    if (clock().now() + TARGET_HEALTH_POLL_MS > deadline) {
      throw new ZdtError(ErrorName.TARGETS_UNHEALTHY, `${LIVE_RULE} ${ruleArn} keeps its weights on the old target groups: the new ones did not get healthy targets within ${TARGET_HEALTH_WAIT_MS / 60_000} minutes, so this update fails and CloudFormation rolls it back. ${unhealthy.message}`);
    }
    log('info', 'waiting for healthy targets before the live weights move', { ruleArn, reason: unhealthy.message });
    await clock().sleep(TARGET_HEALTH_POLL_MS);
    current = await readRule(ruleArn, spec);
  }
}

/**
 * Removes the owner's claim from the rule and deletes the rule only when no other resource holds it. The rule is
 * the physical id's, or, that one gone, the rule of the listener carrying the owner's claim (one recreated after it
 * was lost). A rule already gone, or a physical id that never became a rule (a Create that failed), is success.
 */
export async function deleteLiveRoute(physicalResourceId: string | undefined, spec: LiveRouteSpec | undefined, owner: LiveRouteOwner): Promise<void> {
  const rule = await findRule(physicalResourceId, spec ? [spec.listenerArn] : [], owner);
  if (!rule?.RuleArn) {
    log('info', 'nothing to delete: no rule of this resource exists', { physicalResourceId });
    return;
  }
  const ruleArn = rule.RuleArn;
  const others = await release(ruleArn, owner);
  if (others.length > 0) {
    log('info', 'live rule kept: another resource holds it (this one was replaced)', { ruleArn, holders: others.map((t) => t.Value) });
    return;
  }
  try {
    await awsCall(`DeleteRule(${ruleArn})`, () => elbv2().send(new DeleteRuleCommand({ RuleArn: ruleArn })));
    log('info', 'live rule deleted', { ruleArn });
  } catch (err) {
    if (!isRuleNotFound(err)) throw err;
    log('info', 'live rule already gone', { ruleArn });
  }
}

/** The rule of the physical id, else the rule of one of the listeners carrying the owner's claim. */
async function findRule(physicalResourceId: string | undefined, listenerArns: readonly string[], owner: LiveRouteOwner): Promise<Rule | undefined> {
  if (isRuleArn(physicalResourceId)) {
    const rule = await describeRule(physicalResourceId);
    if (rule) return rule;
  }
  for (const listenerArn of new Set(listenerArns)) {
    try {
      const rule = await claimedRule(listenerArn, owner);
      if (rule) return rule;
    } catch (err) {
      // A listener deleted since (the old one of a move) holds no rule of ours.
      if (!(err instanceof Error) || err.name !== 'ListenerNotFoundException') throw err;
    }
  }
  return undefined;
}

/** "listener/app/<lb>/<id>/<id>" of a listener ARN, which the ARNs of its rules contain as "listener-rule/app/...". */
function listenerPath(listenerArn: string): string {
  return listenerArn.slice(listenerArn.indexOf(':listener/') + ':listener/'.length);
}

/** The color of a target group the rule forwards to: by the new ARNs, else by the old ones; ROUTE_INVALID for neither. */
function colorOf(targetGroupArn: string | undefined, rule: Rule, old: LiveRouteSpec, spec: LiveRouteSpec): Color {
  const color = COLORS.find((c) => spec.targetGroupArns[c] === targetGroupArn) ?? COLORS.find((c) => old.targetGroupArns[c] === targetGroupArn);
  if (!color) {
    throw new ZdtError(ErrorName.ROUTE_INVALID, `${LIVE_RULE} ${rule.RuleArn} forwards to target group ${targetGroupArn}, which is neither blue (${spec.targetGroupArns.blue}, before: ${old.targetGroupArns.blue}) nor green (${spec.targetGroupArns.green}, before: ${old.targetGroupArns.green})`);
  }
  return color;
}

/** The rule's weights by color, its target groups mapped with the new ARNs or the old ones (both may be attached). */
function weightsByColor(rule: Rule, old: LiveRouteSpec, spec: LiveRouteSpec): RawWeights {
  const weights: Record<Color, number> = { blue: 0, green: 0 };
  for (const [arn, weight] of tupleMap(findForwardAction(rule, LIVE_RULE))) weights[colorOf(arn, rule, old, spec)] += weight;
  return weights;
}

/** The new target groups that would get traffic but carry none now: they must be healthy before the weights move. */
function unservedTargetGroups(rule: Rule, spec: LiveRouteSpec, old: LiveRouteSpec): Array<{ color: Color; targetGroupArn: string }> {
  const weights = weightsByColor(rule, old, spec);
  const serving = tupleMap(findForwardAction(rule, LIVE_RULE));
  return COLORS.filter((c) => weights[c] > 0 && (serving.get(spec.targetGroupArns[c]) ?? 0) === 0)
    .map((color) => ({ color, targetGroupArn: spec.targetGroupArns[color] }));
}

/**
 * Adds the unserved target groups to the forward action at weight 0, the weights untouched: ALB health-checks a
 * target group only once a rule forwards to it (its targets are "unused" before), and a service can register only
 * with a target group attached to a load balancer. A forward action takes up to 5 target groups
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions).
 */
async function attachUnservedTargetGroups(rule: Rule, spec: LiveRouteSpec, old: LiveRouteSpec): Promise<Rule> {
  const ruleArn = rule.RuleArn ?? '';
  if (unservedTargetGroups(rule, spec, old).every(({ targetGroupArn }) => tupleMap(findForwardAction(rule, LIVE_RULE)).has(targetGroupArn))) return rule;
  return writeRule({
    ruleArn,
    what: LIVE_RULE,
    read: () => readRule(ruleArn, spec),
    plan: (current) => {
      const forward = findForwardAction(current, LIVE_RULE);
      const listed = tupleMap(forward);
      const missing = unservedTargetGroups(current, spec, old).filter(({ targetGroupArn }) => !listed.has(targetGroupArn));
      if (missing.length === 0) return undefined;
      const tuples: TargetGroupTuple[] = [...listed].map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight }));
      tuples.push(...missing.map(({ targetGroupArn }) => ({ TargetGroupArn: targetGroupArn, Weight: 0 })));
      log('info', 'attaching the new target groups at weight 0 until they are healthy', { ruleArn, targetGroups: missing });
      return { actions: replaceForward(current, forwardAction(tuples, readStickiness(forward), forward.Order)) };
    },
    mismatch: (current) => `desired the new target groups attached at weight 0, actual ${JSON.stringify([...tupleMap(findForwardAction(current, LIVE_RULE))])}`,
  }, rule);
}

async function readRule(ruleArn: string, spec: LiveRouteSpec): Promise<Rule> {
  const rule = await describeRule(ruleArn);
  if (!rule) throw new ZdtError(ErrorName.ROUTE_INVALID, `${LIVE_RULE} ${ruleArn} on listener ${spec.listenerArn} disappeared while it was being written`);
  return rule;
}

/** The rule's actions with its forward action replaced by `next` (the others echoed back as ModifyRule needs them). */
function replaceForward(rule: Rule, next: Action): Action[] {
  const current = findForwardAction(rule, LIVE_RULE);
  return (rule.Actions ?? []).map((a) => (a === current ? next : echoAction(a)));
}

async function createOrAdopt(spec: LiveRouteSpec, weights: RawWeights, owner: LiveRouteOwner): Promise<string> {
  const existing = await ruleAtPriority(spec.listenerArn, spec.priority);
  if (existing?.RuleArn) {
    try {
      readRawWeights(existing, spec.targetGroupArns, 'Rule');
    } catch (err) {
      if (!(err instanceof ZdtError)) throw err;
      throw new ZdtError(ErrorName.ROUTE_INVALID, `Cannot create the live route at priority ${spec.priority} of listener ${spec.listenerArn}: the priority is taken by a rule that is not ours. ${err.message}`);
    }
    log('info', 'adopting the live rule already at this priority, keeping its weights', { ruleArn: existing.RuleArn });
    await reconcile(existing, spec, spec);
    // The claim last: a create that fails before it leaves the rule to the resources that hold it.
    await claim(existing.RuleArn, owner, { adopting: true });
    return existing.RuleArn;
  }
  const out = await awsCall(`CreateRule(${spec.listenerArn}, priority ${spec.priority})`, () => elbv2().send(new CreateRuleCommand({
    ListenerArn: spec.listenerArn,
    Priority: spec.priority,
    Conditions: spec.conditions,
    Actions: [forwardAction(forwardTuples(weights, spec.targetGroupArns), spec.stickiness)],
    Tags: [claimTag(owner)],
  })));
  const ruleArn = out.Rules?.[0]?.RuleArn;
  if (!ruleArn) throw new ZdtError(ErrorName.ROUTE_INVALID, `CreateRule on listener ${spec.listenerArn} at priority ${spec.priority} returned no rule ARN`);
  log('info', 'live rule created', { ruleArn, weights: formatWeights(weights) });
  return ruleArn;
}

/**
 * Makes the rule match `spec` (target groups, stickiness, conditions, priority), its weights by color as the rule
 * holds them at each write: compare-and-retry, so a shift the router makes meanwhile is kept.
 */
async function reconcile(rule: Rule, spec: LiveRouteSpec, old: LiveRouteSpec): Promise<void> {
  const ruleArn = rule.RuleArn ?? '';
  const written = await writeRule({
    ruleArn,
    what: LIVE_RULE,
    read: () => readRule(ruleArn, spec),
    plan: (current) => {
      const forward = findForwardAction(current, LIVE_RULE);
      const desired = forwardAction(forwardTuples(weightsByColor(current, old, spec), spec.targetGroupArns), spec.stickiness, forward.Order);
      const actionsDiffer = !sameTuples(forward, desired) || !sameStickiness(readStickiness(forward), spec.stickiness);
      const conditionsDiffer = !sameConditions(current.Conditions, spec.conditions);
      if (!actionsDiffer && !conditionsDiffer) return undefined;
      log('info', 'live rule re-pointed', { ruleArn, weights: formatWeights(weightsByColor(current, old, spec)), actionsDiffer, conditionsDiffer });
      return { ...(actionsDiffer ? { actions: replaceForward(current, desired) } : {}), ...(conditionsDiffer ? { conditions: spec.conditions } : {}) };
    },
    mismatch: (current) => `desired ${JSON.stringify(spec.targetGroupArns)} with stickiness ${JSON.stringify(spec.stickiness)}, actual ${JSON.stringify([...tupleMap(findForwardAction(current, LIVE_RULE))])} with ${JSON.stringify(readStickiness(findForwardAction(current, LIVE_RULE)))}`,
  }, rule);
  if (written.Priority !== String(spec.priority)) {
    await awsCall(`SetRulePriorities(${ruleArn})`, () => elbv2().send(new SetRulePrioritiesCommand({
      RulePriorities: [{ RuleArn: ruleArn, Priority: spec.priority }],
    })));
    log('info', 'live rule priority changed', { ruleArn, from: written.Priority, to: spec.priority });
  }
}
