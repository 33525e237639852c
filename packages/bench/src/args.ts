// A small, dependency-free argument parser: declared options only, so a typo
// is a usage error (exit 2) rather than silently ignored.

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  name: string;
  type: OptionType;
  description: string;
  /** Shown in help; applied when the option is absent. */
  default?: string | number | boolean | string[];
  /** Metavariable in help, e.g. DIR. */
  value?: string;
}

export type ParsedOptions = Record<string, string | number | boolean | string[] | undefined>;

export interface ParsedArgs {
  options: ParsedOptions;
  positionals: string[];
}

/** Bad usage: unknown option, missing value, wrong type. The CLI exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Bad input or a failed check: the CLI exits 1. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export function parseArgs(argv: string[], specs: OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const options: ParsedOptions = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const raw = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    options[name] = convert(name, spec.type, raw);
  }
  for (const s of specs) if (options[s.name] === undefined && s.default !== undefined) options[s.name] = s.default;
  return { options, positionals };
}

function convert(name: string, type: OptionType, raw: string): string | number | string[] {
  if (type === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number (got '${raw}')`);
    return n;
  }
  if (type === 'list')
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return raw;
}
