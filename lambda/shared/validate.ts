import { Color, ErrorName, isColor } from './contracts';
import { ZdtError } from './errors';
import { show } from './show';

/**
 * Field checks for handler requests and configurations. Every failure is an INVALID_REQUEST
 * that names where the value came from (`source`), the field, what is allowed and what was given.
 */

export function invalid(source: string, field: string, expected: string, value: unknown): ZdtError {
  return new ZdtError(ErrorName.INVALID_REQUEST, `${source}: "${field}" must be ${expected}; got ${show(value)}`);
}

/** The value as a plain object, or INVALID_REQUEST. */
export function requireObject(value: unknown, source: string, field = 'request'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(source, field, 'an object', value);
  return value as Record<string, unknown>;
}

export function requireString(obj: Record<string, unknown>, field: string, source: string): string {
  const value = obj[field];
  if (typeof value !== 'string' || value.trim() === '') throw invalid(source, field, 'a non-empty string', value);
  return value;
}

export interface IntegerRange {
  readonly min: number;
  readonly max?: number;
}

function describeRange(range: IntegerRange): string {
  return range.max === undefined ? `an integer >= ${range.min}` : `an integer from ${range.min} to ${range.max}`;
}

/** An integer field within range. `fromString` also accepts decimal strings (CloudFormation properties). */
export function requireInteger(
  obj: Record<string, unknown>, field: string, range: IntegerRange, source: string, fromString = false,
): number {
  const raw = obj[field];
  const value = fromString && typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || (range.max !== undefined && value > range.max)) {
    throw invalid(source, field, describeRange(range), raw);
  }
  return value;
}

export function optionalInteger(
  obj: Record<string, unknown>, field: string, range: IntegerRange, source: string,
): number | undefined {
  return obj[field] === undefined ? undefined : requireInteger(obj, field, range, source);
}

export function requireColor(obj: Record<string, unknown>, field: string, source: string): Color {
  const value = obj[field];
  if (!isColor(value)) throw invalid(source, field, '"blue" or "green"', value);
  return value;
}

export interface StringArrayOptions {
  /**
   * Refuse duplicate entries.
   * @default true
   */
  readonly unique?: boolean;
}

/** An array of non-empty strings, without duplicates unless `unique: false`. */
export function requireStringArray(
  obj: Record<string, unknown>, field: string, source: string, options: StringArrayOptions = {},
): string[] {
  const value = obj[field];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    throw invalid(source, field, 'an array of non-empty strings', value);
  }
  if ((options.unique ?? true) && new Set(value).size !== value.length) throw invalid(source, field, 'an array without duplicates', value);
  return value as string[];
}

export interface NumberRange {
  readonly min: number;
  readonly max?: number;
}

/** A finite number within range. */
export function requireNumber(obj: Record<string, unknown>, field: string, range: NumberRange, source: string): number {
  const value = obj[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || (range.max !== undefined && value > range.max)) {
    throw invalid(source, field, range.max === undefined ? `a number >= ${range.min}` : `a number from ${range.min} to ${range.max}`, value);
  }
  return value;
}

export function optionalNumber(obj: Record<string, unknown>, field: string, range: NumberRange, source: string): number | undefined {
  return obj[field] === undefined ? undefined : requireNumber(obj, field, range, source);
}

/** The `action` field, one of `actions`. */
export function requireAction<A extends string>(obj: Record<string, unknown>, actions: readonly A[], source: string): A {
  const value = obj.action;
  if (typeof value !== 'string' || !(actions as readonly string[]).includes(value)) {
    throw invalid(source, 'action', `one of ${actions.map((a) => `"${a}"`).join(', ')}`, value);
  }
  return value as A;
}
