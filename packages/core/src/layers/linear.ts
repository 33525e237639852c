import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { truncNormal, uniform } from '../init.js';
import { dense } from '../ops/dense.js';
import { type OnnxScope, readFloats } from '../onnx/graph.js';
import { Layer } from './layer.js';

export interface LinearOptions {
  bias?: boolean;
  /**
   * Initial values: 'trunc_normal' (weight std 0.02, zero bias: timm's ViT default), 'zeros'
   * (a fine-tuning head) or 'uniform' (PyTorch's own default: weight and bias U(+-1/sqrt(in))).
   */
  init?: 'trunc_normal' | 'zeros' | 'uniform';
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
    const init = options.init ?? 'trunc_normal';
    const bound = 1 / Math.sqrt(inFeatures);
    const w =
      init === 'zeros'
        ? tf.zeros([inFeatures, outFeatures])
        : init === 'uniform'
          ? uniform([inFeatures, outFeatures], bound)
          : truncNormal([inFeatures, outFeatures]);
    this.weight = this.addParameter('weight', w, 'linear');
    const bias = () => (init === 'uniform' ? uniform([outFeatures], bound) : tf.zeros([outFeatures]));
    this.bias = (options.bias ?? true) ? this.addParameter('bias', bias()) : null;
  }

  forward(x: tf.Tensor): tf.Tensor {
    return dense(x, this.weight, this.bias ?? undefined);
  }

  /** MatMul with the [in, out] weight as it is stored, then Add of the bias. */
  toOnnx(g: OnnxScope, x: string): string {
    return g.matmulAdd(x, '', readFloats(this.weight), [this.inFeatures, this.outFeatures], this.bias ? readFloats(this.bias) : null);
  }

  /** Cost on `tokens` input vectors. */
  static cost(inFeatures: number, outFeatures: number, tokens: number, bias = true): Cost {
    return { params: inFeatures * outFeatures + (bias ? outFeatures : 0), macs: tokens * inFeatures * outFeatures };
  }
}
