import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { copySlice } from '../src/wasm-kernels.js';

/** x[begin : begin + size] by index arithmetic, the reference for the slice kernels. */
function naiveSlice(data: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const total = size.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    let rest = n;
    let offset = 0;
    for (let i = size.length - 1; i >= 0; i--) {
      offset += (begin[i]! + (rest % size[i]!)) * strides[i]!;
      rest = Math.floor(rest / size[i]!);
    }
    out.push(data[offset]!);
  }
  return out;
}

describe('WebAssembly kernel replacements', () => {
  it('clone (the Identity kernel, run for every tensor saved for backward) shares data instead of copying', () => {
    expect(tf.getBackend()).toBe('wasm');
    const a = tf.tensor([1, 2, 3, 4]);
    const buffers = tf.memory().numDataBuffers;
    const b = tf.clone(a);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    // Disposing one keeps the other's data alive.
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    b.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);
  });

  it('keeps variables independent of the tensors they were assigned from', () => {
    const v = tf.variable(tf.tensor([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor([5, 6]));
    expect(Array.from(snapshot.dataSync())).toEqual([1, 2]);
    expect(Array.from(v.dataSync())).toEqual([5, 6]);
    tf.dispose([v, snapshot]);
  });

  it('slices and splits inside the heap, equal to index arithmetic for every rank and axis', () => {
    expect(tf.getBackend()).toBe('wasm');
    const shape = [3, 4, 5, 6];
    const data = Float32Array.from({ length: 360 }, (_, i) => i * 0.5 - 7);
    const x = tf.tensor(data, shape);
    const cases: [number[], number[]][] = [
      [
        [1, 0, 0, 0],
        [2, 4, 5, 6],
      ],
      [
        [0, 1, 0, 0],
        [3, 2, 5, 6],
      ],
      [
        [0, 0, 2, 0],
        [3, 4, 3, 6],
      ],
      [
        [0, 0, 0, 4],
        [3, 4, 5, 2],
      ],
      [
        [2, 3, 4, 5],
        [1, 1, 1, 1],
      ],
      [
        [1, 2, 1, 3],
        [2, 2, 3, 3],
      ],
    ];
    for (const [begin, size] of cases) {
      const got = tf.slice(x, begin, size);
      expect(got.shape).toEqual(size);
      expect(Array.from(got.dataSync()), `${begin} ${size}`).toEqual(naiveSlice(data, shape, begin, size));
      got.dispose();
    }
    for (const axis of [0, 1, 2, 3]) {
      const parts = tf.split(x, [1, shape[axis]! - 1], axis);
      const begin = [0, 0, 0, 0];
      for (const part of parts) {
        const size = part.shape;
        expect(Array.from(part.dataSync())).toEqual(naiveSlice(data, shape, begin, size));
        begin[axis]! += size[axis]!;
      }
      tf.dispose(parts);
    }
    const ints = tf.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      undefined,
      'int32',
    );
    const col = tf.slice(ints, [0, 1], [2, 1]);
    expect(col.dtype).toBe('int32');
    expect(Array.from(col.dataSync())).toEqual([2, 5]);
    tf.dispose([x, ints, col]);
  });

  it('copySlice handles rank 1 and a slice that is the whole tensor', () => {
    const src = Float32Array.from([0, 1, 2, 3, 4, 5]);
    const dst = new Float32Array(3);
    copySlice(src, [6], [2], [3], dst);
    expect(Array.from(dst)).toEqual([2, 3, 4]);
    const all = new Float32Array(6);
    copySlice(src, [2, 3], [0, 0], [2, 3], all);
    expect(Array.from(all)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
