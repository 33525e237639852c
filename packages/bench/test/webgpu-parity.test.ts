// Every family's reference fixture on the WebGPU backend, for real: Dawn over
// Mesa's llvmpipe on machines without a GPU (.ci/run installs Mesa).
import * as tf from '@tensorflow/tfjs-core';
import { gpuErrors, initBackend, runParityFixture } from '@vitkit/node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import '../src/register-models.js';
import { vitkit } from './cli-helpers.js';

const FIXTURES = [
  'vit_tiny',
  'vitc_tiny',
  'vitp_tiny',
  'vit_hybrid_tiny',
  'vit_hybrid_stem_tiny',
  'cswin_tiny',
  'crossvit_tiny',
  'crossvit_dagger_tiny',
];

beforeAll(async () => {
  await initBackend({ backend: 'webgpu', quiet: true });
});

// WebGPU reports an invalid kernel asynchronously, and tfjs does not listen: its output is zeros.
afterEach(() => {
  expect(gpuErrors()).toEqual([]);
});

describe('parity on webgpu', () => {
  it('runs on the webgpu backend, not a fallback', async () => {
    const info = await initBackend({ backend: 'webgpu', quiet: true });
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.provider).toBe('@tensorflow/tfjs-backend-webgpu');
    expect(info.gpu?.device).toBeTruthy();
    expect(info.gpu?.limits.maxBufferSize).toBeGreaterThan(0);
  });

  for (const name of FIXTURES) {
    it(`${name}: logits and every intermediate within 1e-3 of the PyTorch reference`, async () => {
      const report = await runParityFixture(fixtureDir(name));
      expect(tf.getBackend()).toBe('webgpu');
      expect(report.rows.length).toBeGreaterThan(1);
      for (const row of report.rows) expect(row.maxAbs, `${name} ${row.tensor}`).toBeLessThanOrEqual(1e-3);
      expect(report.numParams).toBe(report.expectedParams);
    });
  }

  it('vitkit parity --backend webgpu passes', async () => {
    const r = await vitkit('parity', fixtureDir('vit_tiny'), '--backend', 'webgpu');
    expect(r.code).toBe(0);
    expect(r.stdout.at(-1)).toMatch(/^parity OK/);
    expect(tf.getBackend()).toBe('webgpu');
  });
});
