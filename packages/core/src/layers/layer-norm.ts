import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { Layer } from './layer.js';

/**
 * LayerNorm over the last axis. `eps` has no default on purpose: the references
 * differ (1e-6 in timm's ViT and CrossViT, 1e-5 in CSWin and pycls), and tfjs-layers'
 * 1e-3 would silently break parity.
 */
export class LayerNorm extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps: number,
  ) {
    super();
    this.weight = this.addParameter('weight', tf.ones([dim]));
    this.bias = this.addParameter('bias', tf.zeros([dim]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }

  static cost(dim: number): Cost {
    return { params: 2 * dim, macs: 0 };
  }
}
