import * as tf from '@tensorflow/tfjs-core';
import { maxPool2d } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import {
  type Arr,
  expectArraysClose,
  expectFiniteDifferences,
  onCpu,
  randomArr,
  toArr,
  variableOf,
  weightedGrads,
} from '../../core/test/gradient-check.js';
import { GroupNormAct, paddedOutputSize, samePadding, StdConv2d, symmetricPadding, windowPadding } from '../src/index.js';

describe('TensorFlow "SAME" padding', () => {
  // total = max((ceil(n / s) - 1) * s + k - n, 0); before = floor(total / 2), the rest after.
  it.each([
    [224, 7, 2, [2, 3]], // (112 - 1) * 2 + 7 - 224 = 5: the stem convolution at 224
    [225, 7, 2, [3, 3]], // (113 - 1) * 2 + 7 - 225 = 6
    [112, 3, 2, [0, 1]], // (56 - 1) * 2 + 3 - 112 = 1: the stem's max pool at 224
    [113, 3, 2, [1, 1]], // (57 - 1) * 2 + 3 - 113 = 2
    [7, 3, 2, [1, 1]],
    [9, 7, 2, [3, 3]], // (5 - 1) * 2 + 7 - 9 = 6
    [10, 7, 2, [2, 3]],
    [15, 3, 1, [1, 1]], // stride 1: what symmetric k // 2 gives
    [15, 1, 2, [0, 0]], // a 1x1 projection never pads
    [3, 7, 2, [3, 3]], // (2 - 1) * 2 + 7 - 3 = 6, larger than the input
  ])('size %i, kernel %i, stride %i: %j', (size, kernel, stride, pads) => {
    expect(samePadding(size, kernel, stride)).toEqual(pads);
    expect(paddedOutputSize(size, kernel, stride, samePadding(size, kernel, stride))).toBe(Math.ceil(size / stride));
  });

  it('symmetric padding is timm get_padding: ((s - 1) + (k - 1)) // 2', () => {
    expect([symmetricPadding(7, 2), symmetricPadding(3, 2), symmetricPadding(3, 1), symmetricPadding(1, 2)]).toEqual([3, 1, 1, 0]);
    expect(windowPadding(false, 9, 8, 3, 2)).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(windowPadding(true, 9, 8, 3, 2)).toEqual([
      [1, 1],
      [0, 1],
    ]);
  });

  it('StdConv2d and the max pool match TensorFlow\'s own "SAME" on odd sizes', () => {
    const conv = new StdConv2d(3, 4, 7, { stride: 2 }).eval();
    const x = tf.randomNormal([1, 11, 9, 3], 0, 1, 'float32', 1);
    try {
      tf.tidy(() => {
        const reference = tf.conv2d(x as tf.Tensor4D, conv.standardizedWeight() as tf.Tensor4D, 2, 'same');
        const y = conv.forward(x);
        expect(y.shape).toEqual([1, 6, 5, 4]);
        expect(tf.max(tf.abs(tf.sub(y, reference))).dataSync()[0]).toBeLessThan(1e-5);
        const padding = windowPadding(true, 11, 9, 3, 2);
        const pooled = maxPool2d(x as tf.Tensor4D, [3, 3], [2, 2], padding);
        expect(tf.max(tf.abs(tf.sub(pooled, tf.maxPool(x as tf.Tensor4D, 3, 2, 'same')))).dataSync()[0]).toBe(0);
      });
    } finally {
      x.dispose();
      conv.dispose();
    }
  });
});

/** Loads PyTorch-layout values [out, in, kh, kw] into a StdConv2d. */
function setWeight(conv: StdConv2d, values: number[]): void {
  const t = tf.tensor(values, [conv.outChannels, conv.inChannels, conv.kernel, conv.kernel]);
  conv.loadStateDict({ weight: t });
  t.dispose();
}

