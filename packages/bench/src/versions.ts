import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** Version of an installed package, found from its resolved entry (exports maps hide package.json). */
export function packageVersion(name: string): string | null {
  try {
    let dir = dirname(name.startsWith('@vitkit/') ? fileURLToPath(import.meta.resolve(name)) : require.resolve(name));
    for (let i = 0; i < 6; i++) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? null;
      } catch {
        // not this folder; keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // not installed
  }
  return null;
}

export const VITKIT_PACKAGES = ['@vitkit/core', '@vitkit/vit', '@vitkit/hybrid-stem', '@vitkit/cswin', '@vitkit/crossvit', '@vitkit/bench'];
