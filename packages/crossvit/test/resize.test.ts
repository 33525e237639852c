import * as tf from '@tensorflow/tfjs-core';
import { PatchEmbed, resize2d, type StateDict } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import { MultiConvPatchEmbed } from '../src/index.js';

// The second branch sees the input through PyTorch's
// F.interpolate(mode='bicubic', align_corners=False); core's resize2d does it
// as two interpolation matrices. Checked here without the rest of the model.

/** PyTorch's upsample_bicubic2d written per output pixel: 4x4 taps, a = -0.75, border-clamped. */
function torchBicubicReference(img: number[][], outH: number, outW: number): number[][] {
  const a = -0.75;
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  const taps = (t: number) => [far(t + 1), near(t), near(1 - t), far(2 - t)];
  const h = img.length;
  const w = img[0]!.length;
  const at = (y: number, x: number) => img[Math.min(Math.max(y, 0), h - 1)]![Math.min(Math.max(x, 0), w - 1)]!;
  return Array.from({ length: outH }, (_, oy) => {
    const sy = (h / outH) * (oy + 0.5) - 0.5;
    const y0 = Math.floor(sy);
    const wy = taps(sy - y0);
    return Array.from({ length: outW }, (_, ox) => {
      const sx = (w / outW) * (ox + 0.5) - 0.5;
      const x0 = Math.floor(sx);
      const wx = taps(sx - x0);
      let v = 0;
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) v += wy[i]! * wx[j]! * at(y0 - 1 + i, x0 - 1 + j);
      return v;
    });
  });
}

describe('bicubic resize of the second branch', () => {
  it('reproduces hand-computed values (downsampling 4 -> 2, upsampling 2 -> 4 with overshoot)', () => {
    // 4 -> 2: sources 0.5 and 2.5, tap weights (-0.09375, 0.59375, 0.59375, -0.09375).
    const down = tf.tidy(() => resize2d(tf.tensor4d([1, 2, 4, 8], [1, 1, 4, 1]), 1, 2, 'bicubic').arraySync());
    expect(down[0]![0]!.flat()).toEqual([1.3125, 6.1875]);
    // 2 -> 4: source -0.25 gives weight -0.10546875 on the second pixel, the rest on the clamped first.
    const up = tf.tidy(() => resize2d(tf.tensor4d([0, 1], [1, 1, 2, 1]), 1, 4, 'bicubic').arraySync());
    const expected = [-0.10546875, 0.2265625, 0.7734375, 1.10546875];
    for (const [i, e] of expected.entries()) expect(up[0]![0]![i]![0]).toBeCloseTo(e, 6);
  });

  it('equals the per-pixel PyTorch formula at the published 240 -> 224 and the fixture 48 -> 32', () => {
    for (const [size, out] of [
      [240, 224],
      [48, 32],
    ] as const) {
      const img = tf.randomUniform([1, size, size, 1], -1, 1, 'float32', size);
      const rows = tf.tidy(() => tf.reshape(img, [size, size]).arraySync() as number[][]);
      const want = torchBicubicReference(rows, out, out);
      const got = tf.tidy(() => tf.reshape(resize2d(img as tf.Tensor4D, out, out, 'bicubic'), [out, out]));
      const wanted = tf.tensor2d(want);
      expectClose(got, wanted, 1e-5);
      tf.dispose([img, got, wanted]);
    }
  });

  describe('through the fixtures: inter.patch_embed.1 is PyTorch resize then patch embedding', () => {
    const io: Record<string, StateDict> = {};
    const weights: Record<string, StateDict> = {};
    const names = ['crossvit_tiny', 'crossvit_dagger_tiny'];
    beforeAll(async () => {
      for (const n of names) {
        io[n] = await loadSafetensors(`${fixtureDir(n)}/io.safetensors`);
        weights[n] = await loadSafetensors(`${fixtureDir(n)}/weights.safetensors`);
      }
    });
    afterAll(() => {
      for (const n of names) tf.dispose([...Object.values(io[n]!), ...Object.values(weights[n]!)]);
    });

    it.each(names)('%s', (name) => {
      const embed = name.includes('dagger') ? new MultiConvPatchEmbed(16, 3, 64) : new PatchEmbed(16, 3, 64);
      const prefix = 'patch_embed.1.';
      const sd = Object.fromEntries(
        Object.entries(weights[name]!)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
      embed.loadStateDict(sd);
      tf.tidy(() => {
        const x = tf.transpose(io[name]!['input']!, [0, 2, 3, 1]) as tf.Tensor4D;
        const resized = resize2d(x, 32, 32, 'bicubic');
        expect(resized.shape).toEqual([2, 32, 32, 3]);
        expectClose(embed.forward(resized), io[name]!['inter.patch_embed.1']!, 1e-5);
      });
      embed.dispose();
    });
  });
});
