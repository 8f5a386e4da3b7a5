import { Color as WireColor } from '../../lambda/shared/contracts';
import { Color } from '../routing/color';

/** Both colors, blue first. */
export const ALL_COLORS: readonly Color[] = [Color.BLUE, Color.GREEN];

/**
 * The color as the handlers' contracts spell it ('blue' / 'green': the enum's values, test/constructs/public-enums.test.ts).
 * Not a check: props are checked at synth with the prop's name (PropChecks.oneOf), so this passes any value through.
 */
export function wireColor(color: Color): WireColor {
  return color as string as WireColor;
}

/** True when `value` is one of the two colors (a jsii caller may pass any string). */
export function isColorValue(value: unknown): value is Color {
  return value === Color.BLUE || value === Color.GREEN;
}

/** The other color of the pair. */
export function other(color: Color): Color {
  return color === Color.BLUE ? Color.GREEN : Color.BLUE;
}

/** `Blue` / `Green`, for construct ids. */
export function colorId(color: Color): string {
  return color === Color.BLUE ? 'Blue' : 'Green';
}
