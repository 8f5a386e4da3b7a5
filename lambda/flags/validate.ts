import {
  ATTRIBUTE_NAME_PATTERN, CONDITION_OPERATORS, FLAG_KEY_PATTERN, FLAGS_DOCUMENT_VERSION, FlagsDocument,
  MAX_CONDITION_VALUES, MAX_DOCUMENT_BYTES, MAX_RULES_PER_FLAG, PERCENT_DECIMALS, SEGMENT_PATTERN, VARIANT_NAME_PATTERN,
} from './document';
import { show } from '../shared/show';

/** Longest rendering of a rejected value in a message. */
const MAX_SHOWN_CHARS = 80;

const DOCUMENT_FIELDS = ['version', 'flags'];
const FLAG_FIELDS = ['description', 'enabled', 'default', 'variants', 'rules', 'salt'];
const RULE_FIELDS = ['name', 'segments', 'conditions', 'percent', 'serve'];
/** Deeper nesting of a variant's value than this is a mistake (or a cycle), not a variant. */
const MAX_VARIANT_DEPTH = 32;
const ONE_VALUE_OPERATORS = ['equals', 'notEquals', 'startsWith', 'lt', 'lte', 'gt', 'gte'];

/**
 * Every problem of a flags document, each as `<JSON path>: expected <what is allowed>, got <value>`, e.g.
 * `flags.checkout.rules[2].percent: expected a number 0..100 with at most 2 decimals, got 140`.
 * An empty list means the document is valid: `evaluate` will read it as written.
 *
 * Checks what the JSON Schema (FLAGS_JSON_SCHEMA) checks, and what a schema cannot: that `default` and `serve` name
 * existing variants, duplicate segments, and rules that can never be reached.
 */
export function validateFlagsDocument(doc: unknown): string[] {
  const problems: string[] = [];
  const problem = (path: string, expected: string, value: unknown) => problems.push(`${path}: expected ${expected}, got ${show(value, MAX_SHOWN_CHARS)}`);

  if (!isObject(doc)) {
    problem('(document)', 'an object with "version" and "flags"', doc);
    return problems;
  }
  unknownFields(doc, '', DOCUMENT_FIELDS, problems);
  if (doc.version !== FLAGS_DOCUMENT_VERSION) problem('version', `${FLAGS_DOCUMENT_VERSION}`, doc.version);
  if (!isObject(doc.flags)) {
    problem('flags', 'an object of flags by key', doc.flags);
  } else {
    for (const [key, flag] of Object.entries(doc.flags)) {
      const path = `flags${member(key)}`;
      if (!FLAG_KEY_PATTERN.test(key)) {
        problem(path, 'a flag key of 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit', key);
      }
      validateFlag(path, flag, problem, problems);
    }
  }
  const bytes = jsonBytes(doc);
  if (bytes === undefined) problem('(document)', 'a JSON-serializable value', '(not serializable)');
  else if (bytes > MAX_DOCUMENT_BYTES) problem('(document)', `at most ${MAX_DOCUMENT_BYTES} bytes of JSON`, `${bytes} bytes`);
  return problems;
}

/** The problems of a document, thrown together. */
export class InvalidFlagsDocumentError extends Error {
  constructor(public readonly problems: readonly string[], source = 'flags document') {
    super(`Invalid ${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`);
    this.name = 'InvalidFlagsDocumentError';
  }
}

/** Throws InvalidFlagsDocumentError listing every problem unless `doc` is a valid flags document. */
export function assertFlagsDocument(doc: unknown, source?: string): asserts doc is FlagsDocument {
  const problems = validateFlagsDocument(doc);
  if (problems.length > 0) throw new InvalidFlagsDocumentError(problems, source);
}

/**
 * Parses and validates a flags document (the body AppConfig returns: a string, or bytes from GetLatestConfiguration).
 * Throws InvalidFlagsDocumentError with every problem, naming `source`.
 */
