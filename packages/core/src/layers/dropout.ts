import * as tf from '@tensorflow/tfjs-core';
import type { OnnxScope } from '../onnx/graph.js';
import { dropRng } from '../random.js';
import { Layer } from './layer.js';

/** Element-wise dropout, active only in training. */
export class Dropout extends Layer {
  constructor(readonly rate: number) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, dropRng.nextSeed());
  }

  /** An exported graph is for inference, where dropout is the identity. */
  toOnnx(_g: OnnxScope, x: string): string {
    return x;
  }
}

/**
 * Stochastic depth (Huang et al. 2016): drops a sample's whole residual branch
 * with probability `rate` and rescales the kept ones, as timm's DropPath.
 */
export class DropPath extends Layer {
  constructor(readonly rate: number) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training || this.rate === 0) return x;
    return tf.tidy(() => {
      const keep = 1 - this.rate;
      const maskShape = [x.shape[0]!, ...x.shape.slice(1).map(() => 1)];
      const mask = tf.floor(tf.add(keep, tf.randomUniform(maskShape, 0, 1, 'float32', dropRng.nextSeed())));
      return tf.mul(x, tf.div(mask, keep));
    });
  }

  /** The identity at inference. */
  toOnnx(_g: OnnxScope, x: string): string {
    return x;
  }
}
