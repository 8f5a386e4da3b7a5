import { Color, ErrorName, Weights } from '../shared/contracts';
import { ZdtError } from '../shared/errors';

/** All production traffic, in percent. Weights are written as percentages summing to this. */
export const FULL_WEIGHT = 100;

/**
 * Weights by color as a forward action holds them: ALB accepts 0-999 per target group and
 * splits traffic in proportion, so they need not sum to 100 (someone may have written 1/1).
 */
export interface RawWeights {
  readonly blue: number;
  readonly green: number;
}

/**
 * Raw weights as integer percentages summing to 100.
 *
 * Rounding: blue's share is rounded to the nearest integer (halves up) and green gets the rest,
 * except that a color with a non-zero raw weight never rounds to 0 (nor the other to 100): a
 * trickle of traffic (1/999) reads as 1/99, so a split is never mistaken for a finished cutover.
 * Zero in total is a rule that forwards nothing: ROUTE_INVALID.
 */
export function toPercentages(raw: RawWeights, ruleArn: string): Weights {
  const total = raw.blue + raw.green;
  if (total <= 0) {
    throw new ZdtError(ErrorName.ROUTE_INVALID, `Listener rule ${ruleArn} forwards no traffic: expected a positive weight on blue or green, found blue ${raw.blue} / green ${raw.green}`);
  }
  if (total === FULL_WEIGHT) return { blue: raw.blue, green: raw.green };
  let blue = Math.round((raw.blue * FULL_WEIGHT) / total);
  if (raw.blue > 0 && blue === 0) blue = 1;
  if (raw.green > 0 && blue === FULL_WEIGHT) blue = FULL_WEIGHT - 1;
  return { blue, green: FULL_WEIGHT - blue };
}

/** `percent` to `color`, the rest to the other color. */
export function weightsFor(color: Color, percent: number): Weights {
  return color === 'blue' ? { blue: percent, green: FULL_WEIGHT - percent } : { blue: FULL_WEIGHT - percent, green: percent };
}

export function sameWeights(a: RawWeights, b: RawWeights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

/** The color holding all traffic, or null while traffic is split. */
export function liveColorOf(weights: Weights): Color | null {
  if (weights.blue === FULL_WEIGHT) return 'blue';
  if (weights.green === FULL_WEIGHT) return 'green';
  return null;
}

export function formatWeights(weights: RawWeights): string {
  return `blue ${weights.blue} / green ${weights.green}`;
}