export function parseFlagsDocument(body: string | Uint8Array, source = 'flags document'): FlagsDocument {
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidFlagsDocumentError([`(document): expected JSON, got a parse error: ${(err as Error).message}`], source);
  }
  assertFlagsDocument(doc, source);
  return doc;
}

type Problem = (path: string, expected: string, value: unknown) => void;

function validateFlag(path: string, flag: unknown, problem: Problem, problems: string[]): void {
  if (!isObject(flag)) {
    problem(path, 'a flag object with "enabled" and "default"', flag);
    return;
  }
  unknownFields(flag, path, FLAG_FIELDS, problems);
  if (flag.description !== undefined && typeof flag.description !== 'string') problem(`${path}.description`, 'a string', flag.description);
  if (typeof flag.enabled !== 'boolean') problem(`${path}.enabled`, 'true or false', flag.enabled);
  if (flag.salt !== undefined && typeof flag.salt !== 'string') problem(`${path}.salt`, 'a string', flag.salt);

  let variantNames: string[] | undefined;
  if (flag.variants !== undefined) {
    if (!isObject(flag.variants) || Object.keys(flag.variants).length === 0) {
      problem(`${path}.variants`, 'an object of at least one variant by name (or no "variants" for a boolean flag)', flag.variants);
      variantNames = [];
    } else {
      variantNames = Object.keys(flag.variants);
      for (const [name, value] of Object.entries(flag.variants)) {
        if (!VARIANT_NAME_PATTERN.test(name)) {
          problem(`${path}.variants${member(name)}`, 'a variant name of 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit', name);
        }
        if (!isJsonValue(value)) problem(`${path}.variants${member(name)}`, 'a JSON value (string, finite number, boolean, null, array, object)', value);
      }
    }
  }
  const expectedServe = variantNames === undefined
    ? 'true or false (a boolean flag)'
    : `one of the variants ${variantNames.map((n) => JSON.stringify(n)).join(', ') || '(none)'}`;
  const validServe = (value: unknown) => (variantNames === undefined ? typeof value === 'boolean' : typeof value === 'string' && variantNames.includes(value));
  if (!validServe(flag.default)) problem(`${path}.default`, expectedServe, flag.default);

  if (flag.rules === undefined) return;
  if (!Array.isArray(flag.rules)) {
    problem(`${path}.rules`, 'an array of rules', flag.rules);
    return;
  }
  const rules: unknown[] = flag.rules;
  if (rules.length > MAX_RULES_PER_FLAG) problem(`${path}.rules`, `at most ${MAX_RULES_PER_FLAG} rules`, `${rules.length} rules`);
  rules.forEach((rule, i) => {
    const rulePath = `${path}.rules[${i}]`;
    if (!isObject(rule)) {
      problem(rulePath, 'a rule object with "serve"', rule);
      return;
    }
    unknownFields(rule, rulePath, RULE_FIELDS, problems);
    if (rule.name !== undefined && typeof rule.name !== 'string') problem(`${rulePath}.name`, 'a string', rule.name);
    if (!validServe(rule.serve)) problem(`${rulePath}.serve`, expectedServe, rule.serve);
    validateSegments(`${rulePath}.segments`, rule.segments, problem);
    validateConditions(`${rulePath}.conditions`, rule.conditions, problem, problems);
    if (rule.percent !== undefined && !isPercent(rule.percent)) {
      problem(`${rulePath}.percent`, `a number 0..100 with at most ${PERCENT_DECIMALS} decimals`, rule.percent);
    }
    const matchesEveryone = rule.segments === undefined && rule.conditions === undefined
      && (rule.percent === undefined || rule.percent === 100);
    const rest = rules.length - i - 1;
    if (matchesEveryone && rest > 0) {
      const unreachable = rest === 1 ? `rules[${i + 1}] is` : `rules[${i + 1}..${i + rest}] are`;
      problem(rulePath, `segments, conditions or a percent below 100 on every rule but the last (this rule matches every user, so ${unreachable} never reached)`,
        rule);
    }
  });
}

