import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import { batchMatMul } from '../src/index.js';

describe('batchMatMul (split into 2-D matmuls on WebAssembly)', () => {
  it('runs on the WebAssembly backend in this suite', () => {
    expect(tf.getBackend()).toBe(process.env['VITKIT_BACKEND'] ?? 'wasm');
  });

  // [M, K, N]: small slices stay on tf.matMul, large ones (>= 40 K MACs) are split.
  const cases: [string, number, number, number][] = [
    ['small slices', 5, 4, 6],
    ['split slices', 48, 40, 36],
  ];
  for (const [label, m, k, n] of cases) {
    for (const transposeB of [false, true]) {
      it(`matches tf.matMul and its gradients (${label}, transposeB=${transposeB})`, () => {
        tf.tidy(() => {
          const a = tf.randomNormal([2, 3, m, k], 0, 1, 'float32', 1);
          const b = tf.randomNormal(transposeB ? [2, 3, n, k] : [2, 3, k, n], 0, 1, 'float32', 2);
          const w = tf.randomNormal([2, 3, m, n], 0, 1, 'float32', 3);
          expectClose(batchMatMul(a, b, transposeB), tf.matMul(a, b, false, transposeB), 1e-4);
          const ours = tf.grads((x, y) => tf.sum(tf.mul(batchMatMul(x, y, transposeB), w)))([a, b]);
          const theirs = tf.grads((x, y) => tf.sum(tf.mul(tf.matMul(x, y, false, transposeB), w)))([a, b]);
          expectClose(ours[0]!, theirs[0]!, 1e-4);
          expectClose(ours[1]!, theirs[1]!, 1e-4);
        });
      });
    }
  }

  it('keeps the tensor count flat', () => {
    const a = tf.randomNormal([4, 48, 40]);
    const b = tf.randomNormal([4, 40, 36]);
    const step = () =>
      tf.tidy(() => {
        for (const g of tf.grads((x, y) => tf.sum(batchMatMul(x, y)))([a, b])) g.dataSync();
      });
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b]);
  });
});
