/** Longest rendering of a rejected value in an error message, unless the caller says otherwise. */
const DEFAULT_MAX_CHARS = 200;

/**
 * Renders a rejected value for an error message: JSON (String() for what JSON cannot render, such as a
 * function), truncated. No imports, so the pure flags evaluator can use it too.
 */
export function show(value: unknown, maxChars = DEFAULT_MAX_CHARS): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}...` : text;
}
