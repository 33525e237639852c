import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  BatchNorm2d,
  Conv2d,
  DropPath,
  Dropout,
  GELU,
  type Layer,
  LayerNorm,
  Linear,
  MultiHeadSelfAttention,
  ShiftedPatchEmbed,
  scaledDotProductAttention,
  TransformerBlock,
} from '../src/index.js';
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

/** Gives every parameter seeded random values, so norms are not the identity and biases not zero. */
function randomizeParameters(layer: Layer): void {
  layer.namedParameters().forEach(([, v], i) => {
    tf.tidy(() => v.assign(tf.tensor(randomArr(v.shape, 100 + i).values, v.shape)));
  });
}

/** Gradients of sum(layer(x) * r) with respect to x and every parameter, on the current backend. */
function layerGrads(build: () => Layer, x: Arr, r: Arr | null): { r: Arr; grads: Arr[] } {
  const layer = build();
  randomizeParameters(layer);
  const xv = variableOf(x);
  try {
    const forward = () => layer.forward(xv);
    const weights =
      r ??
      randomArr(
        tf.tidy(() => forward().shape),
        7,
      );
    return { r: weights, grads: weightedGrads(forward, [xv, ...layer.parameters()], weights) };
  } finally {
    xv.dispose();
    layer.dispose();
  }
}

interface LayerCase {
  name: string;
  build: () => Layer;
  input: number[];
  train?: boolean;
  /** Finite-difference step; the loss is smooth but not linear in these layers. */
  eps?: number;
}

const layerCases: LayerCase[] = [
  { name: 'LayerNorm', build: () => new LayerNorm(6, 1e-5), input: [2, 3, 6] },
  { name: 'GELU (exact)', build: () => new GELU('none'), input: [3, 7] },
  { name: 'GELU (tanh)', build: () => new GELU('tanh'), input: [3, 7] },
  { name: 'BatchNorm2d (training)', build: () => new BatchNorm2d(3).train(), input: [2, 4, 3, 3], train: true },
  {
    name: 'MultiHeadSelfAttention',
    build: () => new MultiHeadSelfAttention(8, { numHeads: 2, qkvBias: true }),
    input: [2, 5, 8],
  },
  {
    name: 'MultiHeadSelfAttention (locality: learned scale, diagonal masked)',
    build: () => new MultiHeadSelfAttention(8, { numHeads: 2, locality: true }),
    input: [2, 5, 8],
  },
  { name: 'ShiftedPatchEmbed', build: () => new ShiftedPatchEmbed(2, 2, 3), input: [2, 4, 4, 2] },
];