describe('StdConv2d', () => {
  it('standardises each output filter (biased variance, eps 1e-8): hand values', () => {
    const conv = new StdConv2d(4, 2, 1);
    // Filter 0: 1, 2, 3, 4 (mean 2.5, variance 1.25); filter 1: 0, 0, 0, 8 (mean 2, variance 12).
    setWeight(conv, [1, 2, 3, 4, 0, 0, 0, 8]);
    const a = 1 / Math.sqrt(1.25);
    const b = 1 / Math.sqrt(12);
    const want = [
      [-1.5 * a, -2 * b],
      [-0.5 * a, -2 * b],
      [0.5 * a, -2 * b],
      [1.5 * a, 6 * b],
    ];
    for (const mode of ['train', 'eval'] as const) {
      conv.train(mode === 'train');
      const w = tf.tidy(() => tf.reshape(conv.standardizedWeight(), [4, 2]).arraySync() as number[][]);
      w.flat().forEach((v, i) => {
        expect(v).toBeCloseTo(want.flat()[i]!, 6);
      });
      // One pixel with channels 1, 0, 0, 2: filter 0 gives -1.5a + 3a, filter 1 gives -2b + 12b.
      const y = tf.tidy(() => conv.forward(tf.tensor4d([1, 0, 0, 2], [1, 1, 1, 4])).dataSync());
      expect(y[0]).toBeCloseTo(1.5 * a, 5);
      expect(y[1]).toBeCloseTo(10 * b, 5);
    }
    expect(conv.stateShapes()).toEqual({ weight: [2, 4, 1, 1] });
    conv.dispose();
  });

  it('eval mode standardises once and recomputes only when the weight is assigned (a load)', () => {
    const conv = new StdConv2d(3, 4, 3).eval();
    const x = tf.randomNormal([1, 5, 5, 3], 0, 1, 'float32', 2);
    try {
      const first = conv.standardizedWeight();
      expect(conv.standardizedWeight()).toBe(first);
      const run = () => tf.tidy(() => void conv.forward(x));
      run();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) run();
      expect(tf.memory().numTensors).toBe(before);
      expect(conv.standardizedWeight()).toBe(first);

      const y0 = tf.tidy(() => conv.forward(x).dataSync());
      const sd = conv.stateDict();
      const negated = { weight: tf.mul(sd['weight']!, tf.scalar(-1)) };
      conv.loadStateDict(negated);
      tf.dispose([...Object.values(sd), ...Object.values(negated)]);
      const reloaded = conv.standardizedWeight();
      expect(reloaded).not.toBe(first);
      expect(first.isDisposed).toBe(true);
      const y1 = tf.tidy(() => conv.forward(x).dataSync());
      // Negated filters standardise to the negation, so the output flips sign.
      y1.forEach((v, i) => {
        expect(v).toBeCloseTo(-y0[i]!, 4);
      });
      // Training releases the cached filters and standardises in the graph.
      conv.train();
      expect(conv.standardizedWeight()).not.toBe(reloaded);
      expect(reloaded.isDisposed).toBe(true);
    } finally {
      x.dispose();
      conv.dispose();
    }
  });

  it.each([
    { name: '7x7/2 "SAME" on 9x8', kernel: 7, stride: 2, paddingSame: true, input: [2, 9, 8, 3] },
    { name: '3x3/1 symmetric', kernel: 3, stride: 1, paddingSame: false, input: [1, 6, 5, 4] },
    { name: '1x1/2 projection', kernel: 1, stride: 2, paddingSame: true, input: [1, 7, 7, 4] },
  ])('$name: training gradients flow through the standardisation (CPU tfjs and finite differences)', async (c) => {
    const conv = new StdConv2d(c.input[3]!, 5, c.kernel, { stride: c.stride, paddingSame: c.paddingSame }).train();
    const x = variableOf(randomArr(c.input, 3));
    try {
      const forward = () => conv.forward(x);
      const r = randomArr(
        tf.tidy(() => forward().shape),
        4,
      );
      const [dx, dw] = weightedGrads(forward, [x, conv.weight], r) as [Arr, Arr];
      // The same computation from tfjs's own ops, whose gradients are the ground truth on CPU.
      const [xa, wa] = [toArr(x), toArr(conv.weight)];
      const [h, w] = [c.input[1]!, c.input[2]!];
      const [ph, pw] = windowPadding(c.paddingSame, h, w, c.kernel, c.stride);
      const want = await onCpu(() => {
        const [xc, wc] = [variableOf(xa), variableOf(wa)];
        try {
          const reference = () => {
            const { mean, variance } = tf.moments(wc, [0, 1, 2]);
            const ws = tf.div(tf.sub(wc, mean), tf.sqrt(tf.add(variance, 1e-8)));
            return tf.conv2d(tf.pad(xc, [[0, 0], ph, pw, [0, 0]]) as tf.Tensor4D, ws as tf.Tensor4D, c.stride, 'valid');
          };
          return weightedGrads(reference, [xc, wc], r);
        } finally {
          tf.dispose([xc, wc]);
        }
      });
      expectArraysClose(dx, want[0]!, 1e-4, 'd input');
      expectArraysClose(dw, want[1]!, 1e-4, 'd weight');
      expectFiniteDifferences(forward, x, dx, r, { eps: 1e-2, what: 'd input' });
      expectFiniteDifferences(forward, conv.weight, dw, r, { eps: 1e-3, tol: 5e-3, what: 'd weight' });
    } finally {
      x.dispose();
      conv.dispose();
    }
  });
});

