import {
  CreateRuleCommand, DeleteRuleCommand, ModifyRuleCommand, Rule, RuleCondition, SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AlbLimits, Color, ErrorName, LiveRouteProperties } from '../shared/contracts';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import { invalid, requireColor, requireInteger, requireObject, requireString } from '../shared/validate';
import { sameConditions } from './conditions';
import { describeRule, elbv2, isRuleArn, isRuleNotFound, MAX_RULE_PRIORITY, ruleAtPriority } from './elbv2';
import {
  actionsWithWeights, forwardAction, forwardTuples, LIVE_RULE, readRawWeights, readStickiness, sameStickiness, sameTuples, Stickiness, stickinessOf,
} from './forward-action';
import { formatWeights, FULL_WEIGHT, RawWeights, weightsFor } from './weights';

/**
 * The live route: the listener rule that carries production traffic, owned by the
 * Custom::ZdtLiveRoute resource. It exists so that a `cdk deploy` never moves live traffic
 * (aws-cdk issue #36649): CloudFormation creates the rule once, and afterwards only re-points
 * it (target groups, conditions, stickiness, priority) while the weights stay whatever the
 * rollouts left them, color by color.
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

/** Creates the live rule with all traffic on InitialColor, or adopts a rule a retried create already made. */
export async function createLiveRoute(spec: LiveRouteSpec): Promise<string> {
  return createOrAdopt(spec, weightsFor(spec.initialColor, FULL_WEIGHT));
}

/**
 * Re-points the live rule at the new properties, keeping its weights color by color: the
 * weights are read from the rule, mapped to colors with the OLD target group ARNs, and written
 * with the NEW ones. InitialColor is ignored. A new listener gets a new rule carrying the
 * current weights (CloudFormation then deletes the old one). Writes only what differs.
 */
export async function updateLiveRoute(physicalResourceId: string, spec: LiveRouteSpec, old: LiveRouteSpec): Promise<string> {
  const rule = isRuleArn(physicalResourceId) ? await describeRule(physicalResourceId) : undefined;
  if (!rule) {
    throw new ZdtError(ErrorName.ROUTE_INVALID, `${LIVE_RULE} ${physicalResourceId} on listener ${old.listenerArn} does not exist: its weights cannot be carried over. Recreate the live route (replace the resource) to restore it.`);
  }
  const weights = weightsByColor(rule, old, spec);
  if (spec.listenerArn !== old.listenerArn) {
    log('info', 'live route moves to another listener', { from: old.listenerArn, to: spec.listenerArn, weights });
    return createOrAdopt(spec, weights);
  }
  await reconcile(rule, spec, weights);
  return physicalResourceId;
}

/** Deletes the live rule; one already gone, or a physical id that never became a rule, is success. */
export async function deleteLiveRoute(physicalResourceId: string | undefined): Promise<void> {
  if (!isRuleArn(physicalResourceId)) {
    log('info', 'nothing to delete: the physical id is not a rule ARN', { physicalResourceId });
    return;
  }
  try {
    await awsCall(`DeleteRule(${physicalResourceId})`, () => elbv2().send(new DeleteRuleCommand({ RuleArn: physicalResourceId })));
    log('info', 'live rule deleted', { ruleArn: physicalResourceId });
  } catch (err) {
    if (!isRuleNotFound(err)) throw err;
    log('info', 'live rule already gone', { ruleArn: physicalResourceId });
  }
}

/**
 * The rule's weights by color. Mapped with the old target group ARNs first; a retried update
 * may already have re-pointed the rule, so the new ARNs are tried next.
 */
function weightsByColor(rule: Rule, old: LiveRouteSpec, spec: LiveRouteSpec): RawWeights {
  try {
    return readRawWeights(rule, old.targetGroupArns, LIVE_RULE);
  } catch (err) {
    if (!(err instanceof ZdtError) || err.name !== ErrorName.ROUTE_INVALID) throw err;
    try {
      return readRawWeights(rule, spec.targetGroupArns, LIVE_RULE);
    } catch {
      throw err;
    }
  }
}

async function createOrAdopt(spec: LiveRouteSpec, weights: RawWeights): Promise<string> {
  const existing = await ruleAtPriority(spec.listenerArn, spec.priority);
  if (existing?.RuleArn) {
    let existingWeights: RawWeights;
    try {
      existingWeights = readRawWeights(existing, spec.targetGroupArns, 'Rule');
    } catch (err) {
      if (!(err instanceof ZdtError)) throw err;
      throw new ZdtError(ErrorName.ROUTE_INVALID, `Cannot create the live route at priority ${spec.priority} of listener ${spec.listenerArn}: the priority is taken by a rule that is not ours. ${err.message}`);
    }
    log('info', 'adopting the live rule already at this priority, keeping its weights', { ruleArn: existing.RuleArn, weights: existingWeights });
    await reconcile(existing, spec, existingWeights);
    return existing.RuleArn;
  }
  const out = await awsCall(`CreateRule(${spec.listenerArn}, priority ${spec.priority})`, () => elbv2().send(new CreateRuleCommand({
    ListenerArn: spec.listenerArn,
    Priority: spec.priority,
    Conditions: spec.conditions,
    Actions: [forwardAction(forwardTuples(weights, spec.targetGroupArns), spec.stickiness)],
  })));
  const ruleArn = out.Rules?.[0]?.RuleArn;
  if (!ruleArn) throw new ZdtError(ErrorName.ROUTE_INVALID, `CreateRule on listener ${spec.listenerArn} at priority ${spec.priority} returned no rule ARN`);
  log('info', 'live rule created', { ruleArn, weights: formatWeights(weights) });
  return ruleArn;
}

/** Makes the rule match `spec` with `weights`, writing only what differs. */
async function reconcile(rule: Rule, spec: LiveRouteSpec, weights: RawWeights): Promise<void> {
  const ruleArn = rule.RuleArn ?? '';
  const { actions, current, next: desired } = actionsWithWeights(rule, weights, spec.targetGroupArns, LIVE_RULE, spec.stickiness);
  const actionsDiffer = !sameTuples(current, desired) || !sameStickiness(readStickiness(current), spec.stickiness);
  const conditionsDiffer = !sameConditions(rule.Conditions, spec.conditions);
  if (actionsDiffer || conditionsDiffer) {
    await awsCall(`ModifyRule(${ruleArn})`, () => elbv2().send(new ModifyRuleCommand({
      RuleArn: ruleArn,
      ...(actionsDiffer ? { Actions: actions } : {}),
      ...(conditionsDiffer ? { Conditions: spec.conditions } : {}),
    })));
    log('info', 'live rule re-pointed', { ruleArn, weights: formatWeights(weights), actionsDiffer, conditionsDiffer });
  }
  if (rule.Priority !== String(spec.priority)) {
    await awsCall(`SetRulePriorities(${ruleArn})`, () => elbv2().send(new SetRulePrioritiesCommand({
      RulePriorities: [{ RuleArn: ruleArn, Priority: spec.priority }],
    })));
    log('info', 'live rule priority changed', { ruleArn, from: rule.Priority, to: spec.priority });
  }
}
