import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { interpolationMatrix, type ResizeMode, resamplePositionEmbedding, resize2d } from '../src/index.js';
import {
  type Arr,
  expectArraysClose,
  expectFiniteDifferences,
  onCpu,
  randomArr,
  toArr,
  variableOf,
  weightedGrads,
} from './gradient-check.js';

// PyTorch's F.interpolate(align_corners=False), written per output pixel from
// its definition: source coordinate (o + 0.5) * in/out - 0.5; bilinear clamps it
// at 0 and interpolates the two neighbours; bicubic takes the 4x4 neighbours
// (indices clamped to the border) weighted by Keys' kernel with a = -0.75.
const A = -0.75;
function keys(d: number): number {
  const x = Math.abs(d);
  if (x <= 1) return (A + 2) * x ** 3 - (A + 3) * x ** 2 + 1;
  if (x < 2) return A * x ** 3 - 5 * A * x ** 2 + 8 * A * x - 4 * A;
  return 0;
}

function taps(o: number, inSize: number, outSize: number, mode: ResizeMode): [number, number][] {
  const src = (o + 0.5) * (inSize / outSize) - 0.5;
  const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  if (mode === 'bilinear') {
    const s = Math.max(src, 0);
    const i0 = Math.floor(s);
    return [
      [clamp(i0), 1 - (s - i0)],
      [clamp(i0 + 1), s - i0],
    ];
  }
  const base = Math.floor(src);
  return [-1, 0, 1, 2].map((k) => [clamp(base + k), keys(src - (base + k))]);
}

function naiveResize(x: Arr, outH: number, outW: number, mode: ResizeMode): Arr {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const out = new Float32Array(b * outH * outW * c);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (const [iy, wy] of taps(oy, h, outH, mode))
            for (const [ix, wx] of taps(ox, w, outW, mode)) s += wy * wx * x.values[((n * h + iy) * w + ix) * c + ch]!;
          out[((n * outH + oy) * outW + ox) * c + ch] = s;
        }
  return { values: out, shape: [b, outH, outW, c] };
}

function image(a: Arr): tf.Tensor4D {
  const t: tf.Tensor = tf.tensor(a.values, a.shape);
  return t as tf.Tensor4D;
}

const sizes: [number[], number, number][] = [
  [[2, 4, 4, 3], 7, 7],
  [[1, 7, 5, 2], 3, 4],
  [[1, 3, 3, 1], 8, 8],
  [[1, 5, 5, 2], 5, 3],
  [[1, 14, 14, 1], 24, 24],
];

