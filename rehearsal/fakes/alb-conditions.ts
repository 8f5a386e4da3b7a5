/**
 * Listener rule conditions of the fake ALB: validation with ALB's limits, the normalized shape
 * DescribeRules returns, and how a request is matched against them.
 */
import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { wildcardMatch } from '../../lambda/flags/evaluator';
import { awsError } from './aws-errors';

/** ALB quota: condition values per rule (all conditions together). */
export const MAX_CONDITION_VALUES_PER_RULE = 5;
/** ALB quota: values of one condition. */
export const MAX_VALUES_PER_CONDITION = 3;
/** ALB limit: characters of a path-pattern or host-header value. */
export const MAX_CONDITION_VALUE_LENGTH = 128;
/** ALB limit: characters of an http-header condition's header name. */
export const MAX_HEADER_NAME_LENGTH = 40;

/** Condition fields that may appear at most once in a rule (http-header and query-string may repeat). */
const SINGLE_USE_FIELDS = new Set(['host-header', 'path-pattern', 'http-request-method', 'source-ip']);
const FIELDS = new Set([...SINGLE_USE_FIELDS, 'http-header', 'query-string']);
/** RFC 7230 token characters, the only ones an HTTP header name may use. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** A simulated HTTP request, matched against listener rules. */
export interface SimulatedRequest {
  /** Header name -> value(s); names are matched case-insensitively. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Request path without the query string. @default "/" */
  readonly path?: string;
  /** Host header. @default none: host-header conditions do not match */
  readonly host?: string;
  /** HTTP method. @default "GET" */
  readonly method?: string;
  /** Query string parameters. @default none */
  readonly query?: Readonly<Record<string, string>>;
  /** Client IPv4 address. @default none: source-ip conditions do not match */
  readonly sourceIp?: string;
}

function validationError(message: string): Error {
  return awsError('elbv2', 'ValidationError', message);
}

function valuesOf(condition: RuleCondition): string[] {
  switch (condition.Field) {
    case 'path-pattern': return condition.PathPatternConfig?.Values ?? condition.Values ?? [];
    case 'host-header': return condition.HostHeaderConfig?.Values ?? condition.Values ?? [];
    case 'http-header': return condition.HttpHeaderConfig?.Values ?? [];
    case 'http-request-method': return condition.HttpRequestMethodConfig?.Values ?? [];
    case 'source-ip': return condition.SourceIpConfig?.Values ?? [];
    case 'query-string': return (condition.QueryStringConfig?.Values ?? []).map((pair) => `${pair.Key ?? ''}=${pair.Value ?? ''}`);
    default: return condition.Values ?? [];
  }
}

/**
 * Validates the conditions of a rule and returns them in the shape DescribeRules returns
 * (legacy `Values` and the `...Config` form both filled for path-pattern and host-header).
 */
