import * as tf from '@tensorflow/tfjs-core';
import type { OnnxScope } from '../onnx/graph.js';
import { geluExact } from '../ops/gelu.js';
import { Layer } from './layer.js';

/**
 * GELU: the exact erf form (every reference model here; one custom-gradient op
 * that saves only x) or the tanh approximation (plain autograd).
 */
export function gelu(x: tf.Tensor, approximate: 'none' | 'tanh' = 'none'): tf.Tensor {
  if (approximate === 'none') return geluExact(x);
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

export class GELU extends Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x, this.approximate);
  }

  toOnnx(g: OnnxScope, x: string): string {
    if (this.approximate !== 'none') g.fail(`GELU approximate '${this.approximate}' cannot be exported (only the exact erf form)`);
    return g.gelu(x);
  }
}

export class ReLU extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  toOnnx(g: OnnxScope, x: string): string {
    return g.op('Relu', [x]);
  }
}

export class Tanh extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }

  toOnnx(g: OnnxScope, x: string): string {
    return g.op('Tanh', [x]);
  }
}

export class Identity extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }

  toOnnx(_g: OnnxScope, x: string): string {
    return x;
  }
}
