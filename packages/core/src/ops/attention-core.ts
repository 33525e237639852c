// softmax(q k^T * scale) v as one custom-gradient op. Through tfjs's autograd
// the scale, both products and the softmax are separate tape nodes, and
// tfjs-core keeps every node's output gradient (the [B, H, N, N] ones among
// them) until the backward pass ends. Here the forward runs with the tape off,
// saves q, k, v and the probabilities P, and the backward is written out:
//   dV = P^T dO,  dP = dO V^T,  dS = P (dP - rowsum(dP P)) scale,  dQ = dS K,  dK = dS^T Q.
// The products are tf.matMul with transpose flags: on WebAssembly vitkit's
// BatchMatMul kernel (wasm-batch-matmul.ts) runs them on XNNPACK.
import * as tf from '@tensorflow/tfjs-core';

/**
 * q [..., M, D], k and v [..., N, D] (same leading dims) -> [..., M, D]. With
 * `keepProbabilities`, also returns P [..., M, N] (a tensor of the caller's scope).
 */
export function attentionCore(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  scale: number,
  keepProbabilities = false,
): { out: tf.Tensor; probabilities?: tf.Tensor } {
  // customGrad returns one tensor, so the probabilities leave the forward's tidy as a kept tensor.
  const capture: { probabilities?: tf.Tensor } = {};
  const op = tf.customGrad((qi, ki, vi, save) => {
    const [qt, kt, vt] = [qi as tf.Tensor, ki as tf.Tensor, vi as tf.Tensor];
    // The same operations as the plain composition, so the forward is bit-identical.
    const p = tf.softmax(tf.matMul(tf.mul(qt, scale), kt, false, true), -1);
    (save as tf.GradSaveFunc)([qt, kt, vt, p]);
    if (keepProbabilities) capture.probabilities = tf.keep(p);
    return {
      value: tf.matMul(p, vt),
      // tfjs runs a custom gradient in the scope of the whole backward pass: tidy, or its temporaries live until the end.
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [qs, ks, vs, ps] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
          const dOut = dy as tf.Tensor;
          const dv = tf.matMul(ps, dOut, true, false);
          const dp = tf.matMul(dOut, vs, false, true);
          const ds = tf.mul(tf.mul(ps, tf.sub(dp, tf.sum(tf.mul(dp, ps), -1, true))), scale);
          return [tf.matMul(ds, ks), tf.matMul(ds, qs, true, false), dv];
        }),
    };
  }) as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor;
  const out = op(q, k, v);
  if (!capture.probabilities) return { out };
  const probabilities = tf.clone(capture.probabilities);
  capture.probabilities.dispose();
  return { out, probabilities };
}
