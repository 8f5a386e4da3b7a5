import { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { AlbLimits } from '../shared/contracts';

/**
 * Listener rule conditions: comparison, match-evaluation counting and the segment header condition.
 *
 * DescribeRules reports a condition both in the legacy `Values` and in its typed config
 * (`PathPatternConfig.Values`...), while callers often write only one of them. Conditions are
 * therefore compared in a canonical form: field, header name (case-insensitive, as HTTP is),
 * and the sorted union of every value list.
 */

export const HTTP_HEADER_FIELD = 'http-header';

/** ALB: at most 3 match evaluations (values) per condition. */
export const MAX_VALUES_PER_CONDITION = AlbLimits.MAX_VALUES_PER_CONDITION;
/** ALB: at most 5 match evaluations (values) per rule, all conditions together. */
export const MAX_VALUES_PER_RULE = AlbLimits.MAX_VALUES_PER_RULE;

function plainValues(c: RuleCondition): string[] {
  return [
    ...(c.Values ?? []),
    ...(c.HostHeaderConfig?.Values ?? []),
    ...(c.PathPatternConfig?.Values ?? []),
    ...(c.HttpHeaderConfig?.Values ?? []),
    ...(c.HttpRequestMethodConfig?.Values ?? []),
    ...(c.SourceIpConfig?.Values ?? []),
  ];
}

function regexValues(c: RuleCondition): string[] {
  return [
    ...(c.RegexValues ?? []),
    ...(c.HostHeaderConfig?.RegexValues ?? []),
    ...(c.PathPatternConfig?.RegexValues ?? []),
    ...(c.HttpHeaderConfig?.RegexValues ?? []),
  ];
}

function queryValues(c: RuleCondition): string[] {
  return (c.QueryStringConfig?.Values ?? []).map((kv) => `${kv.Key ?? ''}=${kv.Value ?? ''}`);
}

const sortedUnique = (values: string[]) => [...new Set(values)].sort();

function canonical(c: RuleCondition): string {
  return JSON.stringify([
    c.Field ?? '',
    c.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() ?? '',
    sortedUnique(plainValues(c)),
    sortedUnique(regexValues(c)),
    sortedUnique(queryValues(c)),
  ]);
}

/** True when both lists express the same conditions (order and legacy/typed spelling aside). */
export function sameConditions(a: readonly RuleCondition[] | undefined, b: readonly RuleCondition[] | undefined): boolean {
  const ca = (a ?? []).map(canonical).sort();
  const cb = (b ?? []).map(canonical).sort();
  return ca.length === cb.length && ca.every((x, i) => x === cb[i]);
}

/** Match evaluations of a condition, as ALB counts them against its limits. */
export function matchEvaluations(c: RuleCondition): number {
  return sortedUnique(plainValues(c)).length + sortedUnique(regexValues(c)).length + sortedUnique(queryValues(c)).length;
}

/** True for an http-header condition on `headerName` (case-insensitive). */
export function isHeaderCondition(c: RuleCondition, headerName: string): boolean {
  return c.Field === HTTP_HEADER_FIELD && c.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() === headerName.toLowerCase();
}

/** The values of an http-header condition. */
export function headerValues(c: RuleCondition): string[] {
  return c.HttpHeaderConfig?.Values ?? [];
}

export function headerCondition(headerName: string, values: readonly string[]): RuleCondition {
  return { Field: HTTP_HEADER_FIELD, HttpHeaderConfig: { HttpHeaderName: headerName, Values: [...values] } };
}

/**
 * A condition as read from DescribeRules, made writable: the legacy `Values` are dropped when
 * a typed config carries them, since the API documents the two as alternatives.
 */
export function writableCondition(c: RuleCondition): RuleCondition {
  const typed = c.HostHeaderConfig ?? c.PathPatternConfig ?? c.HttpHeaderConfig ?? c.HttpRequestMethodConfig ?? c.SourceIpConfig ?? c.QueryStringConfig;
  if (!typed || c.Values === undefined) return c;
  const { Values: _legacy, ...rest } = c;
  return rest;
}

/** Set equality of two value lists. */
export function sameValueSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = sortedUnique([...a]);
  const sb = sortedUnique([...b]);
  return sa.length === sb.length && sa.every((x, i) => x === sb[i]);
}
