/**
 * EventBridge event patterns, as the service matches them (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
 *
 * - A pattern is a JSON object whose leaves are arrays; a field matches when its value matches **any** element of
 *   the array (an array in the event matches when any of its elements does). Nested objects match nested fields
 *   (`detail: { status: ['FAILED'] }`). Every field of the pattern must match (AND); `$or` takes alternatives.
 * - Array elements are exact values (string, number compared numerically, boolean, null) or content filters:
 *   `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a value, a list, or `{ prefix }` / `{ suffix }`),
 *   `exists`, `numeric` (`['>', 0, '<=', 5]`) and `wildcard` (`*`).
 * - `exists` and `anything-but` look at leaves only: a field holding an object does not "exist" for them. A missing
 *   field matches only `exists: false`.
 *
 * Not implemented: `cidr` (refused with an error that says so).
 */

export type EventPattern = Readonly<Record<string, unknown>>;

/** Why a pattern is invalid (EventBridge refuses it at PutRule: "Event pattern is not valid"). */
export class InvalidEventPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventPatternError';
  }
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);
const FILTERS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'exists', 'numeric', 'wildcard', 'cidr']);
const OR_KEY = '$or';

/** A pattern given as a JSON string (as CloudFormation / PutRule may carry it) or as an object. */
export function parseEventPattern(pattern: string | EventPattern): EventPattern {
  let parsed: unknown = pattern;
  if (typeof pattern === 'string') {
    try {
      parsed = JSON.parse(pattern);
    } catch (err) {
      throw new InvalidEventPatternError(`Event pattern is not valid JSON (${(err as Error).message}): ${pattern.slice(0, 200)}`);
    }
  }
  if (!isObject(parsed)) throw new InvalidEventPatternError(`Event pattern must be a JSON object, got ${JSON.stringify(parsed)}`);
  validate(parsed, '');
  return parsed;
}

/** True when `event` (an EventBridge event: source, detail-type, detail, ...) matches `pattern`. */
export function matchesEventPattern(pattern: string | EventPattern, event: unknown): boolean {
  const parsed = parseEventPattern(pattern);
  return matchObject(parsed, event);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function validate(pattern: Record<string, unknown>, path: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    const where = path ? `${path}.${key}` : key;
    if (key === OR_KEY) {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        throw new InvalidEventPatternError(`Event pattern "${where}": "$or" must be an array of at least two patterns`);
      }
      value.forEach((p, i) => validate(p as Record<string, unknown>, `${where}[${i}]`));
    } else if (Array.isArray(value)) {
      value.forEach((element) => validateElement(element, where));
    } else if (isObject(value)) {
      validate(value, where);
    } else {
      throw new InvalidEventPatternError(`Event pattern "${where}": expected an array of values or a nested object, got ${JSON.stringify(value)}`);
    }
  }
}

function validateElement(element: unknown, where: string): void {
  if (!isObject(element)) {
    if (Array.isArray(element)) throw new InvalidEventPatternError(`Event pattern "${where}": nested arrays are not allowed, got ${JSON.stringify(element)}`);
    return;
  }
  const keys = Object.keys(element);
  if (keys.length !== 1 || !FILTERS.has(keys[0])) {
    throw new InvalidEventPatternError(`Event pattern "${where}": expected one content filter (${[...FILTERS].join(', ')}), got ${JSON.stringify(element)}`);
  }
  const [filter] = keys;
  const arg = element[filter];
  switch (filter) {
    case 'prefix':
    case 'suffix':
      if (typeof arg !== 'string' && !(isObject(arg) && typeof arg['equals-ignore-case'] === 'string')) {
        throw new InvalidEventPatternError(`Event pattern "${where}": "${filter}" takes a string, got ${JSON.stringify(arg)}`);
      }
      break;
    case 'equals-ignore-case':
    case 'wildcard':
      if (typeof arg !== 'string') throw new InvalidEventPatternError(`Event pattern "${where}": "${filter}" takes a string, got ${JSON.stringify(arg)}`);
      break;
    case 'exists':
      if (typeof arg !== 'boolean') throw new InvalidEventPatternError(`Event pattern "${where}": "exists" takes true or false, got ${JSON.stringify(arg)}`);
      break;
    case 'numeric':
      numericConditions(arg, where);
      break;
    case 'anything-but':
      if (isObject(arg)) {
        const [inner] = Object.keys(arg);
        if (Object.keys(arg).length !== 1 || !['prefix', 'suffix', 'equals-ignore-case'].includes(inner)) {
          throw new InvalidEventPatternError(`Event pattern "${where}": "anything-but" takes a value, a list, or { prefix | suffix | equals-ignore-case }, got ${JSON.stringify(arg)}`);
        }
      } else if (Array.isArray(arg) && arg.some((a) => a !== null && typeof a === 'object')) {
        throw new InvalidEventPatternError(`Event pattern "${where}": "anything-but" lists hold plain values, got ${JSON.stringify(arg)}`);
      }
      break;
    case 'cidr':
      throw new InvalidEventPatternError(`Event pattern "${where}": "cidr" matching is not supported by the rehearsal`);
    default:
      break;
  }
}

