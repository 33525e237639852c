import * as tf from '@tensorflow/tfjs-core';

/**
 * Scales the gradients so their global L2 norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_ (scale = maxNorm / (norm + 1e-6), capped at 1).
 * Returns the clipped gradients and the norm before clipping.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    const scale = tf.minimum(tf.div(maxNorm, tf.add(norm, 1e-6)), 1);
    return { grads: grads.map((g) => tf.mul(g, scale)), norm };
  });
}
