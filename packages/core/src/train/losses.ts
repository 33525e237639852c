import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean cross-entropy of logits [B, K] against integer labels [B] or soft
 * targets [B, K] (mixup/cutmix). Label smoothing applies to integer labels:
 * the target becomes (1 - s) * onehot + s / K, as timm's
 * LabelSmoothingCrossEntropy; soft targets arrive already smoothed.
 */
export function crossEntropy(logits: tf.Tensor, target: tf.Tensor, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const k = logits.shape[1]!;
    let t: tf.Tensor;
    if (target.rank === 1) {
      // The WebAssembly OneHot kernel ignores a float dtype, so build the int one-hot and scale it.
      const hot = tf.cast(tf.oneHot(tf.cast(target, 'int32'), k), 'float32');
      t = labelSmoothing ? tf.add(tf.mul(hot, 1 - labelSmoothing), labelSmoothing / k) : hot;
    } else {
      t = target;
    }
    return tf.neg(tf.mean(tf.sum(tf.mul(t, tf.logSoftmax(logits, -1)), -1))) as tf.Scalar;
  });
}
