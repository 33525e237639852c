import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { onnxAttr, type OnnxScope } from '../onnx/graph.js';
import { layerNorm } from '../ops/layer-norm.js';
import { Layer } from './layer.js';

/**
 * LayerNorm over the last axis. `eps` has no default on purpose: the references
 * differ (1e-6 in timm's ViT and CrossViT, 1e-5 in CSWin and pycls), and tfjs-layers'
 * 1e-3 would silently break parity. One custom-gradient op (ops/layer-norm.ts).
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
    return layerNorm(x, this.weight, this.bias, this.eps);
  }

  /** Opset 17's LayerNormalization over the last axis. */
  toOnnx(g: OnnxScope, x: string): string {
    return g.op('LayerNormalization', [x, g.parameter('weight', this.weight), g.parameter('bias', this.bias)], {
      axis: onnxAttr.int(-1),
      epsilon: onnxAttr.float(this.eps),
    });
  }

  static cost(dim: number): Cost {
    return { params: 2 * dim, macs: 0 };
  }
}
