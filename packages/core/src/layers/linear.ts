import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { truncNormal } from '../init.js';
import { dense } from '../ops/dense.js';
import { Layer } from './layer.js';

export interface LinearOptions {
  bias?: boolean;
  /** Initial weight: 'trunc_normal' (std 0.02, timm's ViT default) or 'zeros' (a fine-tuning head). */
  init?: 'trunc_normal' | 'zeros';
}

/** y = x W^T + b over the last axis, as torch.nn.Linear (weights stored [in, out]). */
export class Linear extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const w = options.init === 'zeros' ? tf.zeros([inFeatures, outFeatures]) : truncNormal([inFeatures, outFeatures]);
    this.weight = this.addParameter('weight', w, 'linear');
    this.bias = (options.bias ?? true) ? this.addParameter('bias', tf.zeros([outFeatures])) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return dense(x, this.weight, this.bias ?? undefined);
  }

  /** Cost on `tokens` input vectors. */
  static cost(inFeatures: number, outFeatures: number, tokens: number, bias = true): Cost {
    return { params: inFeatures * outFeatures + (bias ? outFeatures : 0), macs: tokens * inFeatures * outFeatures };
  }
}
