/**
 * DynamoDB attribute values (DynamoDB JSON: S, N, B, BOOL, NULL, M, L, SS, NS, BS) for the fake:
 * validation with DynamoDB's messages, decimal numbers (exact, up to 38 significant digits, as
 * DynamoDB stores them), equality and ordering.
 */
import { awsError } from './aws-errors';

/** A DynamoDB attribute value, exactly one member set. */
export interface AttrValue {
  S?: string;
  N?: string;
  B?: Uint8Array;
  BOOL?: boolean;
  NULL?: boolean;
  M?: Record<string, AttrValue>;
  L?: AttrValue[];
  SS?: string[];
  NS?: string[];
  BS?: Uint8Array[];
}
export type Item = Record<string, AttrValue>;
export type AttrType = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';
export const ATTR_TYPES: readonly AttrType[] = ['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS'];

/** DynamoDB numbers: at most 38 significant digits, magnitude between 1E-130 and 9.99...E+125. */
export const MAX_NUMBER_DIGITS = 38;
export const MAX_NUMBER_EXPONENT = 125;
export const MIN_NUMBER_EXPONENT = -130;

export function validationException(message: string): Error {
  return awsError('dynamodb', 'ValidationException', message);
}

/** The type of a value; throws the ValidationException DynamoDB gives for none or several members. */
export function typeOf(value: AttrValue | undefined): AttrType {
  if (value === null || typeof value !== 'object') {
    throw validationException('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  }
  const set = ATTR_TYPES.filter((t) => (value as Record<string, unknown>)[t] !== undefined);
  if (set.length === 0) throw validationException('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  if (set.length > 1) throw validationException('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
  return set[0];
}

/** A decimal number: value = sign * digits * 10^exponent, digits without leading/trailing zeros ("" for zero). */
interface Decimal { readonly negative: boolean; readonly digits: string; readonly exponent: number }

function parseDecimal(text: string): Decimal {
  const match = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) {
    throw validationException(`The parameter cannot be converted to a numeric value: ${text}`);
  }
  const intPart = match[2];
  const fracPart = match[3] ?? '';
  let digits = (intPart + fracPart).replace(/^0+/, '');
  let exponent = Number(match[4] ?? 0) - fracPart.length;
  const trailing = /0+$/.exec(digits);
  if (trailing) {
    digits = digits.slice(0, -trailing[0].length);
    exponent += trailing[0].length;
  }
  if (digits === '') return { negative: false, digits: '', exponent: 0 };
  if (digits.length > MAX_NUMBER_DIGITS) throw validationException('Attempting to store more than 38 significant digits in a Number');
  const magnitude = exponent + digits.length - 1;
  if (magnitude > MAX_NUMBER_EXPONENT) throw validationException('Number overflow. Attempting to store a number with magnitude larger than supported range');
  if (magnitude < MIN_NUMBER_EXPONENT) throw validationException('Number underflow. Attempting to store a number with magnitude smaller than supported range');
  return { negative: match[1] === '-', digits, exponent };
}

function formatDecimal(d: Decimal): string {
  if (d.digits === '') return '0';
  const sign = d.negative ? '-' : '';
  if (d.exponent >= 0) return sign + d.digits + '0'.repeat(d.exponent);
  const point = d.digits.length + d.exponent;
  if (point > 0) return `${sign}${d.digits.slice(0, point)}.${d.digits.slice(point)}`;
  return `${sign}0.${'0'.repeat(-point)}${d.digits}`;
}

/** The canonical text DynamoDB returns for a number ("1.50" -> "1.5", "01" -> "1", "1e2" -> "100"). */
export function normalizeNumber(text: string): string {
  return formatDecimal(parseDecimal(text));
}

function scaled(d: Decimal, exponent: number): bigint {
  if (d.digits === '') return 0n;
  const value = BigInt(d.digits) * 10n ** BigInt(d.exponent - exponent);
  return d.negative ? -value : value;
}

/** Exact a + b or a - b of two DynamoDB numbers. */
export function addNumbers(a: string, b: string, subtract = false): string {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const exponent = Math.min(x.exponent, y.exponent);
  const sum = scaled(x, exponent) + (subtract ? -scaled(y, exponent) : scaled(y, exponent));
  const negative = sum < 0n;
  return normalizeNumber(`${negative ? '-' : ''}${(negative ? -sum : sum).toString()}e${exponent}`);
}

/** Numeric comparison of two DynamoDB numbers (-1, 0, 1). */
export function compareNumbers(a: string, b: string): number {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  const exponent = Math.min(x.exponent, y.exponent);
  const diff = scaled(x, exponent) - scaled(y, exponent);
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareStrings(a: string, b: string): number {
  return compareBytes(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Validates a value (recursively) and returns its normalized copy: numbers canonical, sets
 * non-empty and without duplicates, as DynamoDB requires.
 */
export function normalizeValue(value: AttrValue): AttrValue {
  const type = typeOf(value);
  switch (type) {
    case 'S':
      if (typeof value.S !== 'string') throw validationException('One or more parameter values were invalid: S must be a string');
      return { S: value.S };
    case 'N': return { N: normalizeNumber(String(value.N)) };
    case 'B': return { B: Uint8Array.from(value.B!) };
    case 'BOOL': return { BOOL: Boolean(value.BOOL) };
    case 'NULL':
      if (value.NULL !== true) throw validationException('One or more parameter values were invalid: Null attribute value types must have the value of true');
      return { NULL: true };
    case 'M': {
      const out: Record<string, AttrValue> = {};
      for (const [k, v] of Object.entries(value.M!)) out[k] = normalizeValue(v);
      return { M: out };
    }
    case 'L': return { L: value.L!.map(normalizeValue) };
    case 'SS': case 'NS': case 'BS': {
      const list = value[type] as unknown[];
      const label = type === 'SS' ? 'string' : type === 'NS' ? 'number' : 'binary';
      if (list.length === 0) throw validationException(`One or more parameter values were invalid: An ${label} set  may not be empty`);
      const normalized = type === 'NS' ? (list as string[]).map((n) => normalizeNumber(String(n)))
        : type === 'SS' ? [...(list as string[])] : (list as Uint8Array[]).map((b) => Uint8Array.from(b));
      const keys = normalized.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x));
      if (new Set(keys).size !== keys.length) {
        throw validationException(`One or more parameter values were invalid: Input collection [${keys.join(', ')}] contains duplicates.`);
      }
      return { [type]: normalized } as AttrValue;
    }
    default: throw validationException(`Unsupported attribute value type ${String(type)}`);
  }
}

/** Deep equality of two values (sets unordered, numbers numerically). */
export function valuesEqual(a: AttrValue, b: AttrValue): boolean {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return false;
  switch (ta) {
    case 'S': return a.S === b.S;
    case 'N': return compareNumbers(a.N!, b.N!) === 0;
    case 'B': return compareBytes(a.B!, b.B!) === 0;
    case 'BOOL': return a.BOOL === b.BOOL;
    case 'NULL': return true;
    case 'M': {
      const ka = Object.keys(a.M!);
      return ka.length === Object.keys(b.M!).length && ka.every((k) => b.M![k] !== undefined && valuesEqual(a.M![k], b.M![k]));
    }
    case 'L': return a.L!.length === b.L!.length && a.L!.every((v, i) => valuesEqual(v, b.L![i]));
    case 'SS': return sameSet(a.SS!, b.SS!, (x, y) => x === y);
    case 'NS': return sameSet(a.NS!, b.NS!, (x, y) => compareNumbers(x, y) === 0);
    default: return sameSet(a.BS!, b.BS!, (x, y) => compareBytes(x, y) === 0);
  }
}

function sameSet<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => eq(x, y)));
}

/** Ordering of two scalars of the same type S, N or B; undefined when they cannot be ordered (then a comparison is false). */
export function compareValues(a: AttrValue, b: AttrValue): number | undefined {
  const ta = typeOf(a);
  if (ta !== typeOf(b)) return undefined;
  switch (ta) {
    case 'S': return compareStrings(a.S!, b.S!);
    case 'N': return compareNumbers(a.N!, b.N!);
    case 'B': return compareBytes(a.B!, b.B!);
    default: return undefined;
  }
}

/** A stable string for a key value (items are stored by it). */
export function keyString(value: AttrValue): string {
  const type = typeOf(value);
  if (type === 'B') return `B:${Buffer.from(value.B!).toString('base64')}`;
  if (type === 'N') return `N:${normalizeNumber(value.N!)}`;
  return `${type}:${String(value[type])}`;
}