function validateSegments(path: string, segments: unknown, problem: Problem): void {
  if (segments === undefined) return;
  if (!Array.isArray(segments) || segments.length === 0) {
    problem(path, 'a non-empty array of segment names (or no "segments": any segment)', segments);
    return;
  }
  const seen = new Set<string>();
  segments.forEach((segment, j) => {
    if (typeof segment !== 'string' || !SEGMENT_PATTERN.test(segment)) {
      problem(`${path}[${j}]`, 'a segment of 1-128 letters, digits, ".", "_", "-", "*" or "?" (a value of the segment header)', segment);
    } else if (seen.has(segment.toLowerCase())) {
      problem(`${path}[${j}]`, 'each segment once (segments match case-insensitively)', segment);
    } else {
      seen.add(segment.toLowerCase());
    }
  });
}

function validateConditions(path: string, conditions: unknown, problem: Problem, problems: string[]): void {
  if (conditions === undefined) return;
  if (!Array.isArray(conditions) || conditions.length === 0) {
    problem(path, 'a non-empty array of conditions (or no "conditions")', conditions);
    return;
  }
  conditions.forEach((condition, j) => {
    const where = `${path}[${j}]`;
    if (!isObject(condition)) {
      problem(where, 'a condition object with "attribute", "op" and "value" or "values"', condition);
      return;
    }
    if (typeof condition.attribute !== 'string' || !ATTRIBUTE_NAME_PATTERN.test(condition.attribute)) {
      problem(`${where}.attribute`, 'an attribute name of 1-128 characters without whitespace', condition.attribute);
    }
    const op = condition.op;
    if (typeof op !== 'string' || !(CONDITION_OPERATORS as readonly string[]).includes(op)) {
      problem(`${where}.op`, `one of ${CONDITION_OPERATORS.join(', ')}`, op);
      unknownFields(condition, where, ['attribute', 'op', 'value', 'values'], problems);
      return;
    }
    if (op === 'in' || op === 'notIn') {
      unknownFields(condition, where, ['attribute', 'op', 'values'], problems);
      const values = condition.values;
      if (!Array.isArray(values) || values.length === 0 || values.length > MAX_CONDITION_VALUES) {
        problem(`${where}.values`, `an array of 1-${MAX_CONDITION_VALUES} strings, numbers or booleans`, values);
      } else {
        values.forEach((v, k) => {
          if (!isAttributeValue(v)) problem(`${where}.values[${k}]`, 'a string, finite number or boolean', v);
        });
      }
      return;
    }
    if (ONE_VALUE_OPERATORS.includes(op)) unknownFields(condition, where, ['attribute', 'op', 'value'], problems);
    const value = condition.value;
    if (op === 'startsWith') {
      if (typeof value !== 'string' || value === '') problem(`${where}.value`, 'a non-empty string (startsWith)', value);
    } else if (op === 'equals' || op === 'notEquals') {
      if (!isAttributeValue(value)) problem(`${where}.value`, `a string, finite number or boolean (${op})`, value);
    } else if (typeof value !== 'number' || !Number.isFinite(value)) {
      problem(`${where}.value`, `a finite number (${op})`, value);
    }
  });
}

function unknownFields(obj: Record<string, unknown>, path: string, allowed: readonly string[], problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      problems.push(`${path ? `${path}${member(key)}` : key}: expected no such field (allowed: ${allowed.join(', ')}), got ${show(obj[key], MAX_SHOWN_CHARS)}`);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isAttributeValue(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function isPercent(value: unknown): boolean {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) return false;
  const scale = 10 ** PERCENT_DECIMALS;
  return Math.abs(Math.round(value * scale) - value * scale) < 1e-6;
}

function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > MAX_VARIANT_DEPTH) return false;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isObject(value)) return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  return false;
}

function jsonBytes(doc: unknown): number | undefined {
  try {
    return new TextEncoder().encode(JSON.stringify(doc)).length;
  } catch {
    return undefined;
  }
}

/** `.key` for plain keys, `["odd key"]` otherwise (keys holding "." too, so that paths stay unambiguous). */
function member(key: string): string {
  return /^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

