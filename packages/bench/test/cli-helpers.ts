import { main } from '../src/cli.js';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
  /** The last stdout line parsed as JSON (with --json). */
  json: () => unknown;
}

/** `vitkit ...args` running in-process: `stdout` and `stderr` fill as it prints; `done` settles when it returns. */
export interface RunningCli {
  stdout: string[];
  stderr: string[];
  done: Promise<CliRun>;
}

export function startVitkit(...args: string[]): RunningCli {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const done = main(
    args,
    (l) => stdout.push(l),
    (l) => stderr.push(l),
  ).then((code) => ({ code, stdout, stderr, json: () => JSON.parse(stdout.at(-1) ?? 'null') }));
  return { stdout, stderr, done };
}

/** Runs `vitkit ...args` in-process, capturing what it prints. */
export async function vitkit(...args: string[]): Promise<CliRun> {
  return startVitkit(...args).done;
}
