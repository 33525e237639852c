// Publishes each workspace package whose version is not on the npm registry yet:
// the step after `nx release --skip-publish`, which versions only the packages
// that changed (nx's own publish step needs the @nx/js plugin, see
// npm-version-actions.cjs). Extra arguments go to `npm publish`
// (--dry-run, --tag next, --otp 123456, --provenance).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const passThrough = process.argv.slice(2);
const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function published(name, version) {
  try {
    return (
      execFileSync('npm', ['view', `${name}@${version}`, 'version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ===
      version
    );
  } catch {
    return false; // E404: never published
  }
}

// Workspaces are listed dependencies first (core before the model packages, bench last).
for (const dir of workspaces) {
  const { name, version, private: isPrivate } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (isPrivate) continue;
  if (published(name, version)) {
    console.log(`skip ${name}@${version}: already on the registry`);
    continue;
  }
  console.log(`publish ${name}@${version}`);
  execFileSync('npm', ['publish', '--workspace', dir, ...passThrough], { cwd: root, stdio: 'inherit' });
}
