import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import { LayerNorm, Linear, ShiftedPatchEmbed } from '../src/index.js';

describe('ShiftedPatchEmbed (shifted patch tokenization)', () => {
  it('tokens are LayerNorm + linear of each patch of the image and its four half-patch diagonal shifts (mirrored at the borders)', () => {
    const [b, h, w, c, p, d] = [2, 8, 12, 3, 4, 5];
    const embed = new ShiftedPatchEmbed(p, c, d);
    const data = Float32Array.from({ length: b * h * w * c }, (_, i) => Math.sin(i * 0.37) * 2);
    // Beyond the border the image mirrors itself, edge included: row -1 is row 0, row h is row h-1.
    const mirror = (i: number, size: number) => (i < 0 ? -i - 1 : i >= size ? 2 * size - i - 1 : i);
    const pixel = (n: number, y: number, x: number, ch: number) => data[((n * h + mirror(y, h)) * w + mirror(x, w)) * c + ch]!;
    // Feature order within a patch: row, column, then the five copies' channels.
    const shifts = [
      [0, 0],
      [-2, -2],
      [-2, 2],
      [2, -2],
      [2, 2],
    ];
    const [gh, gw] = [h / p, w / p];
    const patches: number[] = [];
    for (let n = 0; n < b; n++)
      for (let gy = 0; gy < gh; gy++)
        for (let gx = 0; gx < gw; gx++)
          for (let py = 0; py < p; py++)
            for (let px = 0; px < p; px++)
              for (const [dy, dx] of shifts)
                for (let ch = 0; ch < c; ch++) patches.push(pixel(n, gy * p + py + dy!, gx * p + px + dx!, ch));
    tf.tidy(() => {
      const x = tf.tensor4d(data, [b, h, w, c]);
      const got = embed.forward(x);
      expect(got.shape).toEqual([b, gh * gw, d]);
      const vectors = tf.tensor3d(patches, [b, gh * gw, p * p * c * 5]);
      expectClose(got, embed.proj.forward(embed.norm.forward(vectors)), 1e-5);
    });
    expect(embed.gridSize(h, w)).toEqual([gh, gw]);
    embed.dispose();
  });

  it('counts its parameters and MACs', () => {
    const embed = new ShiftedPatchEmbed(4, 3, 64);
    const features = 4 * 4 * 3 * 5;
    const cost = embed.embedCost(32, 32);
    expect(cost.params).toBe(embed.numParams());
    expect(cost.params).toBe(LayerNorm.cost(features).params + Linear.cost(features, 64, 1).params);
    expect(cost.macs).toBe(64 * features * 64);
    embed.dispose();
  });

  it('rejects an image the patches do not tile', () => {
    const embed = new ShiftedPatchEmbed(4, 3, 8);
    expect(() => tf.tidy(() => embed.forward(tf.zeros([1, 10, 8, 3])))).toThrow(/10x8 is not divisible by patch size 4/);
    embed.dispose();
  });
});
