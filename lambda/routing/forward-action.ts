import { Action, Rule, TargetGroupStickinessConfig, TargetGroupTuple } from '@aws-sdk/client-elastic-load-balancing-v2';
import { COLORS, Color, ErrorName } from '../shared/contracts';
import { ZdtError } from '../shared/errors';
import { RawWeights } from './weights';

/**
 * The forward action of a listener rule: which target groups get traffic, with which weights,
 * and whether a client sticks to the target group it first got (stickiness during a split).
 */

const FORWARD = 'forward';

/**
 * Weight of a target group listed without one. DescribeRules reports a forward to a single
 * target group as TargetGroupArn plus a tuple of weight 1; a tuple without a weight counts the same.
 */
const DEFAULT_TUPLE_WEIGHT = 1;

/** Stickiness of a forward action, normalized so that "absent" and "disabled" compare equal. */
export interface Stickiness {
  readonly enabled: boolean;
  /** Seconds; undefined when disabled. */
  readonly durationSeconds?: number;
}

export const NO_STICKINESS: Stickiness = { enabled: false };

/** The rule's forward action, or ROUTE_INVALID naming the rule (`what` says which rule it is). */
export function findForwardAction(rule: Rule, what: string): Action {
  const forwards = (rule.Actions ?? []).filter((a) => a.Type === FORWARD);
  if (forwards.length !== 1) {
    throw new ZdtError(ErrorName.ROUTE_INVALID, `${what} ${rule.RuleArn} must have exactly one forward action; found ${forwards.length} (actions: ${(rule.Actions ?? []).map((a) => a.Type).join(', ') || 'none'})`);
  }
  return forwards[0];
}

function tuplesOf(action: Action): TargetGroupTuple[] {
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length > 0) return tuples;
  return action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn, Weight: DEFAULT_TUPLE_WEIGHT }] : [];
}

/**
 * Raw weights by color of the rule's forward action. A target group that is neither color is
 * ROUTE_INVALID naming it; a color the action does not list has weight 0.
 */
export function readRawWeights(rule: Rule, targetGroupArns: Record<Color, string>, what: string): RawWeights {
  const weights: Record<Color, number> = { blue: 0, green: 0 };
  for (const tuple of tuplesOf(findForwardAction(rule, what))) {
    const color = COLORS.find((c) => targetGroupArns[c] === tuple.TargetGroupArn);
    if (!color) {
      throw new ZdtError(ErrorName.ROUTE_INVALID, `${what} ${rule.RuleArn} forwards to target group ${tuple.TargetGroupArn}, which is neither blue (${targetGroupArns.blue}) nor green (${targetGroupArns.green})`);
    }
    weights[color] += tuple.Weight ?? DEFAULT_TUPLE_WEIGHT;
  }
  return weights;
}

/** Both colors' target groups with their weights. A 0 weight keeps the idle color attached, so ALB keeps health-checking it. */
export function forwardTuples(weights: RawWeights, targetGroupArns: Record<Color, string>): TargetGroupTuple[] {
  return COLORS.map((color) => ({ TargetGroupArn: targetGroupArns[color], Weight: weights[color] }));
}

export function readStickiness(action: Action): Stickiness {
  const config = action.ForwardConfig?.TargetGroupStickinessConfig;
  return config?.Enabled ? { enabled: true, durationSeconds: config.DurationSeconds } : NO_STICKINESS;
}

/** Stickiness of `seconds` (0: off). */
export function stickinessOf(seconds: number): Stickiness {
  return seconds > 0 ? { enabled: true, durationSeconds: seconds } : NO_STICKINESS;
}

export function sameStickiness(a: Stickiness, b: Stickiness): boolean {
  return a.enabled === b.enabled && a.durationSeconds === b.durationSeconds;
}

function stickinessConfig(stickiness: Stickiness): TargetGroupStickinessConfig | undefined {
  return stickiness.enabled ? { Enabled: true, DurationSeconds: stickiness.durationSeconds } : undefined;
}

/** A forward action (ForwardConfig only, so it may list several target groups). */
export function forwardAction(tuples: TargetGroupTuple[], stickiness: Stickiness, order?: number): Action {
  const config = stickinessConfig(stickiness);
  return {
    Type: FORWARD,
    ...(order !== undefined ? { Order: order } : {}),
    ForwardConfig: { TargetGroups: tuples, ...(config ? { TargetGroupStickinessConfig: config } : {}) },
  };
}

/** What the live-route custom resource and the router call the production rule in messages. */
export const LIVE_RULE = 'Live rule';

/**
 * The rule's actions with its forward action replaced by one forwarding `weights` to `targetGroupArns`, keeping the
 * other actions (authentication...), the action order, and the rule's stickiness unless `stickiness` is given.
 * Returns the new forward action too, for comparing it with the current one.
 */
export function actionsWithWeights(
  rule: Rule, weights: RawWeights, targetGroupArns: Record<Color, string>, what: string, stickiness?: Stickiness,
): { readonly actions: Action[]; readonly current: Action; readonly next: Action } {
  const current = findForwardAction(rule, what);
  const next = forwardAction(forwardTuples(weights, targetGroupArns), stickiness ?? readStickiness(current), current.Order);
  return { actions: (rule.Actions ?? []).map((a) => (a === current ? next : echoAction(a))), current, next };
}

/**
 * An action read with DescribeRules, made fit to be written back with ModifyRule: ALB never returns an OIDC
 * client secret, and ModifyRule refuses an authenticate-oidc action without one unless told to keep it.
 */
export function echoAction(action: Action): Action {
  const oidc = action.AuthenticateOidcConfig;
  if (oidc && oidc.ClientSecret === undefined) {
    return { ...action, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
  }
  return action;
}

/** Target group ARN -> weight of a forward action, for comparing what it forwards where. */
export function tupleMap(action: Action): Map<string, number> {
  const map = new Map<string, number>();
  for (const t of tuplesOf(action)) {
    if (t.TargetGroupArn) map.set(t.TargetGroupArn, (map.get(t.TargetGroupArn) ?? 0) + (t.Weight ?? DEFAULT_TUPLE_WEIGHT));
  }
  return map;
}

/** True when both actions list the same target groups with the same weights (in any order). */
export function sameTuples(a: Action, b: Action): boolean {
  const ma = tupleMap(a);
  const mb = tupleMap(b);
  return ma.size === mb.size && [...ma].every(([arn, w]) => mb.get(arn) === w);
}