export function normalizeConditions(conditions: readonly RuleCondition[] | undefined, ruleLabel: string): RuleCondition[] {
  if (!conditions || conditions.length === 0) {
    throw validationError(`A rule must have at least one condition (${ruleLabel})`);
  }
  const seen = new Set<string>();
  let valueCount = 0;
  return conditions.map((condition, index) => {
    const at = `conditions.${index + 1}.member`;
    const field = condition.Field;
    if (!field || !FIELDS.has(field)) {
      throw validationError(`Condition field '${String(field)}' at '${at}.field' is not valid; expected one of ${[...FIELDS].join(', ')}`);
    }
    if (SINGLE_USE_FIELDS.has(field)) {
      if (seen.has(field)) throw validationError(`A rule can only have one '${field}' condition (${ruleLabel})`);
      seen.add(field);
    }
    const legacy = condition.Values;
    const hasConfig = condition.PathPatternConfig ?? condition.HostHeaderConfig ?? condition.HttpHeaderConfig
      ?? condition.HttpRequestMethodConfig ?? condition.QueryStringConfig ?? condition.SourceIpConfig;
    if (legacy && legacy.length > 0 && hasConfig) {
      throw validationError(`You cannot specify both 'Values' and a '${field}' condition config at '${at}'`);
    }
    if (legacy && legacy.length > 0 && field !== 'path-pattern' && field !== 'host-header') {
      throw validationError(`The '${field}' condition at '${at}' must be specified with its condition config, not 'Values'`);
    }
    const values = valuesOf(condition);
    if (values.length === 0) throw validationError(`The '${field}' condition at '${at}' must have at least one value`);
    if (values.length > MAX_VALUES_PER_CONDITION) {
      throw validationError(`The '${field}' condition at '${at}' can only have '${MAX_VALUES_PER_CONDITION}' values; it has ${values.length} (${ruleLabel})`);
    }
    valueCount += values.length;
    if (valueCount > MAX_CONDITION_VALUES_PER_RULE) {
      throw validationError(`A rule can only have '${MAX_CONDITION_VALUES_PER_RULE}' condition values; ${ruleLabel} has ${conditions.reduce((n, c) => n + valuesOf(c).length, 0)}`);
    }
    switch (field) {
      case 'path-pattern':
      case 'host-header': {
        for (const value of values) {
          if (value.length === 0 || value.length > MAX_CONDITION_VALUE_LENGTH) {
            throw validationError(`Condition value '${value}' at '${at}' must be 1-${MAX_CONDITION_VALUE_LENGTH} characters`);
          }
        }
        const config = { Values: [...values] };
        return field === 'path-pattern'
          ? { Field: field, Values: [...values], PathPatternConfig: config }
          : { Field: field, Values: [...values], HostHeaderConfig: config };
      }
      case 'http-header': {
        const name = condition.HttpHeaderConfig?.HttpHeaderName;
        if (!name || name.length > MAX_HEADER_NAME_LENGTH || !HEADER_NAME.test(name)) {
          throw validationError(`HTTP header name '${String(name)}' at '${at}.httpHeaderConfig.httpHeaderName' is not valid: 1-${MAX_HEADER_NAME_LENGTH} token characters`);
        }
        for (const value of values) {
          if (value.length === 0 || value.length > MAX_CONDITION_VALUE_LENGTH) {
            throw validationError(`HTTP header value '${value}' at '${at}' must be 1-${MAX_CONDITION_VALUE_LENGTH} characters`);
          }
        }
        return { Field: field, HttpHeaderConfig: { HttpHeaderName: name, Values: [...values] } };
      }
      case 'http-request-method':
        for (const value of values) {
          if (!/^[A-Z_-]{1,40}$/.test(value)) throw validationError(`HTTP method '${value}' at '${at}' is not valid (upper-case letters, '_' and '-')`);
        }
        return { Field: field, HttpRequestMethodConfig: { Values: [...values] } };
      case 'source-ip':
        for (const value of values) {
          if (!parseCidr(value)) throw validationError(`Source IP '${value}' at '${at}' is not a valid IPv4 CIDR block`);
        }
        return { Field: field, SourceIpConfig: { Values: [...values] } };
      default:
        return { Field: field, QueryStringConfig: { Values: (condition.QueryStringConfig?.Values ?? []).map((p) => ({ ...p })) } };
    }
  });
}


function parseIpv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const [ip, bitsText] = cidr.split('/');
  const base = parseIpv4(ip);
  const bits = Number(bitsText);
  if (base === undefined || bitsText === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  return { base, bits };
}

function headerValues(request: SimulatedRequest, name: string): string[] {
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const [key, value] of Object.entries(request.headers ?? {})) {
    if (key.toLowerCase() === wanted) out.push(...(typeof value === 'string' ? [value] : value));
  }
  return out;
}

/** True when the request matches one condition (any of its values). */
export function matchCondition(condition: RuleCondition, request: SimulatedRequest): boolean {
  const values = valuesOf(condition);
  switch (condition.Field) {
    case 'path-pattern': {
      const path = request.path ?? '/';
      return values.some((v) => wildcardMatch(v, path, false));
    }
    case 'host-header': {
      const host = request.host;
      return host !== undefined && values.some((v) => wildcardMatch(v, host, true));
    }
    case 'http-header': {
      const actual = headerValues(request, condition.HttpHeaderConfig?.HttpHeaderName ?? '');
      return actual.some((a) => values.some((v) => wildcardMatch(v, a, true)));
    }
    case 'http-request-method':
      return values.includes(request.method ?? 'GET');
    case 'query-string': {
      const query = request.query ?? {};
      return (condition.QueryStringConfig?.Values ?? []).some((pair) => Object.entries(query).some(([k, v]) =>
        (pair.Key === undefined || wildcardMatch(pair.Key, k, true)) && wildcardMatch(pair.Value ?? '*', v, true)));
    }
    case 'source-ip': {
      const ip = request.sourceIp === undefined ? undefined : parseIpv4(request.sourceIp);
      if (ip === undefined) return false;
      return values.some((v) => {
        const cidr = parseCidr(v);
        if (!cidr) return false;
        const size = 2 ** (32 - cidr.bits);
        return Math.floor(ip / size) === Math.floor(cidr.base / size);
      });
    }
    default:
      return false;
  }
}

/** True when the request matches every condition of a rule. */
export function matchConditions(conditions: readonly RuleCondition[], request: SimulatedRequest): boolean {
  return conditions.every((c) => matchCondition(c, request));
}
