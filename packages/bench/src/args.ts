// A small, dependency-free argument parser: declared options only, so a typo
// is a usage error (exit 2) that suggests the nearest option, rather than
// silently ignored. The parsed options are typed from the declarations.
import { nearestName } from '@vitkit/core';

export type OptionType = 'string' | 'number' | 'boolean' | 'list';

/** The value an option of each type parses to. */
export interface OptionValues {
  string: string;
  number: number;
  boolean: boolean;
  list: string[];
}

export interface OptionSpec<T extends OptionType = OptionType> {
  name: string;
  type: T;
  description: string;
  /** Shown in help; applied when the option is absent. */
  default?: OptionValues[T];
  /** Metavariable in help, e.g. DIR. */
  value?: string;
  /** The only values a string option accepts (its parsed type is their union). */
  choices?: readonly string[];
  /** The command cannot run without it: absent is a usage error, and help says "required". */
  required?: boolean;
}

/**
 * The parsed options of a command, typed from its declarations: a boolean is
 * always there (false when absent), an option with a default or marked
 * required always has its value, any other may be undefined; one with
 * `choices` is their union.
 */
export type OptionsOf<S extends readonly OptionSpec[]> = {
  [O in S[number] as O['name']]: O['type'] extends 'boolean'
    ? boolean
    : O extends { required: true } | { default: unknown }
      ? ValueOf<O>
      : ValueOf<O> | undefined;
};

type ValueOf<O extends OptionSpec> = O extends { choices: readonly (infer C)[] } ? C : OptionValues[O['type']];

export interface ParsedArgs<S extends readonly OptionSpec[] = readonly OptionSpec[]> {
  options: OptionsOf<S>;
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

export function parseArgs<const S extends readonly OptionSpec[]>(argv: string[], specs: S): ParsedArgs<S> {
  const byName = new Map<string, OptionSpec>(specs.map((s) => [s.name, s]));
  const options: Record<string, OptionValues[OptionType] | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      if (byName.has('help')) options['help'] = true;
      else throw new UsageError('unknown option -h');
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      const near = nearestName(name, byName.keys());
      throw new UsageError(`unknown option --${name}${near ? `; did you mean --${near}?` : ''}`);
    }
    if (spec.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const raw = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value${spec.value ? ` (${spec.value})` : ''}`);
    const value = convert(name, spec.type, raw);
    if (spec.choices && !spec.choices.includes(value as string)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')} (got '${raw}')`);
    }
    options[name] = value;
  }
  for (const s of specs) {
    if (options[s.name] !== undefined) continue;
    if (s.default !== undefined) options[s.name] = s.default;
    else if (s.type === 'boolean') options[s.name] = false;
  }
  // Help is asked for before anything else is checked.
  if (!options['help']) {
    const absent = specs.filter((s) => s.required && options[s.name] === undefined).map((s) => `--${s.name}`);
    if (absent.length) throw new UsageError(`missing required option${absent.length > 1 ? 's' : ''} ${absent.join(', ')}`);
  }
  // The record holds exactly the declared names with values of the declared types.
  return { options: options as OptionsOf<S>, positionals };
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
