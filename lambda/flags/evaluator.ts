import { bucketOf, percentToBuckets } from './bucket';
import {
  AttributeValue, BooleanVariant, BUCKETS, EvaluationContext, EvaluationReason, FlagCondition, FlagDefinition,
  FlagEvaluation, FlagRule, FlagsDocument, FlagValue, MultivariateFlag,
} from './document';

/**
 * Evaluates one flag of a flags document for a context. Pure and synchronous: no I/O, no clock, no randomness
 * (percentages use a stable hash of the flag key, its salt and `context.key`, see bucketOf).
 *
 * Order: a missing flag gives `fallback` (FLAG_NOT_FOUND); a disabled flag gives false, or its default variant
 * (DISABLED); otherwise the first rule that matches decides (RULE_MATCH, or PERCENTAGE when the rule has a
 * percentage and the user's bucket is inside it); when none does, the flag's default (DEFAULT, or MISSING_CONTEXT
 * when a rule could not be judged because the context lacked the user key or an attribute it needs).
 *
 * The document is expected to be valid (validateFlagsDocument; AppConfig's JSON Schema validator and the construct
 * check it before it is deployed). A rule this version does not understand never matches.
 */
export function evaluate<T extends FlagValue = FlagValue>(
  doc: FlagsDocument | undefined,
  flagKey: string,
  context: EvaluationContext = {},
  fallback?: T,
): FlagEvaluation<T> {
  const flag: FlagDefinition | undefined = doc?.flags && Object.prototype.hasOwnProperty.call(doc.flags, flagKey)
    ? doc.flags[flagKey]
    : undefined;
  if (!flag) return { flagKey, value: fallback, variant: undefined, reason: EvaluationReason.FLAG_NOT_FOUND };

  if (!flag.enabled) {
    const off = isMultivariate(flag) ? flag.default : false;
    return { flagKey, ...serve<T>(flag, off), reason: EvaluationReason.DISABLED };
  }

  const missing = new Set<string>();
  const rules = flag.rules ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const match = matchRule(flagKey, flag.salt ?? '', rule, context);
    if (match.kind === 'missing') {
      match.missing.forEach((m) => missing.add(m));
      continue;
    }
    if (match.kind === 'no') continue;
    return {
      flagKey,
      ...serve<T>(flag, rule.serve),
      reason: match.kind === 'percentage' ? EvaluationReason.PERCENTAGE : EvaluationReason.RULE_MATCH,
      ruleIndex: i,
      ...(rule.name !== undefined ? { ruleName: rule.name } : {}),
    };
  }
  if (missing.size > 0) {
    return { flagKey, ...serve<T>(flag, flag.default), reason: EvaluationReason.MISSING_CONTEXT, missing: [...missing] };
  }
  return { flagKey, ...serve<T>(flag, flag.default), reason: EvaluationReason.DEFAULT };
}

/**
 * True when a boolean flag is on for the context (false when it is off, disabled, missing, or not boolean).
 * The everyday call: `if (isEnabled(flags, 'new-checkout', { key: userId, segment })) { ... }`.
 */
export function isEnabled(doc: FlagsDocument | undefined, flagKey: string, context: EvaluationContext = {}): boolean {
  return evaluate(doc, flagKey, context).value === true;
}

/** Every flag of the document evaluated for one context, by key (e.g. to pass a request's flags to a front end). */
export function evaluateAll(doc: FlagsDocument | undefined, context: EvaluationContext = {}): Record<string, FlagEvaluation> {
  const result: Record<string, FlagEvaluation> = {};
  for (const key of Object.keys(doc?.flags ?? {})) result[key] = evaluate(doc, key, context);
  return result;
}

function isMultivariate(flag: FlagDefinition): flag is MultivariateFlag {
  return (flag as MultivariateFlag).variants !== undefined;
}

function serve<T extends FlagValue>(flag: FlagDefinition, served: boolean | string): { value: T | undefined; variant: string | undefined } {
  if (isMultivariate(flag)) {
    const name = String(served);
    return Object.prototype.hasOwnProperty.call(flag.variants, name)
      ? { value: flag.variants[name] as T, variant: name }
      : { value: undefined, variant: undefined };
  }
  const on = served === true;
  return { value: on as T, variant: on ? BooleanVariant.ON : BooleanVariant.OFF };
}

type RuleMatch =
  | { readonly kind: 'no' }
  | { readonly kind: 'rule' }
  | { readonly kind: 'percentage' }
  | { readonly kind: 'missing'; readonly missing: readonly string[] };

const NO: RuleMatch = { kind: 'no' };

function matchRule(flagKey: string, salt: string, rule: FlagRule, context: EvaluationContext): RuleMatch {
  if (rule.segments !== undefined) {
    const segment = context.segment;
    if (segment === undefined || !rule.segments.some((pattern) => segmentMatches(pattern, segment))) return NO;
  }
  const missing: string[] = [];
  for (const condition of rule.conditions ?? []) {
    const outcome = checkCondition(condition, context.attributes?.[condition.attribute]);
    if (outcome === false) return NO;
    if (outcome === 'missing') missing.push(`attributes.${condition.attribute}`);
  }
  if (rule.percent === undefined) return missing.length > 0 ? { kind: 'missing', missing } : { kind: 'rule' };

  const threshold = percentToBuckets(rule.percent);
  if (threshold <= 0) return NO;
  if (threshold < BUCKETS) {
    if (context.key === undefined || context.key === '') missing.push('key');
    if (missing.length > 0) return { kind: 'missing', missing };
    if (bucketOf(flagKey, salt, context.key!) >= threshold) return NO;
  } else if (missing.length > 0) {
    return { kind: 'missing', missing };
  }
  return { kind: 'percentage' };
}

/** true / false, or 'missing' when the context has no such attribute. */
function checkCondition(condition: FlagCondition, actual: AttributeValue | undefined): boolean | 'missing' {
  if (actual === undefined || actual === null) return 'missing';
  const text = String(actual);
  switch (condition.op) {
    case 'equals': return text === String(condition.value);
    case 'notEquals': return text !== String(condition.value);
    case 'in': return condition.values.some((v) => String(v) === text);
    case 'notIn': return !condition.values.some((v) => String(v) === text);
    case 'startsWith': return text.startsWith(condition.value);
    case 'lt': case 'lte': case 'gt': case 'gte': {
      const n = toNumber(actual);
      if (n === undefined) return false;
      if (condition.op === 'lt') return n < condition.value;
      if (condition.op === 'lte') return n <= condition.value;
      if (condition.op === 'gt') return n > condition.value;
      return n >= condition.value;
    }
    default: return false;
  }
}

function toNumber(value: AttributeValue): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** ALB http-header matching: case-insensitive, `*` any run of characters, `?` exactly one. */
export function segmentMatches(pattern: string, segment: string): boolean {
  return wildcardMatch(pattern, segment, true);
}

/**
 * ALB's wildcard matching (`*` any run of characters, `?` exactly one), case-insensitive for headers and hosts,
 * sensitive for paths. The rehearsal's ALB matches its rule conditions with it too, so a flag's segment and the
 * ALB's segment route cannot disagree.
 */
export function wildcardMatch(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const s = caseInsensitive ? value.toLowerCase() : value;
  if (!p.includes('*') && !p.includes('?')) return p === s;
  // Iterative wildcard match (no regular expression built from data): linear in practice, no backtracking blow-up.
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star >= 0) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
