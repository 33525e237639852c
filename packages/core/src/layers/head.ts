import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { Identity } from './activations.js';
import { Layer } from './layer.js';
import type { OnnxScope } from '../onnx/graph.js';
import { Linear, type LinearOptions } from './linear.js';

export type GlobalPool = 'token' | 'avg';

/**
 * Pools tokens [B, N, C] to [B, C]: the class token (index 0), or the mean of
 * the tokens after the `prefixTokens` class/distillation tokens.
 */
export function poolTokens(x: tf.Tensor, pool: GlobalPool, prefixTokens = 1): tf.Tensor {
  const [b, n, c] = x.shape as [number, number, number];
  if (pool === 'token') return tf.reshape(tf.slice(x, [0, 0, 0], [b, 1, c]), [b, c]);
  return tf.mean(tf.slice(x, [0, prefixTokens, 0], [b, n - prefixTokens, c]), 1);
}

/** The ViT paper's representation layer before the head: Linear (`fc`) then tanh. */
export class PreLogits extends Layer {
  readonly fc: Linear;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.fc = this.addModule('fc', new Linear(inFeatures, outFeatures));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tanh(this.fc.forward(x));
  }

  toOnnx(g: OnnxScope, x: string): string {
    return g.op('Tanh', [g.lower('fc', this.fc, x)]);
  }

  static cost(inFeatures: number, outFeatures: number): Cost {
    return Linear.cost(inFeatures, outFeatures, 1);
  }
}

/**
 * A classifier head as timm's models build it: Linear(inFeatures, numClasses),
 * or an Identity for 0 classes, so the model then returns its pre-logits.
 * `resetClassifier` asks for init 'zeros': fine-tuning starts from uniform
 * predictions, as the ViT paper fine-tunes.
 */
export function classifierHead(inFeatures: number, numClasses: number, init: LinearOptions['init'] = 'trunc_normal'): Layer {
  if (!Number.isInteger(numClasses) || numClasses < 0) throw new Error(`numClasses must be a whole number >= 0 (got ${numClasses})`);
  return numClasses > 0 ? new Linear(inFeatures, numClasses, { init }) : new Identity();
}
