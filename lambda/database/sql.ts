/** Identifier and literal quoting, and the identifier rule every name in a migration must follow. */

/** PostgreSQL truncates identifiers longer than this (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_LENGTH = 63;

/** The characters of an unquoted-safe identifier; the length limit is MAX_IDENTIFIER_LENGTH bytes (see isIdentifier). */
export const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** An identifier matching IDENTIFIER_PATTERN of at most MAX_IDENTIFIER_LENGTH bytes. */
export function isIdentifier(name: unknown): name is string {
  return typeof name === 'string' && IDENTIFIER_PATTERN.test(name) && Buffer.byteLength(name) <= MAX_IDENTIFIER_LENGTH;
}

/** Quotes an identifier ("users"). */
export function qi(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a schema-qualified name ("public"."users"). */
export function qn(schema: string, name: string): string {
  return `${qi(schema)}.${qi(name)}`;
}

/** Quotes a string literal ('it''s'). */
export function ql(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** An SQL fragment of the author in parentheses on lines of its own, so that a trailing `--` comment cannot swallow what follows. */
export function fragment(sql: string): string {
  return `(\n${sql}\n)`;
}
