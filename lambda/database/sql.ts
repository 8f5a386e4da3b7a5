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

/**
 * Renames column references in an SQL expression (a CHECK, an index's column list): every bare identifier whose
 * lowercase form (PostgreSQL folds unquoted names) or quoted identifier whose exact text is a key of `names` becomes
 * the quoted value. String literals ('…', E'…', $tag$…$tag$), function names (an identifier followed by `(`) and
 * type names (after `::`) are left alone. pgroll rewrites CHECK expressions onto its duplicated columns the same way
 * (pkg/migrations/check.go, with a full parser); this tokenizer covers the expressions a constraint or index holds.
 */
export function renameIdentifiers(sql: string, names: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i];
    if (ch === "'" || ((ch === 'E' || ch === 'e') && sql[i + 1] === "'" && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? ''))) {
      const start = i;
      const escapes = ch !== "'";
      i += escapes ? 2 : 1;
      while (i < n) {
        if (escapes && sql[i] === '\\') { i += 2; continue; }
        if (sql[i] === "'") { if (sql[i + 1] === "'") { i += 2; continue; } i++; break; }
        i++;
      }
      out += sql.slice(start, i);
      continue;
    }
    if (ch === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        const stop = end < 0 ? n : end + tag[0].length;
        out += sql.slice(i, stop);
        i = stop;
        continue;
      }
    }
    if (ch === '"') {
      let j = i + 1;
      let name = '';
      while (j < n) {
        if (sql[j] === '"') { if (sql[j + 1] === '"') { name += '"'; j += 2; continue; } j++; break; }
        name += sql[j++];
      }
      const renamed = names.get(name);
      out += renamed !== undefined && !callOrType(sql, i, j) ? qi(renamed) : sql.slice(i, j);
      i = j;
      continue;
    }
    if (/[A-Za-z_]/.test(ch) && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? '')) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j])) j++;
      const renamed = names.get(sql.slice(i, j).toLowerCase());
      out += renamed !== undefined && !callOrType(sql, i, j) ? qi(renamed) : sql.slice(i, j);
      i = j;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** Whether the identifier at [start, end) names a function (followed by `(`) or a type (after `::`). */
function callOrType(sql: string, start: number, end: number): boolean {
  return /^\s*\(/.test(sql.slice(end)) || /::\s*$/.test(sql.slice(0, start));
}
