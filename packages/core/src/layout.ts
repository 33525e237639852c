// PyTorch <-> TensorFlow.js tensor layouts. Checkpoints keep PyTorch's layouts
// on disk (so timm and official weights load by name); inside, tensors use the
// layouts tfjs kernels want. Every conversion in the project goes through here.
import * as tf from '@tensorflow/tfjs-core';

/**
 * How a parameter is laid out inside vitkit, relative to PyTorch.
 * - `plain`: identical (biases, norms, tokens, position embeddings).
 * - `linear`: tfjs `[in, out]` vs PyTorch `[out, in]`.
 * - `conv2d`: tfjs `[kh, kw, in/groups, out]` vs PyTorch `[out, in/groups, kh, kw]`.
 * - `depthwise`: tfjs `[kh, kw, channels, multiplier]` vs PyTorch `[channels*multiplier, 1, kh, kw]`.
 */
export type Layout = 'plain' | 'linear' | 'conv2d' | 'depthwise';

/** Shape a tensor of the given internal shape has in PyTorch. */
export function torchShape(shape: readonly number[], layout: Layout): number[] {
  switch (layout) {
    case 'plain':
      return [...shape];
    case 'linear':
      return [shape[1]!, shape[0]!];
    case 'conv2d':
      return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
    case 'depthwise':
      return [shape[2]! * shape[3]!, 1, shape[0]!, shape[1]!];
  }
}

/** Converts an internal tensor to PyTorch layout (a new tensor). */
export function toTorchLayout(t: tf.Tensor, layout: Layout): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'plain':
        return t.clone();
      case 'linear':
        return tf.transpose(t, [1, 0]);
      case 'conv2d':
        return tf.transpose(t, [3, 2, 0, 1]);
      case 'depthwise': {
        const [kh, kw, c, m] = t.shape as number[];
        // PyTorch groups output channels by input channel: out = c * m + j.
        return tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [c! * m!, 1, kh!, kw!]);
      }
    }
  });
}

/** Converts a PyTorch-layout tensor to the internal layout of `internalShape` (a new tensor). */
export function fromTorchLayout(t: tf.Tensor, layout: Layout, internalShape: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    switch (layout) {
      case 'plain':
        return t.clone();
      case 'linear':
        return tf.transpose(t, [1, 0]);
      case 'conv2d':
        return tf.transpose(t, [2, 3, 1, 0]);
      case 'depthwise': {
        const [kh, kw, c, m] = internalShape as number[];
        return tf.transpose(tf.reshape(t, [c!, m!, kh!, kw!]), [2, 3, 0, 1]);
      }
    }
  });
}
