import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { MIMETIC_VIT, MultiHeadSelfAttention, mimeticInit, seedInit } from '../src/index.js';

/** Mean of the diagonal and root-mean-square of the off-diagonal entries of a square matrix. */
function diagonalAndRest(m: tf.Tensor2D): { diag: number; offRms: number } {
  return tf.tidy(() => {
    const d = m.shape[0];
    const eye = tf.eye(d);
    const diag = tf.sum(tf.mul(m, eye)).dataSync()[0]! / d;
    const off = tf.mul(m, tf.sub(1, eye));
    const offRms = Math.sqrt(tf.sum(tf.square(off)).dataSync()[0]! / (d * d - d));
    return { diag, offRms };
  });
}

describe('mimeticInit', () => {
  it('starts W_q W_k^T near +beta I and W_v W_proj near -beta I, with noise of the asked scale', () => {
    seedInit(3);
    const d = 128;
    const attn = new MultiHeadSelfAttention(d, { numHeads: 4 });
    const before = tf.memory().numTensors;
    mimeticInit(attn);
    expect(tf.memory().numTensors).toBe(before);
    // Stored [in, out]: y = x W, so the bilinear form of q.k is W_q W_k^T in this layout.
    const [wq, wk, wv] = tf.split(attn.qkv.weight, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const qk = tf.matMul(wq, wk, false, true) as tf.Tensor2D;
    const vo = tf.matMul(wv, attn.proj.weight as tf.Tensor2D) as tf.Tensor2D;
    const a = diagonalAndRest(qk);
    const b = diagonalAndRest(vo);
    expect(a.diag).toBeCloseTo(MIMETIC_VIT.qkBeta + MIMETIC_VIT.qkAlpha / d, 1);
    expect(b.diag).toBeCloseTo(-MIMETIC_VIT.voBeta + MIMETIC_VIT.voAlpha / d, 1);
    // Off the diagonal only noise: small next to the identity, but present.
    expect(a.offRms).toBeGreaterThan(0.05);
    expect(a.offRms).toBeLessThan(0.3);
    expect(b.offRms).toBeGreaterThan(0.02);
    expect(b.offRms).toBeLessThan(0.2);
    tf.dispose([wq, wk, wv, qk, vo]);
    attn.dispose();
  });
});