describe('layer gradients on WebAssembly', () => {
  it.each(layerCases)('$name: agree with the CPU backend and with finite differences', async (c) => {
    expect(tf.getBackend()).toBe('wasm');
    const x = randomArr(c.input, 3);
    const got = layerGrads(c.build, x, null);
    const want = await onCpu(() => layerGrads(c.build, x, got.r).grads);
    expect(got.grads.length).toBe(want.length);
    for (const [i, g] of got.grads.entries()) expectArraysClose(g, want[i]!, 1e-4, `gradient ${i} (0 is the input)`);

    const layer = c.build();
    randomizeParameters(layer);
    const xv = variableOf(x);
    try {
      const forward = () => layer.forward(xv);
      expectFiniteDifferences(forward, xv, got.grads[0]!, got.r, { eps: 1e-3, tol: 5e-3, points: 6, what: 'd input' });
      for (const [i, v] of layer.parameters().entries()) {
        expectFiniteDifferences(forward, v, got.grads[i + 1]!, got.r, { eps: 1e-3, tol: 5e-3, points: 2, what: `d param ${i}` });
      }
    } finally {
      xv.dispose();
      layer.dispose();
    }
  });

  // Both branches of the weight gradient: x^T dy (out <= in) and (dy^T x)^T (out > in).
  it.each([
    [5, 4],
    [4, 7],
  ])('Linear(%i, %i) (custom dense gradient) agrees with tfjs matMul on CPU and with finite differences', async (inF, outF) => {
    const linear = new Linear(inF, outF);
    randomizeParameters(linear);
    const x = variableOf(randomArr([2, 3, inF], 4));
    const r = randomArr([2, 3, outF], 5);
    try {
      const forward = () => linear.forward(x);
      const got = weightedGrads(forward, [x, linear.weight, linear.bias!], r);
      const inputs = [x, linear.weight, linear.bias!].map(toArr);
      const want = await onCpu(() => {
        const [xc, wc, bc] = inputs.map(variableOf) as [tf.Variable, tf.Variable, tf.Variable];
        try {
          const plain = () => tf.reshape(tf.add(tf.matMul(tf.reshape(xc, [6, inF]), wc), bc), [2, 3, outF]);
          return weightedGrads(plain, [xc, wc, bc], r);
        } finally {
          tf.dispose([xc, wc, bc]);
        }
      });
      for (const [i, g] of got.entries()) expectArraysClose(g, want[i]!, 1e-5, `gradient ${i}`);
      expectFiniteDifferences(forward, x, got[0]!, r, { eps: 0.05, what: 'd input' });
      expectFiniteDifferences(forward, linear.weight, got[1]!, r, { eps: 0.05, what: 'd weight' });
      expectFiniteDifferences(forward, linear.bias!, got[2]!, r, { eps: 0.05, what: 'd bias' });
    } finally {
      x.dispose();
      linear.dispose();
    }
  });
});

