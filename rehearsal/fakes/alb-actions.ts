/**
 * Listener and rule actions of the fake ALB: validation with ALB's limits and the normalized shape
 * DescribeRules / DescribeListeners return (a forward to one target group is reported both as
 * TargetGroupArn and as a ForwardConfig with weight 1 and stickiness off, as ALB does). The fake stores an
 * authenticate-oidc action's client secret; like ALB, it never returns it (`withoutClientSecrets`).
 */
import type { Action, ForwardActionConfig } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsError } from './aws-errors';
import { deepClone } from './clone';

/** ALB limit: target groups in one forward action (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#forward-actions). */
export const MAX_TARGET_GROUPS_PER_FORWARD = 5;
/** ALB limit: highest weight of a target group in a forward action (lowest is 0). */
export const MAX_FORWARD_WEIGHT = 999;
/** ALB limits of target group stickiness in a forward action, seconds (1 second to 7 days). */
export const MIN_STICKINESS_SECONDS = 1;
export const MAX_STICKINESS_SECONDS = 604_800;
/** Weight ALB gives a target group whose weight is not specified. */
export const DEFAULT_FORWARD_WEIGHT = 1;
/** Highest action Order ALB accepts. */
export const MAX_ACTION_ORDER = 50_000;

const TERMINAL_TYPES = new Set(['forward', 'redirect', 'fixed-response']);
const ACTION_TYPES = new Set([...TERMINAL_TYPES, 'authenticate-oidc', 'authenticate-cognito', 'jwt-validation']);

function validationError(message: string): Error {
  return awsError('elbv2', 'ValidationError', message);
}

/** Looks a target group up; throws TargetGroupNotFound when it does not exist. */
export type TargetGroupCheck = (targetGroupArn: string) => void;

function normalizeForward(action: Action, at: string, checkTargetGroup: TargetGroupCheck): Action {
  const config = action.ForwardConfig;
  let tuples = config?.TargetGroups?.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight ?? DEFAULT_FORWARD_WEIGHT }));
  if (action.TargetGroupArn !== undefined) {
    if (tuples && tuples.length > 0 && (tuples.length !== 1 || tuples[0].TargetGroupArn !== action.TargetGroupArn)) {
      throw validationError(`You cannot specify both a target group ARN and a forward config with other target groups at '${at}'`);
    }
    if (!tuples || tuples.length === 0) tuples = [{ TargetGroupArn: action.TargetGroupArn, Weight: DEFAULT_FORWARD_WEIGHT }];
  }
  if (!tuples || tuples.length === 0) {
    throw validationError(`A forward action at '${at}' must specify a target group ARN or a forward config with at least one target group`);
  }
  if (tuples.length > MAX_TARGET_GROUPS_PER_FORWARD) {
    throw validationError(`A forward action can have at most ${MAX_TARGET_GROUPS_PER_FORWARD} target groups; '${at}.forwardConfig.targetGroups' has ${tuples.length}`);
  }
  const seen = new Set<string>();
  tuples.forEach((tuple, i) => {
    const where = `${at}.forwardConfig.targetGroups.${i + 1}.member`;
    if (!tuple.TargetGroupArn) throw validationError(`A target group ARN must be specified at '${where}.targetGroupArn'`);
    if (seen.has(tuple.TargetGroupArn)) {
      throw validationError(`Target group '${tuple.TargetGroupArn}' is specified more than once in the forward action at '${at}'`);
    }
    seen.add(tuple.TargetGroupArn);
    if (!Number.isInteger(tuple.Weight) || tuple.Weight < 0 || tuple.Weight > MAX_FORWARD_WEIGHT) {
      throw validationError(`1 validation error detected: Value '${tuple.Weight}' at '${where}.weight' failed to satisfy constraint: Member must be an integer between 0 and ${MAX_FORWARD_WEIGHT}`);
    }
  });
  if (tuples.every((t) => t.Weight === 0)) {
    throw validationError(`At least one target group in the forward action at '${at}' must have a weight greater than 0 (weights: ${tuples.map((t) => t.Weight).join(', ')})`);
  }
  for (const tuple of tuples) checkTargetGroup(tuple.TargetGroupArn!);
  const stickiness = config?.TargetGroupStickinessConfig;
  const enabled = stickiness?.Enabled ?? false;
  const duration = stickiness?.DurationSeconds;
  if (duration !== undefined && (!Number.isInteger(duration) || duration < MIN_STICKINESS_SECONDS || duration > MAX_STICKINESS_SECONDS)) {
    throw validationError(`1 validation error detected: Value '${duration}' at '${at}.forwardConfig.targetGroupStickinessConfig.durationSeconds' failed to satisfy constraint: Member must be between ${MIN_STICKINESS_SECONDS} and ${MAX_STICKINESS_SECONDS} seconds`);
  }
  if (enabled && duration === undefined) {
    throw validationError(`Target group stickiness duration must be specified when stickiness is enabled at '${at}.forwardConfig.targetGroupStickinessConfig'`);
  }
  const forwardConfig: ForwardActionConfig = {
    TargetGroups: tuples.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight })),
    TargetGroupStickinessConfig: duration === undefined ? { Enabled: enabled } : { Enabled: enabled, DurationSeconds: duration },
  };
  const out: Action = { Type: 'forward' };
  if (tuples.length === 1) out.TargetGroupArn = tuples[0].TargetGroupArn;
  out.ForwardConfig = forwardConfig;
  return out;
}

/**
 * An authenticate-oidc action as stored: with its client secret, either given or, with UseExistingClientSecret,
 * the one of the authenticate-oidc action it replaces (ModifyRule / ModifyListener).
 */
