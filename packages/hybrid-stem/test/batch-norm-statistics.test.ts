import * as tf from '@tensorflow/tfjs-core';
import { createModel, type StateDict } from '@vitkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ConvStem } from '../src/index.js';

// A one-channel stem whose first convolution is the identity (centre tap 1), so
// its BatchNorm sees the input itself: x = 1..8 over a batch of 2 images of 2x2.
// Batch mean 4.5, biased variance 5.25 (normalisation), unbiased 42/7 = 6 (running estimate).
function identityStem(): ConvStem {
  const stem = new ConvStem(1, { kernels: [3, 1], strides: [1, 1], dims: [1, 2] });
  const centre = new Float32Array(9);
  centre[4] = 1;
  const sd: StateDict = {
    'cstem0_conv.weight': tf.tensor(centre, [1, 1, 3, 3]),
    'cstem0_bn.weight': tf.ones([1]),
    'cstem0_bn.bias': tf.zeros([1]),
    'cstem0_bn.running_mean': tf.zeros([1]),
    'cstem0_bn.running_var': tf.ones([1]),
    'cstem0_bn.num_batches_tracked': tf.scalar(0, 'int32'),
    'cstem_last_conv.weight': tf.tensor([1, -1], [2, 1, 1, 1]),
    'cstem_last_conv.bias': tf.zeros([2]),
  };
  stem.loadStateDict(sd);
  tf.dispose(Object.values(sd));
  return stem;
}

const read = (stem: ConvStem, name: string) =>
  stem
    .namedBuffers()
    .find(([n]) => n === name)![1]
    .dataSync() as Float32Array | Int32Array;

describe('ConvStem BatchNorm statistics (PyTorch semantics: momentum 0.1, unbiased running variance)', () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
  let stem: ConvStem | null = null;
  afterEach(() => stem?.dispose());

  it('one training forward normalises with batch statistics and updates the running ones', () => {
    stem = identityStem();
    stem.train();
    const y = tf.tidy(() => stem!.forwardGrid(x));
    const expected = [1, 2, 3, 4, 5, 6, 7, 8].map((v) => Math.max(0, (v - 4.5) / Math.sqrt(5.25 + 1e-5)));
    const out = y.dataSync();
    expected.forEach((e, i) => {
      expect(out[2 * i]).toBeCloseTo(e, 5);
      expect(out[2 * i + 1]).toBeCloseTo(-e, 5);
    });
    y.dispose();
    expect(read(stem, 'cstem0_bn.running_mean')[0]).toBeCloseTo(0.9 * 0 + 0.1 * 4.5, 6);
    expect(read(stem, 'cstem0_bn.running_var')[0]).toBeCloseTo(0.9 * 1 + 0.1 * 6, 6);
    expect(read(stem, 'cstem0_bn.num_batches_tracked')[0]).toBe(1);

    // A second step moves them again by the same rule.
    tf.tidy(() => stem!.forwardGrid(x));
    expect(read(stem, 'cstem0_bn.running_mean')[0]).toBeCloseTo(0.9 * 0.45 + 0.45, 6);
    expect(read(stem, 'cstem0_bn.running_var')[0]).toBeCloseTo(0.9 * 1.5 + 0.6, 6);
    expect(read(stem, 'cstem0_bn.num_batches_tracked')[0]).toBe(2);
  });

  it('evaluation normalises with the running statistics and leaves them alone', () => {
    stem = identityStem();
    stem.train();
    tf.tidy(() => stem!.forwardGrid(x));
    stem.eval();
    const y = tf.tidy(() => stem!.forwardGrid(x));
    const out = y.dataSync();
    [1, 2, 3, 4, 5, 6, 7, 8].forEach((v, i) => {
      expect(out[2 * i]).toBeCloseTo(Math.max(0, (v - 0.45) / Math.sqrt(1.5 + 1e-5)), 5);
    });
    y.dispose();
    expect(read(stem, 'cstem0_bn.running_mean')[0]).toBeCloseTo(0.45, 6);
    expect(read(stem, 'cstem0_bn.num_batches_tracked')[0]).toBe(1);
  });

  it('a ViTC updates its stem statistics in training only', () => {
    const model = createModel('vitc_micro_32');
    const img = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7);
    const stats = () => Object.fromEntries(model.namedBuffers().map(([n, v]) => [n, Array.from(v.dataSync() as Float32Array)]));
    try {
      const initial = stats();
      expect(Object.keys(initial).sort()).toEqual(
        ['0', '1', '2']
          .flatMap((i) => ['num_batches_tracked', 'running_mean', 'running_var'].map((b) => `patch_embed.cstem${i}_bn.${b}`))
          .sort(),
      );
      model.eval();
      tf.tidy(() => model.forward(img));
      expect(stats()).toEqual(initial);
      model.train();
      tf.tidy(() => model.forward(img));
      const after = stats();
      for (const i of ['0', '1', '2']) {
        expect(after[`patch_embed.cstem${i}_bn.num_batches_tracked`]).toEqual([1]);
        expect(after[`patch_embed.cstem${i}_bn.running_mean`]).not.toEqual(initial[`patch_embed.cstem${i}_bn.running_mean`]);
      }
    } finally {
      img.dispose();
      model.dispose();
    }
  });
});