describe('layer forward passes', () => {
  it('Linear computes x W^T + b with a PyTorch-layout weight', () => {
    const linear = new Linear(3, 2);
    const w = [
      [1, 2, 3],
      [-1, 0.5, 0],
    ];
    linear.loadStateDict({ weight: tf.tensor2d(w), bias: tf.tensor1d([0.25, -2]) });
    const y = tf.tidy(() => linear.forward(tf.tensor2d([[1, -1, 2]])).arraySync());
    expect(y).toEqual([[1 - 2 + 6 + 0.25, -1 - 0.5 - 2]]);
    linear.dispose();
  });

  it('LayerNorm normalises the last axis with its own epsilon', () => {
    for (const eps of [1e-6, 0.5]) {
      const norm = new LayerNorm(4, eps);
      randomizeParameters(norm);
      const x = randomArr([3, 4], 9);
      const y = tf.tidy(() => norm.forward(tf.tensor(x.values, x.shape)).dataSync());
      const gamma = norm.weight.dataSync();
      const beta = norm.bias.dataSync();
      for (let row = 0; row < 3; row++) {
        const v = Array.from(x.values.subarray(row * 4, row * 4 + 4));
        const mean = v.reduce((a, b) => a + b) / 4;
        const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / 4;
        v.forEach((xi, i) => {
          const want = ((xi - mean) / Math.sqrt(variance + eps)) * gamma[i]! + beta[i]!;
          expect(y[row * 4 + i]).toBeCloseTo(want, 5);
        });
      }
      norm.dispose();
    }
  });

  it('GELU matches the erf form and the tanh approximation (float64 values)', () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 2];
    // 0.5 x (1 + erf(x / sqrt 2)) and 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in float64.
    const exact = [
      -0.00404969409489031, -0.15865525393145707, -0.15426876936299344, 0, 0.34573123063700656, 0.8413447460685429, 1.9544997361036416,
    ];
    const tanh = [
      -0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0, 0.34571400982514394, 0.8411919906082768, 1.954597694087775,
    ];
    const got = (mode: 'none' | 'tanh') => tf.tidy(() => Array.from(new GELU(mode).forward(tf.tensor1d(xs)).dataSync()));
    for (const [i, v] of got('none').entries()) expect(v).toBeCloseTo(exact[i]!, 6);
    for (const [i, v] of got('tanh').entries()) expect(v).toBeCloseTo(tanh[i]!, 6);
  });

  it('BatchNorm2d: batch statistics and PyTorch running updates in training, running statistics in eval', () => {
    const bn = new BatchNorm2d(2, 1e-5, 0.1);
    randomizeParameters(bn);
    const x = randomArr([2, 3, 1, 2], 21);
    const xt = tf.tensor(x.values, x.shape);
    const gamma = bn.weight.dataSync();
    const beta = bn.bias.dataSync();
    const channel = (c: number) => Array.from(x.values).filter((_, i) => i % 2 === c);
    const stats = [0, 1].map((c) => {
      const v = channel(c);
      const mean = v.reduce((a, b) => a + b) / v.length;
      const sq = v.reduce((a, b) => a + (b - mean) ** 2, 0);
      return { mean, biased: sq / v.length, unbiased: sq / (v.length - 1) };
    });

    const yTrain = tf.tidy(() => bn.forward(xt).dataSync());
    yTrain.forEach((y, i) => {
      const s = stats[i % 2]!;
      expect(y).toBeCloseTo(((x.values[i]! - s.mean) / Math.sqrt(s.biased + 1e-5)) * gamma[i % 2]! + beta[i % 2]!, 4);
    });
    const runningMean = bn.runningMean.dataSync();
    const runningVar = bn.runningVar.dataSync();
    stats.forEach((s, c) => {
      expect(runningMean[c]).toBeCloseTo(0.1 * s.mean, 6);
      expect(runningVar[c]).toBeCloseTo(0.9 + 0.1 * s.unbiased, 6);
    });
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);

    bn.eval();
    const yEval = tf.tidy(() => bn.forward(xt).dataSync());
    yEval.forEach((y, i) => {
      const c = i % 2;
      expect(y).toBeCloseTo(((x.values[i]! - runningMean[c]!) / Math.sqrt(runningVar[c]! + 1e-5)) * gamma[c]! + beta[c]!, 4);
    });
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    xt.dispose();
    bn.dispose();
  });

  it('Dropout and DropPath are the identity in eval; in training they drop and rescale', () => {
    const x = tf.ones([64, 4, 8]);
    const dropout = new Dropout(0.5);
    const dropPath = new DropPath(0.5);
    for (const m of [dropout, dropPath]) {
      m.eval();
      expect(tf.tidy(() => m.forward(x).dataSync())).toEqual(x.dataSync());
      m.train();
    }
    const d = tf.tidy(() => Array.from(dropout.forward(x).dataSync()));
    expect(new Set(d)).toEqual(new Set([0, 2]));
    const kept = d.filter((v) => v > 0).length / d.length;
    expect(kept).toBeGreaterThan(0.4);
    expect(kept).toBeLessThan(0.6);
    // DropPath drops whole samples: each sample is all zeros or all 2.
    const p = tf.tidy(() => tf.reshape(dropPath.forward(x), [64, 32]).arraySync() as number[][]);
    const perSample = p.map((row) => new Set(row));
    expect(perSample.every((s) => s.size === 1 && (s.has(0) || s.has(2)))).toBe(true);
    expect(perSample.some((s) => s.has(0)) && perSample.some((s) => s.has(2))).toBe(true);
    x.dispose();
  });

  it('attention probabilities are row-stochastic and captured only when asked', () => {
    const attn = new MultiHeadSelfAttention(8, { numHeads: 2 });
    const x = tf.tensor(randomArr([2, 5, 8], 31).values, [2, 5, 8]);
    const forward = () => tf.dispose(tf.tidy(() => attn.forward(x)));
    forward();
    expect(attn.attention).toBeNull();
    attn.captureAttention = true;
    const before = tf.memory().numTensors;
    forward();
    forward();
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(attn.attention!.shape).toEqual([2, 2, 5, 5]);
    const rowSums = tf.tidy(() => tf.sum(attn.attention!, -1).dataSync());
    for (const s of rowSums) expect(s).toBeCloseTo(1, 5);
    // The same probabilities as the functional form on the module's own q and k.
    tf.tidy(() => {
      const q = tf.randomNormal([1, 2, 3, 4], 0, 1, 'float32', 1);
      const k = tf.randomNormal([1, 2, 3, 4], 0, 1, 'float32', 2);
      const v = tf.randomNormal([1, 2, 3, 4], 0, 1, 'float32', 3);
      const { out, probabilities } = scaledDotProductAttention(q, k, v, { keepProbabilities: true });
      const want = tf.softmax(tf.div(tf.matMul(q, k, false, true), 2), -1);
      expectArraysClose(toArr(probabilities!), toArr(want), 1e-6, 'probabilities');
      expectArraysClose(toArr(out), toArr(tf.matMul(want, v)), 1e-5, 'output');
    });
    x.dispose();
    attn.dispose();
  });
});

