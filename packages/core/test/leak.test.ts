import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BatchNorm2d, Conv2d, Layer, Linear, TransformerBlock } from '../src/index.js';

/** Conv stem (pad 1 and a stride-2 depthwise) + BatchNorm, tokens through a block with dropout and DropPath, a head. */
class TinyStack extends Layer {
  readonly conv = this.addModule('conv', new Conv2d(3, 8, 3, { padding: 1 }));
  readonly bn = this.addModule('bn', new BatchNorm2d(8));
  readonly dw = this.addModule('dw', new Conv2d(8, 16, 3, { stride: 2, padding: 1, groups: 8 }));
  readonly block = this.addModule('block', new TransformerBlock(16, { numHeads: 2, drop: 0.1, dropPath: 0.2, eps: 1e-6 }));
  readonly head = this.addModule('head', new Linear(16, 4));

  forward(x: tf.Tensor): tf.Tensor {
    const features = this.dw.forward(tf.relu(this.bn.forward(this.conv.forward(x))));
    const [b, h, w, c] = features.shape as number[];
    const tokens = this.block.forward(tf.reshape(features, [b!, h! * w!, c!]));
    return this.head.forward(tf.mean(tokens, 1));
  }
}

describe('memory over repeated training steps', () => {
  it('the tensor count and bytes stay flat (forward, backward, SGD update, attention capture)', () => {
    const model = new TinyStack();
    model.block.attn.captureAttention = true;
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1);
    const labels = tf.oneHot(tf.tensor1d([0, 3], 'int32'), 4);
    const params = model.parameters();
    const losses: number[] = [];
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x)) as tf.Scalar, params);
        for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, 0.1)));
        losses.push(value.dataSync()[0]!);
      });
    try {
      model.train();
      step();
      const before = tf.memory();
      for (let i = 0; i < 5; i++) step();
      const after = tf.memory();
      expect(after.numTensors).toBe(before.numTensors);
      expect(after.numBytes).toBe(before.numBytes);
      // The steps did train: every loss finite, running statistics moved.
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(model.bn.numBatchesTracked.dataSync()[0]).toBe(6);

      model.eval();
      const evalBefore = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(() => model.forward(x)));
      expect(tf.memory().numTensors).toBe(evalBefore);
    } finally {
      tf.dispose([x, labels]);
      model.dispose();
    }
  });
});