function numericConditions(arg: unknown, where: string): Array<[string, number]> {
  if (!Array.isArray(arg) || arg.length === 0 || arg.length % 2 !== 0) {
    throw new InvalidEventPatternError(`Event pattern "${where}": "numeric" takes pairs of operator and number, e.g. [">", 0, "<=", 5], got ${JSON.stringify(arg)}`);
  }
  const pairs: Array<[string, number]> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const [op, n] = [arg[i], arg[i + 1]];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op) || typeof n !== 'number' || !Number.isFinite(n)) {
      throw new InvalidEventPatternError(`Event pattern "${where}": "numeric" expected an operator (${[...NUMERIC_OPERATORS].join(' ')}) and a number, got ${JSON.stringify([op, n])}`);
    }
    pairs.push([op, n]);
  }
  return pairs;
}

function matchObject(pattern: Readonly<Record<string, unknown>>, value: unknown): boolean {
  const target = isObject(value) ? value : undefined;
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === OR_KEY) return (sub as Array<Record<string, unknown>>).some((alternative) => matchObject(alternative, value));
    const field = target && Object.prototype.hasOwnProperty.call(target, key) ? { present: true, value: target[key] } : { present: false, value: undefined };
    if (Array.isArray(sub)) return matchLeaf(sub, field.present, field.value);
    // A nested pattern: the field must be an object (or an array of objects, any of which matches).
    if (Array.isArray(field.value)) return field.value.some((v) => matchObject(sub as Record<string, unknown>, v));
    return matchObject(sub as Record<string, unknown>, field.value);
  });
}

function matchLeaf(elements: readonly unknown[], present: boolean, value: unknown): boolean {
  const isLeaf = present && !isObject(value) && !(Array.isArray(value) && value.some((v) => isObject(v)));
  const values = Array.isArray(value) ? value : [value];
  return elements.some((element) => {
    if (isObject(element) && 'exists' in element) return element.exists === isLeaf;
    if (!isLeaf) return false;
    if (isObject(element) && 'anything-but' in element) return values.every((v) => !matchesAny(element['anything-but'], v));
    return values.some((v) => matchElement(element, v));
  });
}

/** `anything-but`: a value, a list of values, or a prefix / suffix / equals-ignore-case filter. */
function matchesAny(excluded: unknown, value: unknown): boolean {
  if (Array.isArray(excluded)) return excluded.some((e) => matchElement(e, value));
  return matchElement(excluded, value);
}

function matchElement(element: unknown, value: unknown): boolean {
  if (!isObject(element)) return exactMatch(element, value);
  const [filter] = Object.keys(element);
  const arg = element[filter];
  switch (filter) {
    case 'prefix':
    case 'suffix': {
      if (typeof value !== 'string') return false;
      const ignoreCase = isObject(arg);
      const expected = ignoreCase ? String(arg['equals-ignore-case']) : String(arg);
      const subject = ignoreCase ? value.toLowerCase() : value;
      const wanted = ignoreCase ? expected.toLowerCase() : expected;
      return filter === 'prefix' ? subject.startsWith(wanted) : subject.endsWith(wanted);
    }
    case 'equals-ignore-case':
      return typeof value === 'string' && value.toLowerCase() === String(arg).toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && wildcardRegExp(String(arg)).test(value);
    case 'numeric':
      return typeof value === 'number' && numericConditions(arg, 'numeric').every(([op, n]) => compare(op, value, n));
    default:
      return false;
  }
}

function exactMatch(expected: unknown, value: unknown): boolean {
  if (typeof expected === 'number' && typeof value === 'number') return expected === value;
  return expected === value;
}

function compare(op: string, value: number, n: number): boolean {
  switch (op) {
    case '<': return value < n;
    case '<=': return value <= n;
    case '=': return value === n;
    case '>': return value > n;
    default: return value >= n;
  }
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${escaped}$`, 's');
}
