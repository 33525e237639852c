import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';

/** [batch, rows, cols] slices of x, transposed when asked: the reference's operand access. */
function at(x: tf.Tensor, transpose: boolean): (i: number, r: number, c: number) => number {
  const data = x.dataSync();
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const batch = x.size / (rows * cols);
  return (i, r, c) => {
    const base = (batch === 1 ? 0 : i) * rows * cols;
    return transpose ? data[base + c * cols + r]! : data[base + r * cols + c]!;
  };
}

/** matMul by its definition, with one-sided batch broadcasting. */
function naiveMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const [m, k] = transposeA ? [a.shape[a.rank - 1]!, a.shape[a.rank - 2]!] : [a.shape[a.rank - 2]!, a.shape[a.rank - 1]!];
  const n = transposeB ? b.shape[b.rank - 2]! : b.shape[b.rank - 1]!;
  const lead = a.rank >= b.rank ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const batch = lead.reduce((p, d) => p * d, 1);
  const A = at(a, transposeA);
  const B = at(b, transposeB);
  const out = new Float32Array(batch * m * n);
  for (let i = 0; i < batch; i++)
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += A(i, r, j) * B(i, j, c);
        out[(i * m + r) * n + c] = s;
      }
  return tf.tensor(out, [...lead, m, n]);
}

describe('BatchMatMul on WebAssembly (slices on XNNPACK, views into the heap)', () => {
  it('runs on the WebAssembly backend in this suite', () => {
    expect(tf.getBackend()).toBe(process.env['VITKIT_BACKEND'] ?? 'wasm');
  });

  // [M, K, N]: 48x40x36 slices take the per-slice XNNPACK path, 5x4x6 the backend's own loop.
  const sizes: [string, number, number, number][] = [
    ['sliced', 48, 40, 36],
    ['tiny', 5, 4, 6],
  ];
  for (const [label, m, k, n] of sizes) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        it(`equals the definition, ${label}, transposeA=${transposeA}, transposeB=${transposeB}`, () => {
          tf.tidy(() => {
            const a = tf.randomNormal(transposeA ? [2, 3, k, m] : [2, 3, m, k], 0, 1, 'float32', 1);
            const b = tf.randomNormal(transposeB ? [2, 3, n, k] : [2, 3, k, n], 0, 1, 'float32', 2);
            const y = tf.matMul(a, b, transposeA, transposeB);
            expect(y.shape).toEqual([2, 3, m, n]);
            expectClose(y, naiveMatMul(a, b, transposeA, transposeB), 1e-4);
          });
        });
      }
    }
  }

  it('broadcasts a single matrix on either side, and multiplies a transposed 2-D pair', () => {
    tf.tidy(() => {
      const batched = tf.randomNormal([3, 2, 48, 40], 0, 1, 'float32', 4);
      const single = tf.randomNormal([40, 36], 0, 1, 'float32', 5);
      expectClose(tf.matMul(batched, single), naiveMatMul(batched, single, false, false), 1e-4);
      const left = tf.randomNormal([36, 48], 0, 1, 'float32', 6);
      expectClose(tf.matMul(left, batched), naiveMatMul(left, batched, false, false), 1e-4);
      const other = tf.randomNormal([36, 40], 0, 1, 'float32', 7);
      expectClose(tf.matMul(other, single, false, false), naiveMatMul(other, single, false, false), 1e-4);
      const wide = tf.randomNormal([50, 40], 0, 1, 'float32', 8);
      expectClose(tf.matMul(wide, other, false, true), naiveMatMul(wide, other, false, true), 1e-4);
      expectClose(tf.matMul(wide, wide, true, false), naiveMatMul(wide, wide, true, false), 1e-4);
    });
  });

  it('gives tfjs autograd the right gradients (dA = dY B^T, dB = A^T dY)', () => {
    tf.tidy(() => {
      const a = tf.randomNormal([2, 3, 48, 40], 0, 1, 'float32', 9);
      const b = tf.randomNormal([2, 3, 36, 40], 0, 1, 'float32', 10);
      const w = tf.randomNormal([2, 3, 48, 36], 0, 1, 'float32', 11);
      const [da, db] = tf.grads((x, y) => tf.sum(tf.mul(tf.matMul(x, y, false, true), w)))([a, b]);
      expectClose(da!, naiveMatMul(w, b, false, false), 1e-3);
      expectClose(db!, naiveMatMul(w, a, true, false), 1e-3);
    });
  });

  it('frees its temporaries: buffers and the WebAssembly heap stay flat over repeated products', () => {
    const a = tf.randomNormal([8, 64, 48]);
    const b = tf.randomNormal([8, 64, 48]);
    const run = () => tf.tidy(() => tf.matMul(a, b, true, false).dataSync());
    run();
    const buffers = tf.memory().numDataBuffers;
    const heap = () => (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? 0;
    const before = heap();
    for (let i = 0; i < 200; i++) run();
    expect(tf.memory().numDataBuffers).toBe(buffers);
    expect(heap()).toBe(before);
    tf.dispose([a, b]);
  });
});
