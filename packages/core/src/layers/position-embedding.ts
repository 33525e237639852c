import * as tf from '@tensorflow/tfjs-core';
import { type ResizeMode, resize2d } from '../ops/resize.js';

/**
 * Resamples a learned position embedding [1, prefix + gh*gw, C] to a new patch
 * grid, keeping the `prefix` tokens (class, distillation) aside, as timm does
 * when a model is loaded at another image size. Same grid in, same tensor out.
 */
export function resamplePositionEmbedding(
  posEmbed: tf.Tensor,
  oldGrid: [number, number],
  newGrid: [number, number],
  options: { prefixTokens?: number; mode?: ResizeMode } = {},
): tf.Tensor {
  const prefix = options.prefixTokens ?? 0;
  const [, n, c] = posEmbed.shape as [number, number, number];
  if (n !== prefix + oldGrid[0] * oldGrid[1]) {
    throw new Error(
      `position embedding has ${n} tokens, expected ${prefix} prefix + ${oldGrid[0]}x${oldGrid[1]} grid = ${prefix + oldGrid[0] * oldGrid[1]}`,
    );
  }
  return tf.tidy(() => {
    const head = tf.slice(posEmbed, [0, 0, 0], [1, prefix, c]);
    const grid = tf.reshape(tf.slice(posEmbed, [0, prefix, 0], [1, n - prefix, c]), [1, oldGrid[0], oldGrid[1], c]);
    const resized = resize2d(grid as tf.Tensor4D, newGrid[0], newGrid[1], options.mode ?? 'bicubic');
    return tf.concat([head, tf.reshape(resized, [1, newGrid[0] * newGrid[1], c])], 1);
  });
}

/** Prepends a learned token [1, 1, C] to every sequence of x [B, N, C]. */
export function prependToken(x: tf.Tensor, token: tf.Tensor): tf.Tensor {
  const [b, , c] = x.shape as number[];
  return tf.concat([tf.broadcastTo(token, [b!, 1, c!]), x], 1);
}
