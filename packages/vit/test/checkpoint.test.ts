import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { loadSafetensors } from '@vitkit/core/node';
import { describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import { loadCheckpoint, optionsFromTimmKwargs, VisionTransformer } from '../src/index.js';

describe('loading a timm safetensors checkpoint directly', () => {
  it('loads the vit_tiny fixture weights and reproduces its logits', async () => {
    const dir = fixtureDir('vit_tiny');
    const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as { reference_args: Record<string, unknown> };
    const weights = await loadSafetensors(`${dir}/weights.safetensors`);
    const io = await loadSafetensors(`${dir}/io.safetensors`);
    const model = new VisionTransformer(optionsFromTimmKwargs(config.reference_args)).eval();
    const report = loadCheckpoint(model, weights);
    expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [], resampled: null });
    tf.tidy(() => {
      const x = tf.transpose(io['input']!, [0, 2, 3, 1]);
      expectClose(model.forward(x), io['logits']!, 1e-4);
    });
    tf.dispose([...Object.values(weights), ...Object.values(io)]);
    model.dispose();
  });
});
