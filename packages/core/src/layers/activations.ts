import * as tf from '@tensorflow/tfjs-core';
import { Layer } from './layer.js';

/** GELU: the exact erf form (every reference model here) or the tanh approximation. */
export function gelu(x: tf.Tensor, approximate: 'none' | 'tanh' = 'none'): tf.Tensor {
  return tf.tidy(() => {
    if (approximate === 'tanh') {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
    }
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  });
}

export class GELU extends Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return gelu(x, this.approximate);
  }
}

export class ReLU extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }
}

export class Tanh extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tanh(x);
  }
}

export class Identity extends Layer {
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}
