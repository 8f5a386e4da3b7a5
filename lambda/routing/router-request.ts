import { AlbLimits, CONFIG_ENV, RouterConfig, RouterRequest } from '../shared/contracts';
import {
  invalid, optionalInteger, requireAction, requireColor, requireInteger, requireObject, requireString, requireStringArray,
} from '../shared/validate';
import { MAX_VALUES_PER_CONDITION } from './conditions';
import { MAX_RULE_PRIORITY } from './elbv2';
import { FULL_WEIGHT } from './weights';

const REQUEST = 'Router request';
const CONFIG = `Router ${CONFIG_ENV}`;
/** ALB: at most this many characters per condition value. */
const MAX_CONDITION_VALUE_CHARS = AlbLimits.MAX_CONDITION_VALUE_LENGTH;

/** Validates a router request (INVALID_REQUEST naming the field and the value given). */
export function parseRouterRequest(event: unknown): RouterRequest {
  const obj = requireObject(event, REQUEST);
  const action = requireAction(obj, ['describe', 'checkTargets', 'shift', 'rollback'] as const, REQUEST);
  switch (action) {
    case 'describe':
      return { action };
    case 'checkTargets':
      return {
        action,
        color: requireColor(obj, 'color', REQUEST),
        minHealthyPercent: optionalInteger(obj, 'minHealthyPercent', { min: 0, max: FULL_WEIGHT }, REQUEST),
      };
    case 'shift': {
      const segments = requireStringArray(obj, 'segments', REQUEST);
      if (segments.length > MAX_VALUES_PER_CONDITION) {
        throw invalid(REQUEST, 'segments', `at most ${MAX_VALUES_PER_CONDITION} header values (ALB's limit for one condition)`, segments);
      }
      const tooLong = segments.find((s) => s.length > MAX_CONDITION_VALUE_CHARS);
      if (tooLong !== undefined) throw invalid(REQUEST, 'segments', `values of at most ${MAX_CONDITION_VALUE_CHARS} characters`, tooLong);
      return {
        action,
        targetColor: requireColor(obj, 'targetColor', REQUEST),
        percent: requireInteger(obj, 'percent', { min: 0, max: FULL_WEIGHT }, REQUEST),
        segments,
      };
    }
    case 'rollback':
      return { action, stableColor: requireColor(obj, 'stableColor', REQUEST) };
  }
}

/** Validates the router's configuration. */
export function parseRouterConfig(raw: unknown): RouterConfig {
  const obj = requireObject(raw, CONFIG, CONFIG_ENV);
  const arns = requireObject(obj.targetGroupArns, CONFIG, 'targetGroupArns');
  const targetGroupArns = { blue: requireString(arns, 'blue', `${CONFIG} targetGroupArns`), green: requireString(arns, 'green', `${CONFIG} targetGroupArns`) };
  if (targetGroupArns.blue === targetGroupArns.green) throw invalid(CONFIG, 'targetGroupArns', 'two different target groups', targetGroupArns);
  return {
    listenerArn: requireString(obj, 'listenerArn', CONFIG),
    liveRuleArn: requireString(obj, 'liveRuleArn', CONFIG),
    targetGroupArns,
    segmentHeader: requireString(obj, 'segmentHeader', CONFIG),
    segmentRulePriority: requireInteger(obj, 'segmentRulePriority', { min: 1, max: MAX_RULE_PRIORITY }, CONFIG),
    ...(obj.metrics === undefined ? {} : {
      metrics: { service: requireString(requireObject(obj.metrics, CONFIG, 'metrics'), 'service', `${CONFIG} metrics`) },
    }),
  };
}
