import * as tf from '@tensorflow/tfjs-core';
import { createModel, LayerNorm, Linear, poolTokens, prependToken, type TokenEmbedder, TransformerBlock, truncNormal } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { ConvStem, convStemEmbedLayer, convStemGrid } from '../src/index.js';

const stemConfig = { kernels: [3, 3, 1], strides: [2, 2, 1], dims: [16, 32, 48] };

describe('ConvStem as a TokenEmbedder', () => {
  it('fronts a ViT stack built from core layers on a non-square image', () => {
    const embed: TokenEmbedder = new ConvStem(3, stemConfig);
    const [h, w] = [32, 48];
    const [gh, gw] = embed.gridSize(h, w);
    expect([gh, gw]).toEqual([8, 12]);
    const c = embed.embedDim;
    const cls = tf.variable(truncNormal([1, 1, c]));
    const pos = tf.variable(truncNormal([1, 1 + gh * gw, c]));
    const block = new TransformerBlock(c, { numHeads: 2, mlpHidden: 96, eps: 1e-6 });
    const norm = new LayerNorm(c, 1e-6);
    const head = new Linear(c, 5);
    const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 1);
    try {
      const tokens = tf.tidy(() => embed.forward(x));
      expect(tokens.shape).toEqual([2, gh * gw, c]);
      // Tokens are the stem's map read row by row.
      const grid = tf.tidy(() => (embed as ConvStem).forwardGrid(x));
      expect(grid.shape).toEqual([2, gh, gw, c]);
      expect(Array.from(tokens.dataSync())).toEqual(Array.from(grid.dataSync()));
      tf.dispose([tokens, grid]);

      const params = [cls, pos, ...embed.parameters(), ...block.parameters(), ...norm.parameters(), ...head.parameters()];
      const { value, grads } = tf.variableGrads(() => {
        const t = tf.add(prependToken(embed.forward(x), cls), pos);
        const logits = head.forward(poolTokens(norm.forward(block.forward(t)), 'token'));
        return tf.mean(tf.square(logits)) as tf.Scalar;
      }, params);
      expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
      for (const [name, v] of embed.namedParameters()) {
        expect(tf.sum(tf.abs(grads[v.name]!)).dataSync()[0], name).toBeGreaterThan(0);
      }
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      tf.dispose([x, cls, pos]);
      for (const m of [embed, block, norm, head]) m.dispose();
    }
  });

  it("builds as a ViT's embedLayer: the given 3x3 layers and a 1x1 to the ViT's width", () => {
    const make = convStemEmbedLayer({ kernels: [3, 3], strides: [2, 2], dims: [16, 32] });
    const stem = make([32, 32], 1, 40);
    expect(stem.embedDim).toBe(40);
    expect(stem.config).toEqual({ kernels: [3, 3, 1], strides: [2, 2, 1], dims: [16, 32, 40] });
    expect(stem.stateShapes()['cstem0_conv.weight']).toEqual([16, 1, 3, 3]);
    expect(stem.gridSize(32, 32)).toEqual([8, 8]);
    expect(make.cost([32, 32], 1, 40)).toEqual({ cost: stem.embedCost(32, 32), grid: [8, 8] });
    stem.dispose();
  });

  it('counts its parameters and MACs as the layers do', () => {
    const stem = new ConvStem(3, stemConfig);
    const cost = stem.embedCost(32, 48);
    expect(cost.params).toBe(stem.numParams());
    // 3x3 s2 3->16 on 16x24, BN, 3x3 s2 16->32 on 8x12, BN, 1x1 32->48 on 8x12.
    expect(cost.params).toBe(3 * 16 * 9 + 2 * 16 + 16 * 32 * 9 + 2 * 32 + 32 * 48 + 48);
    expect(cost.macs).toBe(16 * 24 * 16 * 27 + 8 * 12 * 32 * 144 + 8 * 12 * 48 * 32);
    stem.dispose();
  });

  it('refuses, with a clear message, an image that does not fit the total stride', () => {
    const stem = new ConvStem(3, stemConfig);
    const msg =
      /ConvStem: a 30x32 image does not fit a stem of strides \[2, 2, 1\] \(total stride 4\): both sides must be positive multiples of 4 \(this image would give a 8x8 grid/;
    expect(() => stem.gridSize(30, 32)).toThrow(msg);
    const x = tf.zeros([1, 30, 32, 3]);
    expect(() => stem.forward(x)).toThrow(msg);
    x.dispose();
    stem.dispose();
    expect(() => convStemGrid(stemConfig, 2, 4)).toThrow(/multiples of 4/);
    expect(() => new ConvStem(3, { kernels: [2, 1], strides: [2, 1], dims: [8, 8] })).toThrow(/kernel 0 is 2; kernels must be odd/);
    expect(() => new ConvStem(3, { kernels: [3, 1], strides: [2], dims: [8, 8] })).toThrow(/one entry per layer/);
  });

  it('a ViTC refuses an input size its stem or position embedding does not fit', () => {
    expect(() => createModel('vitc_1gf', { imgSize: 40 })).toThrow(/40x40 image does not fit .*total stride 16/);
    const model = createModel('vitc_micro_32');
    const x = tf.zeros([1, 64, 64, 3]);
    expect(() => model.forward(x)).toThrow(/a 64x64 image gives a 16x16 token grid, but the position embedding covers 8x8/);
    tf.dispose(x);
    model.dispose();
  });
});
