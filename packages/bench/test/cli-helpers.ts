import { main } from '../src/cli.js';

export interface CliRun {
  code: number;
  stdout: string[];
  stderr: string[];
  /** The last stdout line parsed as JSON (with --json). */
  json: () => unknown;
}

/** Runs `vitkit ...args` in-process, capturing what it prints. */
export async function vitkit(...args: string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(
    args,
    (l) => stdout.push(l),
    (l) => stderr.push(l),
  );
  return { code, stdout, stderr, json: () => JSON.parse(stdout.at(-1) ?? 'null') };
}