function normalizeOidc(action: Action, at: string, label: string, existing: readonly Action[]): Action {
  const where = `${at}.authenticateOidcConfig`;
  if (!action.AuthenticateOidcConfig) throw validationError(`The authenticate-oidc action at '${at}' of ${label} must have '${where}'`);
  const { UseExistingClientSecret: useExisting, ...config } = deepClone(action.AuthenticateOidcConfig);
  if (config.ClientSecret === undefined || config.ClientSecret === '') {
    if (!useExisting) {
      throw validationError(`The authenticate-oidc action at '${at}' of ${label} must specify '${where}.clientSecret' or set '${where}.useExistingClientSecret' to true; it has neither`);
    }
    const stored = existing.find((a) => a.Type === 'authenticate-oidc' && a.AuthenticateOidcConfig?.ClientSecret)?.AuthenticateOidcConfig?.ClientSecret;
    if (stored === undefined) {
      throw validationError(`'${where}.useExistingClientSecret' is true, but ${label} has no authenticate-oidc action with a client secret to keep`);
    }
    config.ClientSecret = stored;
  }
  return { ...deepClone(action), AuthenticateOidcConfig: config };
}

/**
 * Validates a list of actions (a rule's or a listener's default actions) and returns the
 * normalized copy, sorted by Order. `existing` are the actions they replace (for UseExistingClientSecret).
 */
export function normalizeActions(actions: readonly Action[] | undefined, label: string, checkTargetGroup: TargetGroupCheck,
  existing: readonly Action[] = []): Action[] {
  if (!actions || actions.length === 0) throw validationError(`At least one action must be specified for ${label}`);
  const orders = new Set<number>();
  let terminal = 0;
  const normalized = actions.map((action, index) => {
    const at = `actions.${index + 1}.member`;
    const type = action.Type as string | undefined;
    if (!type || !ACTION_TYPES.has(type)) {
      throw validationError(`Action type '${String(type)}' at '${at}.type' is not valid; expected one of ${[...ACTION_TYPES].join(', ')}`);
    }
    if (action.Order !== undefined) {
      if (!Number.isInteger(action.Order) || action.Order < 1 || action.Order > MAX_ACTION_ORDER) {
        throw validationError(`1 validation error detected: Value '${action.Order}' at '${at}.order' failed to satisfy constraint: Member must be between 1 and ${MAX_ACTION_ORDER}`);
      }
      if (orders.has(action.Order)) throw validationError(`Action order '${action.Order}' is used by more than one action of ${label}`);
      orders.add(action.Order);
    }
    if (TERMINAL_TYPES.has(type)) terminal += 1;
    let out: Action;
    switch (type) {
      case 'forward':
        out = normalizeForward(action, at, checkTargetGroup);
        break;
      case 'fixed-response': {
        const status = action.FixedResponseConfig?.StatusCode;
        if (!status || !/^(2|4|5)\d\d$/.test(status)) {
          throw validationError(`Fixed response status code '${String(status)}' at '${at}.fixedResponseConfig.statusCode' must be a 2XX, 4XX or 5XX code`);
        }
        out = { Type: 'fixed-response', FixedResponseConfig: { ...action.FixedResponseConfig, StatusCode: status } };
        break;
      }
      case 'redirect': {
        const status = action.RedirectConfig?.StatusCode;
        if (status !== 'HTTP_301' && status !== 'HTTP_302') {
          throw validationError(`Redirect status code '${String(status)}' at '${at}.redirectConfig.statusCode' must be HTTP_301 or HTTP_302`);
        }
        out = { Type: 'redirect', RedirectConfig: { Protocol: '#{protocol}', Port: '#{port}', Host: '#{host}', Path: '/#{path}', Query: '#{query}', ...action.RedirectConfig, StatusCode: status } };
        break;
      }
      case 'authenticate-oidc':
        out = normalizeOidc(action, at, label, existing);
        break;
      default:
        out = deepClone(action);
    }
    if (action.Order !== undefined) out.Order = action.Order;
    return out;
  });
  if (terminal !== 1) {
    throw validationError(`${label} must have exactly one action of type forward, redirect or fixed-response; found ${terminal}`);
  }
  const sorted = normalized
    .map((action, index) => ({ action, key: action.Order ?? index + 1 }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.action);
  if (!TERMINAL_TYPES.has(sorted[sorted.length - 1].Type as string)) {
    throw validationError(`The forward, redirect or fixed-response action must be the last action of ${label}`);
  }
  return sorted;
}

/** Copies of actions as ALB describes them: without the client secret of authenticate-oidc actions. */
export function withoutClientSecrets(actions: readonly Action[]): Action[] {
  return actions.map((action) => {
    const copy = deepClone(action);
    if (copy.AuthenticateOidcConfig) delete copy.AuthenticateOidcConfig.ClientSecret;
    return copy;
  });
}

/** The weight of each target group of the forward action, or undefined when the actions do not forward. */
export function forwardWeightsOf(actions: readonly Action[]): Record<string, number> | undefined {
  const forward = actions.find((a) => a.Type === 'forward');
  if (!forward) return undefined;
  const weights: Record<string, number> = {};
  for (const tuple of forward.ForwardConfig?.TargetGroups ?? []) {
    if (tuple.TargetGroupArn) weights[tuple.TargetGroupArn] = tuple.Weight ?? DEFAULT_FORWARD_WEIGHT;
  }
  if (Object.keys(weights).length === 0 && forward.TargetGroupArn) weights[forward.TargetGroupArn] = DEFAULT_FORWARD_WEIGHT;
  return weights;
}

/** Every target group an action list references. */
export function targetGroupsOf(actions: readonly Action[]): string[] {
  return Object.keys(forwardWeightsOf(actions) ?? {});
}