describe('resize2d as PyTorch F.interpolate(align_corners=False)', () => {
  for (const mode of ['bilinear', 'bicubic'] as const) {
    it.each(sizes)(`${mode}: %j -> %i x %i matches the per-pixel definition`, (shape, outH, outW) => {
      const x = randomArr(shape, 1);
      const got = tf.tidy(() => toArr(resize2d(image(x), outH, outW, mode)));
      expectArraysClose(got, naiveResize(x, outH, outW, mode), 1e-5, `${mode} ${shape} -> ${outH}x${outW}`);
    });
  }

  it('known values: the 2x upsample of [0, 1]', () => {
    const row = (mode: ResizeMode) => tf.tidy(() => Array.from(resize2d(tf.tensor4d([0, 1], [1, 1, 2, 1]), 1, 4, mode).dataSync()));
    expect(row('bilinear')).toEqual([0, 0.25, 0.75, 1]);
    // Sources -0.25, 0.25, 0.75, 1.25. At 0.25 the taps -1, 0, 1, 2 (clamped to 0, 0, 1, 1) get
    // weights W(1.25), W(0.25), W(0.75), W(1.75); only the last two see the 1:
    // W(0.75) = 0.26171875 and W(1.75) = -0.03515625, so 0.2265625. The ends overshoot by W(1.25) = -0.10546875.
    const bicubic = row('bicubic');
    [-0.10546875, 0.2265625, 0.7734375, 1.10546875].forEach((v, i) => {
      expect(bicubic[i]).toBeCloseTo(v, 6);
    });
  });

  it('a constant stays constant; the same size is the identity', () => {
    for (const mode of ['bilinear', 'bicubic'] as const) {
      tf.tidy(() => {
        const c = tf.fill([1, 5, 3, 2], 0.7) as tf.Tensor4D;
        for (const [oh, ow] of [
          [9, 4],
          [2, 2],
          [5, 7],
        ] as const) {
          for (const v of resize2d(c, oh, ow, mode).dataSync()) expect(v).toBeCloseTo(0.7, 6);
        }
        expect(resize2d(c, 5, 3, mode)).toBe(c);
      });
      for (const n of [1, 4, 7]) {
        const m = interpolationMatrix(n, n, mode);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(m[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 7);
      }
    }
  });

  it("bilinear agrees with tfjs's resizeBilinear with half-pixel centres (on CPU)", async () => {
    const x = randomArr([1, 5, 6, 2], 2);
    for (const [oh, ow] of [
      [9, 11],
      [3, 4],
    ] as const) {
      const got = tf.tidy(() => toArr(resize2d(image(x), oh, ow, 'bilinear')));
      const want = await onCpu(() => tf.tidy(() => toArr(tf.image.resizeBilinear(image(x), [oh, ow], false, true))));
      expectArraysClose(got, want, 1e-5, `${oh}x${ow}`);
    }
  });
});

describe('resize2d gradients on WebAssembly', () => {
  /** The same resize as batched matmuls with tfjs's own gradients: M_h X M_w^T per image and channel. */
  function reference(x: tf.Tensor, outH: number, outW: number, mode: ResizeMode): tf.Tensor {
    const [b, h, w, c] = x.shape as number[];
    const planes = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [b! * c!, h!, w!]);
    const my = tf.broadcastTo(tf.tensor2d(interpolationMatrix(h!, outH, mode), [outH, h!]), [b! * c!, outH, h!]);
    const mx = tf.broadcastTo(tf.tensor2d(interpolationMatrix(w!, outW, mode), [outW, w!]), [b! * c!, outW, w!]);
    const y = tf.matMul(tf.matMul(my, planes), mx, false, true);
    return tf.transpose(tf.reshape(y, [b!, c!, outH, outW]), [0, 2, 3, 1]);
  }

  for (const mode of ['bilinear', 'bicubic'] as const) {
    it(`${mode}: agree with tfjs matmuls on CPU and with finite differences`, async () => {
      for (const [shape, oh, ow] of [
        [[2, 4, 5, 3], 7, 3],
        [[1, 6, 6, 2], 4, 9],
      ] as [number[], number, number][]) {
        const xa = randomArr(shape, 3);
        const r = randomArr([shape[0]!, oh, ow, shape[3]!], 4);
        const x = variableOf(xa);
        try {
          const forward = () => resize2d(x as tf.Tensor as tf.Tensor4D, oh, ow, mode);
          const [got] = weightedGrads(forward, [x], r);
          // Not tfjs's ResizeBilinear gradient: in 4.22 it ignores halfPixelCenters (and fails on non-square images).
          const [want] = await onCpu(() => {
            const xc = variableOf(xa);
            try {
              return weightedGrads(() => reference(xc, oh, ow, mode), [xc], r);
            } finally {
              xc.dispose();
            }
          });
          expectArraysClose(got!, want!, 1e-5, `${mode} ${shape} -> ${oh}x${ow}`);
          expectFiniteDifferences(forward, x, got!, r, { eps: 0.05, points: 5, what: `${mode} d input` });
        } finally {
          x.dispose();
        }
      }
    });
  }
});

describe('resamplePositionEmbedding', () => {
  it('keeps the prefix tokens and resizes the grid; the same grid gives the same values', () => {
    tf.tidy(() => {
      const c = 3;
      const grid = randomArr([1, 4, 4, c], 5);
      const prefix = randomArr([1, 2, c], 6);
      const pos = tf.concat([tf.tensor(prefix.values, prefix.shape), tf.reshape(tf.tensor(grid.values, grid.shape), [1, 16, c])], 1);
      const out = resamplePositionEmbedding(pos, [4, 4], [6, 5], { prefixTokens: 2, mode: 'bicubic' });
      expect(out.shape).toEqual([1, 2 + 30, c]);
      expect(Array.from(tf.slice(out, [0, 0, 0], [1, 2, c]).dataSync())).toEqual(Array.from(prefix.values));
      const resized = tf.reshape(tf.slice(out, [0, 2, 0], [1, 30, c]), [1, 6, 5, c]);
      expectArraysClose(toArr(resized), naiveResize(grid, 6, 5, 'bicubic'), 1e-5, 'grid');
      const same = resamplePositionEmbedding(pos, [4, 4], [4, 4], { prefixTokens: 2 });
      expect(Array.from(same.dataSync())).toEqual(Array.from(pos.dataSync()));
      expect(() => resamplePositionEmbedding(pos, [4, 4], [6, 6], { prefixTokens: 1 })).toThrow(
        /18 tokens, expected 1 prefix \+ 4x4 grid = 17/,
      );
    });
  });
});
