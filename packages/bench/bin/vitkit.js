#!/usr/bin/env node
// The `vitkit` command. npm links a package's bin only when the file exists at
// install time, and dist/ is built after `npm ci` in a clone of the repository,
// so the bin is this file, which is committed, and it runs the built CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error(`vitkit: ${fileURLToPath(cli)} is not built yet; run \`npm run build\` (or \`npm test\`) at the repository root first`);
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