describe('GroupNormAct', () => {
  /** GroupNorm written out: per image and group, over pixels and the group's consecutive channels. */
  function groupNormByHand(x: Arr, groups: number, gamma: number[], beta: number[], eps: number): number[] {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const per = c / groups;
    const out = new Array<number>(x.values.length);
    for (let n = 0; n < b; n++) {
      for (let g = 0; g < groups; g++) {
        const idx: number[] = [];
        for (let p = 0; p < h * w; p++) for (let k = g * per; k < (g + 1) * per; k++) idx.push((n * h * w + p) * c + k);
        const mean = idx.reduce((s, i) => s + x.values[i]!, 0) / idx.length;
        const variance = idx.reduce((s, i) => s + (x.values[i]! - mean) ** 2, 0) / idx.length;
        for (const i of idx) out[i] = ((x.values[i]! - mean) / Math.sqrt(variance + eps)) * gamma[i % c]! + beta[i % c]!;
      }
    }
    return out;
  }

  it('normalises groups of consecutive channels (eps 1e-5): hand values', () => {
    const norm = new GroupNormAct(4, { groups: 2, act: false });
    // Two pixels x four channels. Group 0 = channels 0, 1: {1, 2, 5, 6}, mean 3.5, variance 4.25.
    const x = tf.tensor4d([1, 2, 3, 10, 5, 6, 7, 30], [1, 1, 2, 4]);
    const y = tf.tidy(() => norm.forward(x).dataSync());
    const s = Math.sqrt(4.25 + 1e-5);
    expect(y[0]).toBeCloseTo(-2.5 / s, 5);
    expect(y[1]).toBeCloseTo(-1.5 / s, 5);
    expect(y[4]).toBeCloseTo(1.5 / s, 5);
    expect(y[5]).toBeCloseTo(2.5 / s, 5);
    // Group 1 = channels 2, 3: {3, 10, 7, 30}, mean 12.5, variance 108.25.
    expect(y[7]).toBeCloseTo(17.5 / Math.sqrt(108.25 + 1e-5), 5);
    x.dispose();
    norm.dispose();
  });

  it('matches GroupNorm written out, with affine parameters and ReLU', () => {
    const norm = new GroupNormAct(8, { groups: 4 });
    const gamma = [0.5, 1, 1.5, 2, -1, 0.25, 3, 1];
    const beta = [0, 0.1, -0.2, 0.3, 0.5, -0.5, 0, 1];
    const g = tf.tensor(gamma);
    const bt = tf.tensor(beta);
    norm.loadStateDict({ weight: g, bias: bt });
    const xa = randomArr([2, 3, 2, 8], 7);
    const y = tf.tidy(() => norm.forward(tf.tensor(xa.values, xa.shape)).dataSync());
    const want = groupNormByHand(xa, 4, gamma, beta, 1e-5).map((v) => Math.max(v, 0));
    want.forEach((v, i) => {
      expect(y[i]).toBeCloseTo(v, 5);
    });
    tf.dispose([g, bt]);
    norm.dispose();
  });

  it('gradients of input, weight and bias agree with finite differences', () => {
    const norm = new GroupNormAct(8, { groups: 2, act: false });
    const x = variableOf(randomArr([2, 3, 3, 8], 8));
    try {
      const forward = () => norm.forward(x);
      const r = randomArr([2, 3, 3, 8], 9);
      const [dx, dw, db] = weightedGrads(forward, [x, norm.weight, norm.bias], r) as [Arr, Arr, Arr];
      expectFiniteDifferences(forward, x, dx, r, { eps: 1e-3, tol: 5e-3, points: 6, what: 'd input' });
      expectFiniteDifferences(forward, norm.weight, dw, r, { eps: 1e-2, what: 'd weight' });
      expectFiniteDifferences(forward, norm.bias, db, r, { eps: 1e-2, what: 'd bias' });
    } finally {
      x.dispose();
      norm.dispose();
    }
  });

  it('refuses channels the groups do not divide', () => {
    expect(() => new GroupNormAct(48)).toThrow(/48 channels do not split into 32 groups/);
  });
});
