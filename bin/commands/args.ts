/** A small, strict argument parser: `--name value`, `--flag`, positionals. Unknown flags are errors. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Record<string, string | true>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: string[], spec: { values?: string[]; flags?: string[] }): ParsedArgs {
  const values = new Set(spec.values ?? []);
  const flags = new Set(spec.flags ?? []);
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { positionals.push(arg); continue; }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (flags.has(name)) { options[name] = true; continue; }
    if (!values.has(name)) {
      const known = [...values].map((v) => `--${v} <value>`).concat([...flags].map((f) => `--${f}`));
      throw new UsageError(`unknown option --${name}; known: ${known.join(', ') || 'none'}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    options[name] = value;
  }
  return { positionals, options };
}

export function requireOption(args: ParsedArgs, name: string, what: string): string {
  const value = args.options[name];
  if (typeof value !== 'string' || value.length === 0) throw new UsageError(`--${name} <${what}> is required`);
  return value;
}
