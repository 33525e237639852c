// Exact (erf) GELU as one custom-gradient op. tfjs's autograd of the
// composition 0.5 x (1 + erf(x / sqrt 2)) records five tape nodes, keeps their
// saved inputs and, until the backward pass ends, every node's output gradient
// (tfjs-core never frees them early): on ViT-Ti's [B*N, 4C] MLP hidden layer
// that is several activation-sized tensors per block. Here the forward runs
// with the tape off and only x is saved; the backward recomputes Phi and phi.
import * as tf from '@tensorflow/tfjs-core';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Phi(x) = 0.5 (1 + erf(x / sqrt 2)), the standard normal CDF. */
function normalCdf(x: tf.Tensor): tf.Tensor {
  return tf.mul(0.5, tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

const geluErf = tf.customGrad((x, save) => {
  const xt = x as tf.Tensor;
  (save as tf.GradSaveFunc)([xt]);
  // Same operation order as before the fusion, so the forward is bit-identical.
  const value = tf.mul(tf.mul(0.5, xt), tf.add(1, tf.erf(tf.mul(xt, Math.SQRT1_2))));
  return {
    value,
    // tfjs runs a custom gradient in the scope of the whole backward pass: tidy, or its temporaries live until the end.
    gradFunc: (dy, saved) =>
      tf.tidy(() => {
        const [xs] = saved as [tf.Tensor];
        // d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
        const density = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
        return tf.mul(dy as tf.Tensor, tf.add(normalCdf(xs), tf.mul(xs, density)));
      }),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** x Phi(x) elementwise, with a gradient that saves only x. */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return geluErf(x);
}
