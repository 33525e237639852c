import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, loadWeights } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import { optionsFromTimmKwargs, VisionTransformer } from '../src/index.js';

describe('loading a timm safetensors checkpoint directly', () => {
  it('loads the vit_tiny fixture weights and reproduces its logits', async () => {
    const dir = fixtureDir('vit_tiny');
    const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as { reference_args: Record<string, unknown> };
    const weights = await loadSafetensors(`${dir}/weights.safetensors`);
    const io = await loadSafetensors(`${dir}/io.safetensors`);
    const model = new VisionTransformer(optionsFromTimmKwargs(config.reference_args)).eval();
    const report = loadWeights(model, weights, { family: 'vit' });
    expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [], resampled: [], dropped: [], notes: [] });
    tf.tidy(() => {
      const x = tf.transpose(io['input']!, [0, 2, 3, 1]);
      expectClose(model.forward(x), io['logits']!, 1e-4);
    });
    tf.dispose([...Object.values(weights), ...Object.values(io)]);
    model.dispose();
  });

  it('strips the module. prefix that DataParallel training adds', async () => {
    const weights = await loadSafetensors(`${fixtureDir('vit_tiny')}/weights.safetensors`);
    const config = JSON.parse(readFileSync(`${fixtureDir('vit_tiny')}/config.json`, 'utf8')) as { reference_args: Record<string, unknown> };
    const wrapped = Object.fromEntries(Object.entries(weights).map(([k, t]) => [`module.${k}`, t]));
    const model = new VisionTransformer(optionsFromTimmKwargs(config.reference_args));
    expect(loadWeights(model, wrapped, { family: 'vit', source: 'ddp.safetensors' }).notes).toEqual([]);
    tf.dispose(Object.values(weights));
    model.dispose();
  });

  it('knows the family of a model built by createModel, and asks for it otherwise', () => {
    const source = createModel('vit_micro_32');
    const sd = source.stateDict();
    const model = createModel('vit_micro_32');
    expect(loadWeights(model, sd).loaded).toBe(Object.keys(sd).length);
    const direct = new VisionTransformer({ imgSize: 16, patchSize: 4, embedDim: 32, depth: 1, numHeads: 2 });
    expect(() => loadWeights(direct, sd)).toThrow('loadWeights: VisionTransformer was not built by createModel; pass its family');
    tf.dispose(Object.values(sd));
    for (const m of [source, model, direct]) m.dispose();
  });
});
