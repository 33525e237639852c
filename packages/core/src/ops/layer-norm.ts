// LayerNorm over the last axis as one custom-gradient op. tfjs's autograd of
// moments/sub/rsqrt/mul/add records about a dozen tape nodes per call, each
// keeping its inputs and (until the backward pass ends) its output gradient.
// Here the forward runs with the tape off and saves only the normalised rows
// and 1/std per row; everything runs on x viewed as [rows, C], as rank-2
// elementwise and reduction kernels are the fast ones on WebAssembly.
import * as tf from '@tensorflow/tfjs-core';

const cache = new Map<number, (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor>();

function normalizeRows(eps: number): (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor {
  let f = cache.get(eps);
  if (!f) {
    f = tf.customGrad((x, weight, bias, save) => {
      const x2 = x as tf.Tensor2D;
      const gamma = weight as tf.Tensor1D;
      // Same operations as the plain composition, so the forward is bit-identical.
      const { mean, variance } = tf.moments(x2, -1, true);
      const rstd = tf.rsqrt(tf.add(variance, eps));
      const normed = tf.mul(tf.sub(x2, mean), rstd);
      (save as tf.GradSaveFunc)([normed, rstd, gamma]);
      return {
        value: tf.add(tf.mul(normed, gamma), bias as tf.Tensor1D),
        // tfjs runs a custom gradient in the scope of the whole backward pass: tidy, or its temporaries live until the end.
        gradFunc: (dy, saved) =>
          tf.tidy(() => {
            const [xhat, rs, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
            const d = dy as tf.Tensor2D;
            // dx = rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy gamma.
            const dxhat = tf.mul(d, g);
            const centred = tf.sub(dxhat, tf.mean(dxhat, -1, true));
            const dx = tf.mul(rs, tf.sub(centred, tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true))));
            return [dx, tf.sum(tf.mul(d, xhat), 0), tf.sum(d, 0)];
          }),
      };
    }) as (x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor) => tf.Tensor;
    cache.set(eps, f);
  }
  return f;
}

/** (x - mean) / sqrt(var + eps) * weight + bias over the last axis of x [..., C]; weight, bias [C]. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const c = x.shape[x.rank - 1]!;
  if (weight.shape[0] !== c || bias.shape[0] !== c) {
    throw new Error(`layerNorm: input has ${c} features, weight ${weight.shape[0]} and bias ${bias.shape[0]}`);
  }
  const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, c]);
  const y = normalizeRows(eps)(x2, weight, bias);
  return x.rank === 2 ? y : tf.reshape(y, x.shape);
}
