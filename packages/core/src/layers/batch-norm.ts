import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { Layer } from './layer.js';
import { onnxAttr, type OnnxScope } from '../onnx/graph.js';

/**
 * torch.nn.BatchNorm2d on NHWC tensors. Training normalises with the batch's
 * statistics and updates the running ones as PyTorch does (momentum 0.1,
 * unbiased variance for the running estimate); evaluation uses the running ones.
 */
export class BatchNorm2d extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;

  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    super();
    this.weight = this.addParameter('weight', tf.ones([channels]));
    this.bias = this.addParameter('bias', tf.zeros([channels]));
    this.runningMean = this.addBuffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.addBuffer('running_var', tf.ones([channels]));
    this.numBatchesTracked = this.addBuffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  forward(x: tf.Tensor): tf.Tensor {
    if (!this.training) {
      return tf.tidy(() => this.normalize(x, this.runningMean, this.runningVar));
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const n = x.size / this.channels;
    // The running estimate is a side effect outside the gradient tape.
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, n / Math.max(n - 1, 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
    return this.normalize(x, mean, variance);
  }

  private normalize(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): tf.Tensor {
    const scale = tf.mul(this.weight, tf.rsqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(tf.sub(x, mean), scale), this.bias);
  }

  /** BatchNormalization with the running statistics, on NCHW (ONNX Runtime folds it into a preceding Conv). */
  toOnnx(g: OnnxScope, x: string): string {
    const inputs = [this.weight, this.bias, this.runningMean, this.runningVar].map((t, i) =>
      g.parameter(['weight', 'bias', 'running_mean', 'running_var'][i]!, t),
    );
    return g.op('BatchNormalization', [x, ...inputs], { epsilon: onnxAttr.float(this.eps) });
  }

  static cost(channels: number): Cost {
    return { params: 2 * channels, macs: 0 };
  }
}
