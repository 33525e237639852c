import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

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
});
