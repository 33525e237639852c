// Bundles forward-speed.ts against the workspace sources and runs it.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const out = `${here}.out/forward-speed.mjs`;
execFileSync(`${root}node_modules/.bin/esbuild`, [
  `${here}forward-speed.ts`, '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`,
  `--alias:@vitkit/core/node=${root}packages/core/src/node.ts`, `--alias:@vitkit/core=${root}packages/core/src/index.ts`,
  `--alias:@vitkit/cswin=${root}packages/cswin/src/index.ts`, '--ignore-annotations', '--log-level=warning',
], { stdio: 'inherit' });
execFileSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' });
