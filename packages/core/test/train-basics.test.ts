import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Accuracy, clipByGlobalNorm, constantLr, crossEntropy, topKCorrect, warmupCosine } from '../src/index.js';

describe('warmupCosine', () => {
  it('warms up linearly, then follows half a cosine to minLr', () => {
    const lr = warmupCosine({ baseLr: 1, totalSteps: 14, warmupSteps: 4, minLr: 0.1 });
    expect([0, 1, 2, 3].map(lr)).toEqual([0.25, 0.5, 0.75, 1]);
    // Cosine over the 10 remaining steps: p = (s - 4) / 10.
    expect(lr(4)).toBeCloseTo(1, 12);
    expect(lr(9)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(lr(6)).toBeCloseTo(0.1 + (0.9 * (1 + Math.cos(0.2 * Math.PI))) / 2, 12);
    expect(lr(14)).toBeCloseTo(0.1, 12);
    expect(constantLr(0.3)(100)).toBe(0.3);
  });
});

describe('crossEntropy', () => {
  it('matches -log softmax, with label smoothing as (1 - s) onehot + s / K', () => {
    const logits = tf.tensor2d([[2, 0, -1]]);
    const labels = tf.tensor1d([0], 'int32');
    const lse = Math.log(Math.exp(2) + 1 + Math.exp(-1));
    expect(crossEntropy(logits, labels).dataSync()[0]).toBeCloseTo(lse - 2, 5);
    const s = 0.3;
    const logp = [2 - lse, -lse, -1 - lse];
    const expected = -((1 - s + s / 3) * logp[0]! + (s / 3) * logp[1]! + (s / 3) * logp[2]!);
    expect(crossEntropy(logits, labels, s).dataSync()[0]).toBeCloseTo(expected, 5);
    const soft = tf.tensor2d([[0.5, 0.5, 0]]);
    expect(crossEntropy(logits, soft).dataSync()[0]).toBeCloseTo(-(0.5 * logp[0]! + 0.5 * logp[1]!), 5);
  });
});

describe('clipByGlobalNorm', () => {
  it('scales every gradient by maxNorm / norm when the norm is larger', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(grads[0]!.dataSync())).toEqual([expect.closeTo(0.6, 5), 0]);
    const small = clipByGlobalNorm(g, 10);
    expect(Array.from(small.grads[1]!.dataSync())).toEqual([0, expect.closeTo(4, 5)]);
  });
});

describe('top-k accuracy', () => {
  it('counts labels among the k largest logits', async () => {
    const logits = tf.tensor2d([
      [0.1, 0.9, 0.0],
      [0.5, 0.2, 0.3],
      [0.2, 0.3, 0.5],
    ]);
    expect(await topKCorrect(logits, [1, 2, 0], [1, 2])).toEqual([1, 2]);
    const acc = new Accuracy();
    await acc.update(logits, [1, 2, 0], 2);
    expect(acc.top1).toBeCloseTo(1 / 3);
    expect(acc.top5).toBe(1);
    expect(acc.loss).toBe(2);
  });
});
