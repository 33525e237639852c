// Exact (erf) GELU as one custom-gradient op. tfjs's autograd of the
// composition 0.5 x (1 + erf(x / sqrt 2)) records five tape nodes, keeps their
// saved inputs and, until the backward pass ends, every node's output gradient
// (tfjs-core never frees them early): on ViT-Ti's [B*N, 4C] MLP hidden layer
// that is several activation-sized tensors per block. Here the forward runs
// with the tape off and saves x and erf(x / sqrt 2), so the backward needs no
// second erf (Erf is one of the costlier kernels on WebAssembly); it computes phi.
import * as tf from '@tensorflow/tfjs-core';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const geluErf = tf.customGrad((x, save) => {
  const xt = x as tf.Tensor;
  const e = tf.erf(tf.mul(xt, Math.SQRT1_2));
  (save as tf.GradSaveFunc)([xt, e]);
  // Same operation order as before the fusion, so the forward is bit-identical.
  const value = tf.mul(tf.mul(0.5, xt), tf.add(1, e));
  return {
    value,
    // tfjs runs a custom gradient in the scope of the whole backward pass: tidy, or its temporaries live until the end.
    gradFunc: (dy, saved) =>
      tf.tidy(() => {
        const [xs, es] = saved as [tf.Tensor, tf.Tensor];
        // d/dx x Phi(x) = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
        const density = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
        return tf.mul(dy as tf.Tensor, tf.add(tf.mul(0.5, tf.add(1, es)), tf.mul(xs, density)));
      }),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** x Phi(x) elementwise, with a gradient that saves x and erf(x / sqrt 2). */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return geluErf(x);
}
