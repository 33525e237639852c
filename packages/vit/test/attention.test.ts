import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import { attentionRollout, forwardWithAttention, rolloutMap, rolloutMatrix } from '@vitkit/core';
import { VisionTransformer } from '../src/index.js';

const options = { imgSize: 16, patchSize: 4, embedDim: 32, depth: 3, numHeads: 2, numClasses: 5 };

describe('attention maps', () => {
  it('returns the per-head probabilities of the chosen blocks with the same logits', () => {
    const model = new VisionTransformer(options).eval();
    const x = tf.randomNormal([2, 16, 16, 3]);
    const { logits, blocks, attention } = forwardWithAttention(model, x, { blocks: [2, 0] });
    expect(blocks).toEqual([2, 0]);
    expect(attention.map((a) => a.shape)).toEqual([
      [2, 2, 17, 17],
      [2, 2, 17, 17],
    ]);
    tf.tidy(() => {
      expectClose(logits, model.forward(x), 0);
      for (const a of attention) {
        expectClose(tf.sum(a, -1), tf.ones([2, 2, 17]), 1e-5);
        expect(tf.min(a).dataSync()[0]).toBeGreaterThanOrEqual(0);
      }
    });
    // Capture is off again and nothing stays behind in the blocks.
    for (const block of model.blocks.items) {
      expect(block.attn.captureAttention).toBe(false);
      expect(block.attn.attention).toBeNull();
    }
    tf.dispose([x, logits, ...attention]);
    model.dispose();
  });

  it('costs nothing when not requested: a plain forward keeps no tensor', () => {
    const model = new VisionTransformer(options).eval();
    const x = tf.randomNormal([1, 16, 16, 3]);
    tf.dispose(tf.tidy(() => model.forward(x)));
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => model.forward(x)));
    expect(tf.memory().numTensors).toBe(before);
    const all = forwardWithAttention(model, x);
    expect(all.blocks).toEqual([0, 1, 2]);
    tf.dispose([all.logits, ...all.attention]);
    expect(() => forwardWithAttention(model, x, { blocks: [3] })).toThrow(/block 3 does not exist \(the model has 3: 0..2\)/);
    tf.dispose(x);
    model.dispose();
  });
});

describe('attention rollout (Abnar & Zuidema 2020)', () => {
  it('averages heads, adds the identity, renormalises and multiplies through the layers', () => {
    // One image, three tokens (class + 1x2 grid), two layers of two heads.
    const a1 = tf.tensor4d([0.6, 0.2, 0.2, 0.1, 0.8, 0.1, 0.3, 0.3, 0.4, 0.2, 0.4, 0.4, 0.5, 0.5, 0, 0.1, 0.1, 0.8], [1, 2, 3, 3]);
    const a2 = tf.tensor4d([0.2, 0.5, 0.3, 0.3, 0.3, 0.4, 0.1, 0.1, 0.8, 0, 1, 0, 1, 0, 0, 0.5, 0.25, 0.25], [1, 2, 3, 3]);
    // By hand: layer = (mean over heads + I) / 2 (every row of mean + I sums to 2).
    const l1 = [
      [(0.4 + 1) / 2, 0.3 / 2, 0.3 / 2],
      [0.3 / 2, (0.65 + 1) / 2, 0.05 / 2],
      [0.2 / 2, 0.2 / 2, (0.6 + 1) / 2],
    ];
    const l2 = [
      [(0.1 + 1) / 2, 0.75 / 2, 0.15 / 2],
      [0.65 / 2, (0.15 + 1) / 2, 0.2 / 2],
      [0.3 / 2, 0.175 / 2, (0.525 + 1) / 2],
    ];
    const expected = l2.map((row) => [0, 1, 2].map((j) => row.reduce((s, v, k) => s + v * l1[k]![j]!, 0)));
    const r = rolloutMatrix([a1, a2]);
    expectClose(r, tf.tensor3d([expected]), 1e-6);
    expectClose(tf.sum(r, -1), tf.ones([1, 3]), 1e-6);
    const map = rolloutMap([a1, a2], { prefixTokens: 1, grid: [1, 2] });
    expect(map.shape).toEqual([1, 1, 2]);
    expectClose(map, tf.tensor3d([[[expected[0]![1]!, expected[0]![2]!]]]), 1e-6);
    // The map holds what reaches the class token from the patches: 1 minus its own share.
    expect(tf.sum(map).dataSync()[0]).toBeCloseTo(1 - expected[0]![0]!, 6);
    const pooled = rolloutMap([a1, a2], { prefixTokens: 0, grid: [1, 3] });
    expectClose(pooled, tf.reshape(tf.mean(r, 1), [1, 1, 3]), 1e-6);
    expect(() => rolloutMap([a1], { prefixTokens: 1, grid: [2, 2] })).toThrow(/3 tokens do not make 1 prefix \+ a 2x2 grid/);
    tf.dispose([a1, a2, r, map, pooled]);
  });

  it('gives a patch-grid map per image for a model, and frees the maps it used', () => {
    const model = new VisionTransformer({ ...options, imgSize: [16, 24] }).eval();
    const x = tf.randomNormal([2, 16, 24, 3]);
    tf.dispose(attentionRollout(model, x));
    const before = tf.memory().numTensors;
    const { logits, rollout } = attentionRollout(model, x);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(logits.shape).toEqual([2, 5]);
    expect(rollout.shape).toEqual([2, 4, 6]);
    const { attention } = forwardWithAttention(model, x);
    tf.tidy(() => {
      const r = rolloutMatrix(attention);
      expectClose(tf.sum(r, -1), tf.ones([2, 17 + 8]), 1e-5);
      const classShare = tf.reshape(tf.slice(r, [0, 0, 0], [2, 1, 1]), [2]);
      expectClose(tf.sum(rollout, [1, 2]), tf.sub(1, classShare), 1e-5);
      expect(tf.min(rollout).dataSync()[0]).toBeGreaterThan(0);
    });
    tf.dispose([x, logits, rollout, ...attention]);
    model.dispose();
  });

  it('explains attention for `vitkit attention`: class-token maps per head of a block, or the rollout', () => {
    const model = new VisionTransformer(options).eval();
    const x = tf.randomNormal([2, 16, 16, 3]) as tf.Tensor4D;
    const last = model.explainAttention(x, {});
    const { attention } = forwardWithAttention(model, x, { blocks: [2] });
    expect(last.groups).toHaveLength(1);
    expect(last.groups[0]!.maps.shape).toEqual([2, 2, 4, 4]);
    expect(last.groups[0]!.title).toContain('block 2');
    // The maps are the class token's row of block 2's probabilities, without its own column.
    expectClose(last.groups[0]!.maps, tf.reshape(tf.slice(attention[0]!, [0, 0, 0, 1], [2, 2, 1, 16]), [2, 2, 4, 4]), 1e-6);
    const first = model.explainAttention(x, { layer: -3 });
    expect(first.groups[0]!.title).toContain('block 0');
    const rolled = model.explainAttention(x, { rollout: true });
    const { rollout } = attentionRollout(model, x);
    expectClose(rolled.groups[0]!.maps, tf.reshape(rollout, [2, 1, 4, 4]), 1e-6);
    tf.dispose([x, rollout, ...attention, ...[last, first, rolled].flatMap((r) => [r.logits, ...r.groups.map((g) => g.maps)])]);
    model.dispose();
  });
});
