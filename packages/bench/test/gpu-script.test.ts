import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../../test-utils/index.js';

describe('scripts/gpu/run.sh', () => {
  it.skipIf(existsSync('/dev/nvidia0'))('on a machine without an NVIDIA GPU says so and does nothing else', async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('bash', [`${repoRoot}scripts/gpu/run.sh`, '/nonexistent/results.json'], (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toBe('scripts/gpu/run.sh: no NVIDIA GPU here (no /dev/nvidia0, or nvidia-smi does not list one); nothing to do.\n');
    expect(stderr).toBe('');
  });
});
