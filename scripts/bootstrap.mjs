// Makes a fresh clone runnable: installs from the lockfile when node_modules is
// missing or older than the lockfile, so the README's quick-start commands each
// work on their own.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const lock = 'package-lock.json';
const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.log('vitkit: installing dependencies from package-lock.json (npm ci)');
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' });
}
