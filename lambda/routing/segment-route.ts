import { CreateRuleCommand, DeleteRuleCommand, ModifyRuleCommand, Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Color, ErrorName, RouterConfig, SegmentRoute } from '../shared/contracts';
import { awsCall, ZdtError } from '../shared/errors';
import { log } from '../shared/log';
import {
  headerCondition, headerValues, isHeaderCondition, matchEvaluations, MAX_VALUES_PER_RULE, sameConditions, sameValueSet,
  writableCondition,
} from './conditions';
import { isRuleNotFound, elbv2 } from './elbv2';
import { forwardAction, forwardTuples, NO_STICKINESS, readRawWeights } from './forward-action';
import { FULL_WEIGHT, liveColorOf, toPercentages, weightsFor } from './weights';

/**
 * The segment route of a segment-first rollout: a listener rule at RouterConfig.segmentRulePriority
 * (evaluated before the live rule) that sends requests whose segment header carries one of the
 * listed values wholly to one color. It is scoped like the live rule: it carries the live rule's
 * conditions (host, path...) plus the header condition, so it never catches another service's
 * requests on a shared listener.
 */

/** What the router wants: the listed segments on `color`. null: no segment route. */
export interface DesiredSegmentRoute {
  readonly color: Color;
  readonly segments: readonly string[];
}

export interface SegmentRuleState {
  /** The rule at the segment priority, whatever it is. */
  readonly rule: Rule | undefined;
  /** The segment route it holds; null without a rule, or when the rule is not a valid segment route. */
  readonly route: SegmentRoute | null;
  /** The rule carries a condition on the segment header: it was made by a router, whatever its state now. */
  readonly ours: boolean;
  /** Why the rule at the segment priority is not a valid segment route (ROUTE_INVALID), if it is not. */
  readonly problem?: ZdtError;
}

const SEGMENT_RULE = 'Segment rule';

/**
 * The segment route held by the rule at the segment priority (from the listener's rules). A rule that is not a
 * valid segment route is reported as a `problem`, not thrown: a shift refuses on it, but a rollback must restore
 * the production weights first whatever that rule holds.
 */
export function segmentRouteOf(config: RouterConfig, rules: readonly Rule[]): SegmentRuleState {
  const rule = rules.find((r) => r.Priority === String(config.segmentRulePriority));
  if (!rule) return { rule: undefined, route: null, ours: false };
  const headers = (rule.Conditions ?? []).filter((c) => isHeaderCondition(c, config.segmentHeader));
  const invalid = (ours: boolean, message: string): SegmentRuleState => ({ rule, route: null, ours, problem: new ZdtError(ErrorName.ROUTE_INVALID, message) });
  if (headers.length !== 1) {
    return invalid(headers.length > 1, `Priority ${config.segmentRulePriority} of listener ${config.listenerArn} is held by rule ${rule.RuleArn}, which is not a segment route: expected one http-header condition on ${config.segmentHeader}, found ${headers.length}`);
  }
  const ruleArn = rule.RuleArn ?? '';
  let color: Color | null;
  try {
    const weights = toPercentages(readRawWeights(rule, config.targetGroupArns, SEGMENT_RULE), ruleArn);
    color = liveColorOf(weights);
    if (!color) return invalid(true, `${SEGMENT_RULE} ${ruleArn} must forward all its traffic to one color; found blue ${weights.blue} / green ${weights.green}`);
  } catch (err) {
    if (err instanceof ZdtError) return invalid(true, err.message);
    throw err;
  }
  return { rule, route: { ruleArn, color, segments: headerValues(headers[0]) }, ours: true };
}

/** True when the route read back is the desired one (segments compared as a set). */
export function isDesiredSegmentRoute(route: SegmentRoute | null, desired: DesiredSegmentRoute | null): boolean {
  if (!route || !desired) return route === desired;
  return route.color === desired.color && sameValueSet(route.segments, desired.segments);
}

/**
 * The segment rule's conditions: the live rule's (minus any on the segment header) plus the
 * header condition. INVALID_REQUEST when together they exceed ALB's match evaluations per rule.
 */
export function segmentConditions(liveRule: Rule, config: RouterConfig, segments: readonly string[]): RuleCondition[] {
  const scope = (liveRule.Conditions ?? []).filter((c) => !isHeaderCondition(c, config.segmentHeader)).map(writableCondition);
  const conditions = [...scope, headerCondition(config.segmentHeader, segments)];
  const evaluations = conditions.reduce((n, c) => n + matchEvaluations(c), 0);
  if (evaluations > MAX_VALUES_PER_RULE) {
    throw new ZdtError(ErrorName.INVALID_REQUEST, `The segment route for ${segments.length} segment(s) (${segments.join(', ')}) plus the ${evaluations - segments.length} condition value(s) of live rule ${liveRule.RuleArn} makes ${evaluations} match evaluations; ALB allows at most ${MAX_VALUES_PER_RULE} per rule`);
  }
  return conditions;
}

/**
 * Makes the segment rule match `desired`, writing only what differs: creates it, re-points or
 * re-scopes it (ModifyRule with only the changed part), or deletes it (desired null). Returns
 * true when something was written.
 */
export async function reconcileSegmentRoute(
  config: RouterConfig, liveRule: Rule, current: SegmentRuleState, desired: DesiredSegmentRoute | null,
): Promise<boolean> {
  if (!desired) {
    // Only a rule on the segment header is ours to remove (a broken one too); another rule at that priority is not.
    if (!current.rule?.RuleArn || !current.ours) return false;
    const ruleArn = current.rule.RuleArn;
    try {
      await awsCall(`DeleteRule(${ruleArn})`, () => elbv2().send(new DeleteRuleCommand({ RuleArn: ruleArn })));
    } catch (err) {
      if (!isRuleNotFound(err)) throw err;
    }
    log('info', 'segment route removed', { ruleArn });
    return true;
  }
  const conditions = segmentConditions(liveRule, config, desired.segments);
  const actions = [forwardAction(forwardTuples(weightsFor(desired.color, FULL_WEIGHT), config.targetGroupArns), NO_STICKINESS)];
  if (!current.rule?.RuleArn || !current.route) {
    await awsCall(`CreateRule(${config.listenerArn}, priority ${config.segmentRulePriority})`, () => elbv2().send(new CreateRuleCommand({
      ListenerArn: config.listenerArn, Priority: config.segmentRulePriority, Conditions: conditions, Actions: actions,
    })));
    log('info', 'segment route created', { color: desired.color, segments: desired.segments });
    return true;
  }
  const ruleArn = current.rule.RuleArn;
  const conditionsDiffer = !sameConditions(current.rule.Conditions, conditions);
  const colorDiffers = current.route.color !== desired.color;
  if (!conditionsDiffer && !colorDiffers) return false;
  await awsCall(`ModifyRule(${ruleArn})`, () => elbv2().send(new ModifyRuleCommand({
    RuleArn: ruleArn,
    ...(conditionsDiffer ? { Conditions: conditions } : {}),
    ...(colorDiffers ? { Actions: actions } : {}),
  })));
  log('info', 'segment route modified', { ruleArn, color: desired.color, segments: desired.segments });
  return true;
}
