/**
 * The scenario registries' two shared pieces (traffic scenarios.ts, flag flag-scenarios.ts, release plan
 * release-rehearsal.ts): an entry keyed by its name, and the lookup whose error lists the names.
 */

/** `[name, scenario]`, for `Object.fromEntries([...])`. */
export function namedEntry<T extends { readonly name: string }>(scenario: T): [string, T] {
  return [scenario.name, scenario];
}

/** The scenario of this name in `registry`; the error says which kind (`kind`: '', 'flag ', 'release ') and lists the names. */
export function scenarioIn<T>(registry: Readonly<Record<string, T>>, name: string, kind = ''): T {
  const s = registry[name];
  if (!s) throw new Error(`Unknown ${kind}scenario "${name}"; expected one of: ${Object.keys(registry).join(', ')}`);
  return s;
}
