import type * as tf from '@tensorflow/tfjs-core';
import type { OnnxScope } from '../onnx/graph.js';
import { Layer } from './layer.js';

/** Layers applied in order, named `0`, `1`, ... as torch.nn.Sequential (parameter-free ones keep their index). */
export class Sequential extends Layer {
  readonly layers: Layer[];

  constructor(layers: Layer[]) {
    super();
    this.layers = layers.map((l, i) => this.addModule(String(i), l));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.layers.reduce((h, l) => l.forward(h), x);
  }

  toOnnx(g: OnnxScope, x: string): string {
    return this.layers.reduce((h, l, i) => g.lower(String(i), l, h), x);
  }
}
