import * as tf from '@tensorflow/tfjs-core';
import type { IntermediateRecorder, IntermediatesResult } from '@vitkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import { VisionTransformer } from '../src/index.js';

// Four blocks of width 32 on a 4x4 grid: 17 tokens with the class token.
const model = new VisionTransformer({ imgSize: 16, patchSize: 4, embedDim: 32, depth: 4, numHeads: 2, numClasses: 5 }).eval();
const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 11);
afterAll(() => {
  model.dispose();
  x.dispose();
});

/** Every block's output, as forwardFeatures records it. */
function blockOutputs(m: VisionTransformer, input: tf.Tensor): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  const record: IntermediateRecorder = (name, t) => {
    if (name.startsWith('blocks.')) out.push(t);
  };
  m.forwardFeatures(input, record);
  return out;
}

const tensors = (r: IntermediatesResult) => r.intermediates as tf.Tensor[];

describe('VisionTransformer.forwardIntermediates', () => {
  it('takes all blocks by default, as tokens [B, N, C], with the features of forwardFeatures', () => {
    tf.tidy(() => {
      const r = model.forwardIntermediates(x);
      expect(tensors(r).map((t) => t.shape)).toEqual(Array(4).fill([2, 17, 32]));
      expectClose(r.features as tf.Tensor, model.forwardFeatures(x), 0);
      blockOutputs(model, x).forEach((t, i) => {
        expectClose(tensors(r)[i]!, t, 0);
      });
      expectClose(model.forwardHead(r.features as tf.Tensor), model.forward(x), 0);
    });
  });

  it('a number n takes the last n blocks; an array names them, negative from the end, in block order', () => {
    tf.tidy(() => {
      const all = blockOutputs(model, x);
      const last2 = tensors(model.forwardIntermediates(x, { indices: 2 }));
      expect(last2.length).toBe(2);
      expectClose(last2[0]!, all[2]!, 0);
      expectClose(last2[1]!, all[3]!, 0);
      const named = tensors(model.forwardIntermediates(x, { indices: [-1, 0] }));
      expect(named.length).toBe(2);
      expectClose(named[0]!, all[0]!, 0);
      expectClose(named[1]!, all[3]!, 0);
    });
  });

  it('with norm applies the final norm to each block; the last one then equals the features', () => {
    tf.tidy(() => {
      const r = model.forwardIntermediates(x, { indices: [1, -1], norm: true });
      const all = blockOutputs(model, x);
      expectClose(tensors(r)[0]!, model.norm.forward(all[1]!), 0);
      expectClose(tensors(r)[1]!, r.features as tf.Tensor, 0);
      const raw = model.forwardIntermediates(x, { indices: [-1], norm: false });
      expect(tf.max(tf.abs(tf.sub(tensors(raw)[0]!, r.features as tf.Tensor))).dataSync()[0]).toBeGreaterThan(1e-3);
    });
  });

  it.each([
    [{ indices: 5 }, /indices 5 must be a whole number from 1 to 4/],
    [{ indices: 0 }, /indices 0 must be a whole number from 1 to 4/],
    [{ indices: [4] }, /forwardIntermediates: index 4 is out of range for 4 blocks \(use 0\.\.3, or -4\.\.-1 from the end\)/],
    [{ indices: [-5] }, /forwardIntermediates: index -5 is out of range for 4 blocks/],
    [{ indices: [] }, /indices must be a number or a non-empty array/],
  ])('refuses %o with a clear error', (options, message) => {
    expect(() => tf.tidy(() => model.forwardIntermediates(x, options).features as tf.Tensor)).toThrow(message);
  });

  it('keeps no tensor beyond what it returns', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      model.forwardIntermediates(x, { indices: 2, norm: true });
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});
