import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d, fromTorchLayout, type Layout, type Pair, torchShape, toTorchLayout } from '../src/index.js';
import { randomArr } from './gradient-check.js';

describe('PyTorch <-> tfjs layouts', () => {
  const cases: [Layout, number[]][] = [
    ['plain', [2, 3, 4]],
    ['linear', [5, 7]],
    ['conv2d', [3, 2, 4, 6]],
    ['depthwise', [3, 5, 4, 2]],
  ];

  it.each(cases)('%s %j: both directions round trip and torchShape agrees', (layout, internal) => {
    tf.tidy(() => {
      const t = tf.tensor(randomArr(internal, 1).values, internal);
      const torch = toTorchLayout(t, layout);
      expect(torch.shape).toEqual(torchShape(internal, layout));
      const back = fromTorchLayout(torch, layout, internal);
      expect(back.shape).toEqual(internal);
      expect(Array.from(back.dataSync())).toEqual(Array.from(t.dataSync()));

      const torchShaped = torchShape(internal, layout);
      const u = tf.tensor(randomArr(torchShaped, 2).values, torchShaped);
      const again = toTorchLayout(fromTorchLayout(u, layout, internal), layout);
      expect(Array.from(again.dataSync())).toEqual(Array.from(u.dataSync()));
    });
  });

  it('the conversions return new tensors the caller owns', () => {
    const t = tf.ones([2, 3]);
    for (const layout of ['plain', 'linear'] as const) {
      const u = toTorchLayout(t, layout);
      expect(u).not.toBe(t);
      u.dispose();
      expect(t.isDisposed).toBe(false);
    }
    t.dispose();
  });
});

interface ConvCase {
  name: string;
  input: [number, number, number, number];
  out: number;
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  groups: number;
}

/** torch.nn.functional.conv2d written out: NHWC input, PyTorch weight [out, in/groups, kh, kw], symmetric zero padding. */
function naiveConv(x: Float32Array, c: ConvCase, weight: Float32Array, bias: Float32Array): { values: Float32Array; shape: number[] } {
  const [b, h, w, cin] = c.input;
  const [kh, kw] = c.kernel;
  const [sh, sw] = c.stride;
  const [ph, pw] = c.padding;
  const outH = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const outW = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const inPerGroup = cin / c.groups;
  const outPerGroup = c.out / c.groups;
  const y = new Float32Array(b * outH * outW * c.out);
  for (let n = 0; n < b; n++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++)
        for (let o = 0; o < c.out; o++) {
          const g = Math.floor(o / outPerGroup);
          let s = bias[o]!;
          for (let i = 0; i < inPerGroup; i++)
            for (let ky = 0; ky < kh; ky++)
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh - ph + ky;
                const ix = ox * sw - pw + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += x[((n * h + iy) * w + ix) * cin + g * inPerGroup + i]! * weight[((o * inPerGroup + i) * kh + ky) * kw + kx]!;
              }
          y[((n * outH + oy) * outW + ox) * c.out + o] = s;
        }
  return { values: y, shape: [b, outH, outW, c.out] };
}

describe('Conv2d with PyTorch-layout weights against a hand-written convolution', () => {
  const cases: ConvCase[] = [
    { name: '3x3 stride 1 pad 0', input: [1, 5, 6, 2], out: 3, kernel: [3, 3], stride: [1, 1], padding: [0, 0], groups: 1 },
    { name: '3x3 stride 2 pad 1 on an even size', input: [2, 6, 6, 3], out: 4, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 1 },
    { name: '7x7 stride 2 pad 3', input: [1, 9, 7, 2], out: 3, kernel: [7, 7], stride: [2, 2], padding: [3, 3], groups: 1 },
    { name: '1x3 kernel, pad (0, 1)', input: [1, 4, 5, 2], out: 2, kernel: [1, 3], stride: [1, 1], padding: [0, 1], groups: 1 },
    { name: 'patchify 4x4 stride 4', input: [2, 8, 8, 3], out: 5, kernel: [4, 4], stride: [4, 4], padding: [0, 0], groups: 1 },
    { name: 'groups 2, 3x3 stride 2 pad 1', input: [1, 6, 5, 4], out: 6, kernel: [3, 3], stride: [2, 2], padding: [1, 1], groups: 2 },
    { name: 'depthwise 3x3 stride 1 pad 1', input: [2, 5, 5, 3], out: 3, kernel: [3, 3], stride: [1, 1], padding: [1, 1], groups: 3 },
    {
      name: 'depthwise multiplier 2, 3x3 stride 2 pad 1',
      input: [1, 6, 6, 3],
      out: 6,
      kernel: [3, 3],
      stride: [2, 2],
      padding: [1, 1],
      groups: 3,
    },
  ];

  it.each(cases)('$name', (c) => {
    const conv = new Conv2d(c.input[3], c.out, c.kernel, { stride: c.stride, padding: c.padding, groups: c.groups });
    const torchWeight = [c.out, c.input[3] / c.groups, c.kernel[0], c.kernel[1]];
    const w = randomArr(torchWeight, 3);
    const b = randomArr([c.out], 4);
    const x = randomArr(c.input, 5);
    const sd = { weight: tf.tensor(w.values, torchWeight), bias: tf.tensor(b.values, [c.out]) };
    conv.loadStateDict(sd);
    tf.dispose(Object.values(sd));
    const want = naiveConv(x.values, c, w.values, b.values);
    const got = tf.tidy(() => {
      const y = conv.forward(tf.tensor(x.values, c.input));
      return { values: y.dataSync(), shape: y.shape };
    });
    expect(got.shape).toEqual(want.shape);
    expect(conv.outputSize(c.input[1], c.input[2])).toEqual(want.shape.slice(1, 3));
    let maxDiff = 0;
    for (let i = 0; i < want.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.values[i]! - want.values[i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    conv.dispose();
  });

  it("stride 2 pads symmetrically, unlike TensorFlow's 'same'", () => {
    // 6x6, 3x3, stride 2: 'same' pads 0 on top and 1 below; PyTorch pads 1 on both sides.
    const conv = new Conv2d(1, 1, 3, { stride: 2, padding: 1, bias: false });
    tf.tidy(() => {
      const x = tf.tensor(randomArr([1, 6, 6, 1], 6).values, [1, 6, 6, 1]);
      const torch = conv.forward(x);
      const same = tf.conv2d(x as tf.Tensor4D, conv.weight as tf.Tensor4D, 2, 'same');
      expect(torch.shape).toEqual(same.shape);
      expect(tf.max(tf.abs(tf.sub(torch, same))).dataSync()[0]).toBeGreaterThan(1e-3);
    });
    conv.dispose();
  });
});
