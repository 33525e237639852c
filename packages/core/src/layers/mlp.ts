import type * as tf from '@tensorflow/tfjs-core';
import { type Cost, sumCosts } from '../complexity.js';
import { GELU } from './activations.js';
import { Dropout } from './dropout.js';
import { Layer } from './layer.js';
import { Linear } from './linear.js';
import type { OnnxScope } from '../onnx/graph.js';

/** fc1 -> GELU -> dropout -> fc2 -> dropout, as timm's Mlp. */
export class Mlp extends Layer {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private readonly act: GELU;
  private readonly drop1: Dropout;
  private readonly drop2: Dropout;

  constructor(inFeatures: number, hiddenFeatures: number, options: { outFeatures?: number; drop?: number } = {}) {
    super();
    this.fc1 = this.addModule('fc1', new Linear(inFeatures, hiddenFeatures));
    this.act = this.addModule('act', new GELU());
    this.drop1 = this.addModule('drop1', new Dropout(options.drop ?? 0));
    this.fc2 = this.addModule('fc2', new Linear(hiddenFeatures, options.outFeatures ?? inFeatures));
    this.drop2 = this.addModule('drop2', new Dropout(options.drop ?? 0));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.drop2.forward(this.fc2.forward(this.drop1.forward(this.act.forward(this.fc1.forward(x)))));
  }

  toOnnx(g: OnnxScope, x: string): string {
    return g.lower('fc2', this.fc2, g.lower('act', this.act, g.lower('fc1', this.fc1, x)));
  }

  static cost(inFeatures: number, hiddenFeatures: number, tokens: number, outFeatures = inFeatures): Cost {
    return sumCosts(Linear.cost(inFeatures, hiddenFeatures, tokens), Linear.cost(hiddenFeatures, outFeatures, tokens));
  }
}