describe('static cost against the built modules', () => {
  it('Linear and Conv2d', () => {
    const cases: [Layer, number][] = [
      [new Linear(7, 5), Linear.cost(7, 5, 1).params],
      [new Linear(7, 5, { bias: false }), Linear.cost(7, 5, 1, false).params],
      [new Conv2d(3, 8, 3, { stride: 2, padding: 1 }), Conv2d.cost(3, 8, 3, 8, 8, { stride: 2, padding: 1 }).params],
      [new Conv2d(4, 6, 3, { groups: 2, bias: false }), Conv2d.cost(4, 6, 3, 8, 8, { groups: 2, bias: false }).params],
      [new Conv2d(4, 8, 5, { groups: 4, padding: 2 }), Conv2d.cost(4, 8, 5, 8, 8, { groups: 4, padding: 2 }).params],
      [new BatchNorm2d(6), BatchNorm2d.cost(6).params],
      [new LayerNorm(6, 1e-6), LayerNorm.cost(6).params],
    ];
    for (const [layer, params] of cases) {
      expect(layer.numParams(), layer.constructor.name).toBe(params);
      layer.dispose();
    }
    // MACs: every output position multiplies (in/groups) * k * k inputs.
    const c = Conv2d.cost(4, 8, 3, 9, 7, { stride: 2, padding: 1, groups: 2 });
    expect([c.outH, c.outW]).toEqual([5, 4]);
    expect(c.macs).toBe(5 * 4 * 8 * 2 * 3 * 3);
    expect(Linear.cost(7, 5, 10).macs).toBe(10 * 7 * 5);
  });

  it('MultiHeadSelfAttention and TransformerBlock, attention matmuls included', () => {
    for (const qkvBias of [true, false]) {
      const attn = new MultiHeadSelfAttention(12, { numHeads: 3, qkvBias });
      const cost = MultiHeadSelfAttention.cost(12, 10, qkvBias);
      expect(attn.numParams()).toBe(cost.params);
      const local = new MultiHeadSelfAttention(12, { numHeads: 3, qkvBias, locality: true });
      expect(local.numParams()).toBe(MultiHeadSelfAttention.cost(12, 10, qkvBias, true).params);
      expect(local.numParams()).toBe(cost.params + 1);
      local.dispose();
      // qkv, q k^T, probabilities x v, proj.
      expect(cost.macs).toBe(10 * 12 * 36 + 10 * 10 * 12 + 10 * 10 * 12 + 10 * 12 * 12);
      attn.dispose();
    }
    const configs = [
      { numHeads: 2, mlpRatio: 4, eps: 1e-6 },
      { numHeads: 4, mlpRatio: 3, qkvBias: false, eps: 1e-6 },
      { numHeads: 2, mlpHidden: 20, eps: 1e-5 },
    ];
    for (const options of configs) {
      const block = new TransformerBlock(16, options);
      expect(block.numParams(), JSON.stringify(options)).toBe(TransformerBlock.cost(16, 9, options).params);
      block.dispose();
    }
  });
});
