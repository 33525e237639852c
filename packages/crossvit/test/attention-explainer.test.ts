import * as tf from '@tensorflow/tfjs-core';
import { canExplainAttention, createModel } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { CrossViT } from '../src/index.js';

describe('CrossViT explainAttention', () => {
  it("maps each class token's cross-attention over the other branch's patch grid", () => {
    const model = createModel('crossvit_micro_32') as CrossViT;
    try {
      expect(model).toBeInstanceOf(CrossViT);
      expect(canExplainAttention(model)).toBe(true);
      model.eval();
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const { logits, groups } = model.explainAttention(x, {});
      const reference = tf.tidy(() => model.forward(x));
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(logits, reference))).dataSync()[0])).toBe(0);
      // Branch 0 (patch 4) reads branch 1's 4x4 grid; branch 1 (patch 8) reads branch 0's 8x8 grid.
      expect(groups.map((g) => g.grid)).toEqual([
        [4, 4],
        [8, 8],
      ]);
      const heads = model.config.numHeads;
      expect(groups[0]!.maps.shape).toEqual([2, heads[0], 4, 4]);
      expect(groups[1]!.maps.shape).toEqual([2, heads[1], 8, 8]);
      for (const g of groups) {
        // Probabilities over the patches: positive, and at most 1 (the rest stays on the class token itself).
        const sums = tf.tidy(() => tf.sum(g.maps, [2, 3]).dataSync());
        for (const s of sums) {
          expect(s).toBeGreaterThan(0);
          expect(s).toBeLessThanOrEqual(1 + 1e-6);
        }
      }
      expect(() => model.explainAttention(x, { rollout: true })).toThrow(/rollout/);
      expect(() => model.explainAttention(x, { layer: 7 })).toThrow(/encoder 7 does not exist/);
      tf.dispose([x, logits, reference, ...groups.map((g) => g.maps)]);
    } finally {
      model.dispose();
    }
  });
});
