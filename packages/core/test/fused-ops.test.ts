// The custom-gradient ops (exact GELU, LayerNorm, the attention core) against
// tfjs's autograd of the plain compositions they replace, on the same backend:
// bit-identical forwards, gradients to 1e-5 relative, finite differences on a
// tiny case, and a flat tensor count.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { MultiHeadSelfAttention } from '../src/index.js';
import { attentionCore, diagonalMask } from '../src/ops/attention-core.js';
import { geluExact } from '../src/ops/gelu.js';
import { layerNorm } from '../src/ops/layer-norm.js';
import { type Arr, expectArraysClose, expectFiniteDifferences, randomArr, toArr, variableOf, weightedGrads } from './gradient-check.js';

function plainGelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

function plainLayerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b);
}

/** The composition the attention op replaced: differentiable matMul products around a softmax. */
function plainAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number): tf.Tensor {
  return tf.matMul(tf.softmax(tf.matMul(tf.mul(q, scale), k, false, true), -1), v);
}

/** Runs `fused` and `plain` on variables holding `inputs`: the same forward bits and gradients. */
function expectSameAsPlain(
  fused: (...xs: tf.Tensor[]) => tf.Tensor,
  plain: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: Arr[],
  tol = 1e-5,
): void {
  const vars = inputs.map(variableOf);
  try {
    const r = randomArr(
      tf.tidy(() => fused(...vars).shape),
      99,
    );
    const [got, want] = [fused, plain].map((f) => tf.tidy(() => toArr(f(...vars))));
    expect(got!.shape).toEqual(want!.shape);
    expect(Array.from(got!.values)).toEqual(Array.from(want!.values));
    const gotGrads = weightedGrads(() => fused(...vars), vars, r);
    const wantGrads = weightedGrads(() => plain(...vars), vars, r);
    for (const [i, g] of gotGrads.entries()) expectArraysClose(g, wantGrads[i]!, tol, `gradient ${i}`);
  } finally {
    tf.dispose(vars);
  }
}

/** Finite differences of every input on a tiny case. */
function expectFiniteDifferencesOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Arr[]): void {
  const vars = inputs.map(variableOf);
  try {
    const forward = () => f(...vars);
    const r = randomArr(
      tf.tidy(() => forward().shape),
      98,
    );
    const grads = weightedGrads(forward, vars, r);
    for (const [i, v] of vars.entries()) {
      expectFiniteDifferences(forward, v, grads[i]!, r, { eps: 1e-2, tol: 5e-3, points: 5, what: `d input ${i}` });
    }
  } finally {
    tf.dispose(vars);
  }
}

/** One forward + backward of `f` leaves the tensor count where it was. */
function expectNoLeak(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: Arr[]): void {
  const vars = inputs.map(variableOf);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(f(...vars)) as tf.Scalar, vars);
      value.dataSync();
      for (const g of Object.values(grads)) g.dataSync();
    });
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose(vars);
}

describe('geluExact (one custom-gradient op)', () => {
  for (const shape of [[7], [3, 8], [2, 3, 5], [2, 2, 3, 4]]) {
    it(`matches autograd of x Phi(x) for shape [${shape}]`, () => {
      expectSameAsPlain(
        geluExact,
        plainGelu,
        [randomArr(shape, 1)].map((a) => ({ ...a, values: a.values.map((v) => 4 * v) })),
      );
    });
  }
  it('agrees with finite differences', () => expectFiniteDifferencesOf(geluExact, [randomArr([2, 5], 2)]));
  it('keeps the tensor count flat', () => expectNoLeak(geluExact, [randomArr([3, 6], 3)]));
});

describe('layerNorm (one custom-gradient op)', () => {
  for (const [shape, eps] of [
    [[4, 6], 1e-6],
    [[2, 3, 8], 1e-5],
    [[2, 2, 3, 5], 1e-6],
  ] as [number[], number][]) {
    it(`matches autograd of the plain composition for shape [${shape}], eps ${eps}`, () => {
      const c = shape[shape.length - 1]!;
      const fused = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => layerNorm(x, w, b, eps);
      const plain = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => plainLayerNorm(x, w, b, eps);
      expectSameAsPlain(fused, plain, [randomArr(shape, 4), randomArr([c], 5), randomArr([c], 6)]);
    });
  }
  it('agrees with finite differences', () => {
    const fused = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => layerNorm(x, w, b, 1e-5);
    expectFiniteDifferencesOf(fused, [randomArr([3, 4], 7), randomArr([4], 8), randomArr([4], 9)]);
  });
  it('keeps the tensor count flat', () => {
    const fused = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.mul(layerNorm(x, w, b, 1e-6), x);
    expectNoLeak(fused, [randomArr([2, 3, 4], 10), randomArr([4], 11), randomArr([4], 12)]);
  });
});

