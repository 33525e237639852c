import type { StepProgress } from '@vitkit/core';
import type { OptionSpec, ParsedArgs } from './args.js';

/** What a command hands back: `data` is the --json object; `lines` the human-readable report. */
export interface CommandResult {
  /** false for a failed check (exit 1). */
  ok: boolean;
  lines: string[];
  data: unknown;
}

export interface Command<S extends readonly OptionSpec[] = readonly OptionSpec[]> {
  name: string;
  summary: string;
  /** e.g. 'vitkit inspect FILE.safetensors [--json]' */
  usage: string;
  options: S;
  /** Longer help text after the usage line. */
  details?: string;
  run(args: ParsedArgs<S>, io: CommandIO): Promise<CommandResult>;
}

/** A command whose `run` sees its options typed from `options` (names, types, defaults, required). */
export function defineCommand<const S extends readonly OptionSpec[]>(command: Command<S>): Command<S> {
  return command;
}

/** How a command reports progress while it runs (stderr; stdout carries results). */
export interface CommandIO {
  json: boolean;
  progress(line: string): void;
  /** Asks a long command to stop early as Ctrl-C does (train: save a checkpoint and return interrupted). */
  signal?: AbortSignal;
  /** Every training step, for a caller that reports progress elsewhere (a job queue). */
  onStep?: (p: StepProgress) => void;
}
