// One test configuration for every package: workspace packages resolve to their
// TypeScript sources (no build needed to test), and every test file starts on
// the backend that users get by default (WebAssembly here; VITKIT_BACKEND overrides).
import { fileURLToPath } from 'node:url';
import type { UserWorkspaceConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

export function sharedTestConfig(name: string): UserWorkspaceConfig {
  return {
    resolve: {
      alias: [
        { find: /^@vitkit\/core\/hub$/, replacement: `${root}packages/core/src/fetch-pretrained.ts` },
        { find: /^@vitkit\/(core|node|vit|hybrid-stem|cswin|crossvit|bench)$/, replacement: `${root}packages/$1/src/index.ts` },
      ],
    },
    test: {
      name,
      include: ['test/**/*.test.ts'],
      setupFiles: [`${root}test-setup.ts`],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
    },
  };
}
