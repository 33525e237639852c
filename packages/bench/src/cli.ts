#!/usr/bin/env node
// The `vitkit` command. Results go to stdout (with --json the last line is one
// JSON object), progress and diagnostics to stderr. Exit codes: 0 success,
// 1 a failed check or bad input, 2 bad usage.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { nearestName } from '@vitkit/core';
import { BACKEND_CHOICES } from '@vitkit/node';
import { type OptionSpec, parseArgs, UsageError } from './args.js';
import type { Command } from './command.js';
import { commands } from './commands/index.js';
import { packageVersion } from './versions.js';

const COMMON = [
  { name: 'json', type: 'boolean', description: 'end with one JSON line holding the result' },
  { name: 'help', type: 'boolean', description: 'show this help (also -h)' },
  {
    name: 'backend',
    type: 'string',
    value: 'B',
    choices: BACKEND_CHOICES,
    description: `where commands compute: ${BACKEND_CHOICES.join(', ')} (default $VITKIT_BACKEND, else the best that loads)`,
  },
] as const satisfies OptionSpec[];

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'vitkit: Vision Transformers on TensorFlow.js: reproduce, train, compare.',
    '',
    'usage: vitkit <command> [options]   (vitkit <command> --help for its options)',
    '       vitkit --version',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

function commandHelp(c: Command): string {
  const specs: readonly OptionSpec[] = [...c.options, ...COMMON];
  const width = Math.max(...specs.map((s) => s.name.length + (s.value ? s.value.length + 1 : 0)));
  return [
    `usage: ${c.usage}`,
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    '',
    'options:',
    ...specs.map((s) => {
      const flag = `--${s.name}${s.value ? ` ${s.value}` : ''}`;
      const def =
        s.default === undefined || s.default === false ? '' : ` (default ${Array.isArray(s.default) ? s.default.join(',') : s.default})`;
      return `  ${flag.padEnd(width + 2)}  ${s.description}${s.required ? ' (required)' : ''}${def}`;
    }),
  ].join('\n');
}

/** Runs one invocation; returns the exit code. Exported for tests. */
export async function main(
  argv: string[],
  out: (line: string) => void = console.log,
  err: (line: string) => void = console.error,
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    out(`vitkit ${packageVersion('@vitkit/bench')}`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const near = nearestName(
      name,
      commands.map((c) => c.name),
    );
    err(`vitkit: unknown command '${name}'${near ? `; did you mean ${near}?` : ''}\n\n${mainHelp()}`);
    return 2;
  }
  let json = false;
  try {
    const args = parseArgs(rest, [...command.options, ...COMMON]);
    if (args.options['help']) {
      out(commandHelp(command));
      return 0;
    }
    json = Boolean(args.options['json']);
    const backend = args.options['backend'];
    // Through the variable, so that data-parallel workers started by the command use it too.
    const previous = process.env['VITKIT_BACKEND'];
    if (backend !== undefined) process.env['VITKIT_BACKEND'] = backend;
    let result: Awaited<ReturnType<Command['run']>>;
    try {
      result = await command.run(args, { json, progress: (line) => err(line) });
    } finally {
      if (previous === undefined) delete process.env['VITKIT_BACKEND'];
      else process.env['VITKIT_BACKEND'] = previous;
    }
    for (const line of result.lines) (json ? err : out)(line);
    if (json) out(JSON.stringify(result.data));
    return result.ok ? 0 : 1;
  } catch (e) {
    const usage = e instanceof UsageError;
    const message = (e as Error).message;
    err(`vitkit ${name}: ${message}${usage ? `\n\n${commandHelp(command)}` : ''}`);
    if (json) out(JSON.stringify({ error: message }));
    return usage ? 2 : 1;
  }
}

// Run when executed directly (node dist/cli.js), not when imported; the installed bin, bin/vitkit.js, calls main.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