describe('attentionCore (one custom-gradient op)', () => {
  // [leading dims, M queries, N keys, D]; the last case is large enough to be split into 2-D matmuls on WebAssembly.
  const cases: [number[], number, number, number][] = [
    [[3], 6, 6, 8],
    [[2, 3], 5, 5, 4],
    [[2, 2], 1, 7, 4],
    [[2, 2], 48, 48, 40],
  ];
  for (const [lead, m, n, d] of cases) {
    it(`matches autograd of softmax(q k^T s) v for q [${lead},${m},${d}], k and v [${lead},${n},${d}]`, () => {
      const scale = d ** -0.5;
      const fused = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => attentionCore(q, k, v, { scale }).out;
      const plain = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => plainAttention(q, k, v, scale);
      const inputs = [randomArr([...lead, m, d], 13), randomArr([...lead, n, d], 14), randomArr([...lead, n, d], 15)];
      expectSameAsPlain(fused, plain, inputs);
    });
  }
  it('agrees with finite differences', () => {
    const fused = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => attentionCore(q, k, v, { scale: 0.7 }).out;
    expectFiniteDifferencesOf(fused, [randomArr([2, 3, 2], 16), randomArr([2, 4, 2], 17), randomArr([2, 4, 2], 18)]);
  });
  it('returns the probabilities when asked, as a tensor of the caller scope', () => {
    const inputs = [randomArr([2, 2, 3, 4], 19), randomArr([2, 2, 5, 4], 20), randomArr([2, 2, 5, 4], 21)];
    const fused = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
      const { out, probabilities } = attentionCore(q, k, v, { scale: 0.5, keepProbabilities: true });
      return tf.add(tf.sum(out), tf.sum(tf.mul(probabilities!, probabilities!)));
    };
    expectNoLeak(fused, inputs);
    tf.tidy(() => {
      const [q, k, v] = inputs.map((a) => tf.tensor(a.values, a.shape));
      const { probabilities } = attentionCore(q!, k!, v!, { scale: 0.5, keepProbabilities: true });
      expect(Array.from(probabilities!.dataSync())).toEqual(Array.from(tf.softmax(tf.matMul(tf.mul(q!, 0.5), k!, false, true)).dataSync()));
    });
  });
  // Locality self-attention: a learned scale (a fourth input with its own gradient) and the diagonal masked.
  const localityPlain = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, s: tf.Tensor) =>
    tf.matMul(tf.softmax(tf.add(tf.matMul(tf.mul(q, s), k, false, true), diagonalMask(k.shape[k.rank - 2]!)), -1), v);
  const localityFused = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, s: tf.Tensor) =>
    attentionCore(q, k, v, { scale: s, maskDiagonal: true }).out;
  it('with a learned scale and the diagonal masked, matches autograd of the plain composition', () => {
    for (const [lead, n, d] of [
      [[2, 3], 5, 4],
      [[2, 2], 48, 40],
    ] as [number[], number, number][]) {
      const inputs = [
        randomArr([...lead, n, d], 25),
        randomArr([...lead, n, d], 26),
        randomArr([...lead, n, d], 27),
        { values: Float32Array.of(0.4), shape: [1] },
      ];
      // The scale's gradient sums over every logit: float32 summation order differs by ~1e-5 at 48x48x40.
      expectSameAsPlain(localityFused, localityPlain, inputs, 1e-4);
    }
    expectFiniteDifferencesOf(localityFused, [
      randomArr([2, 3, 2], 28),
      randomArr([2, 3, 2], 29),
      randomArr([2, 3, 2], 30),
      { values: Float32Array.of(0.6), shape: [1] },
    ]);
    tf.tidy(() => {
      const q = tf.randomNormal([1, 2, 4, 3]);
      const { probabilities } = attentionCore(q, q, q, { scale: tf.scalar(0.5), maskDiagonal: true, keepProbabilities: true });
      expect(Array.from(tf.sum(tf.mul(probabilities!, tf.eye(4))).dataSync())).toEqual([0]);
      expect(() => attentionCore(tf.zeros([1, 3, 2]), tf.zeros([1, 4, 2]), tf.zeros([1, 4, 2]), { scale: 1, maskDiagonal: true })).toThrow(
        /as many queries as keys/,
      );
    });
  });
  it('keeps the tensor count flat', () => {
    const fused = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => attentionCore(q, k, v, { scale: 0.5 }).out;
    expectNoLeak(fused, [randomArr([2, 2, 5, 4], 22), randomArr([2, 2, 5, 4], 23), randomArr([2, 2, 5, 4], 24)]);
  });
});

describe('MultiHeadSelfAttention with the fused ops', () => {
  /** The qkv split and attention as they were before the fusion (unstack of a [3, B*N, C] transpose). */
  function referenceForward(attn: MultiHeadSelfAttention, x: tf.Tensor): tf.Tensor {
    const [b, n, c] = x.shape as [number, number, number];
    const h = attn.numHeads;
    const qkv = tf.unstack(tf.transpose(tf.reshape(attn.qkv.forward(x), [b * n, 3, c]), [1, 0, 2]), 0);
    const [q, k, v] = qkv.map((t) => tf.transpose(tf.reshape(t, [b, n, h, c / h]), [0, 2, 1, 3])) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const out = plainAttention(q, k, v, (c / h) ** -0.5);
    return attn.proj.forward(tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, c]));
  }

  it('computes the same bits and gradients as the unfused layer', () => {
    const attn = new MultiHeadSelfAttention(12, { numHeads: 3 });
    attn.namedParameters().forEach(([, v], i) => {
      tf.tidy(() => v.assign(tf.tensor(randomArr(v.shape, 30 + i).values, v.shape)));
    });
    try {
      expectSameAsPlain(
        (x) => attn.forward(x),
        (x) => referenceForward(attn, x),
        [randomArr([2, 5, 12], 25)],
      );
    } finally {
      attn.dispose();
    }
  });

  it('trains with attention dropout (the unfused path) and captures probabilities without leaking', () => {
    const attn = new MultiHeadSelfAttention(8, { numHeads: 2, attnDrop: 0.5 });
    attn.train();
    attn.captureAttention = true;
    const x = variableOf(randomArr([2, 4, 8], 26));
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(attn.forward(x)) as tf.Scalar, [x, ...attn.parameters()]);
        for (const g of Object.values(grads)) expect(Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0])).toBe(true);
      });
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    expect(attn.attention!.shape).toEqual([2, 2, 4, 4]);
    x.dispose();
    attn.dispose();
  });
});
