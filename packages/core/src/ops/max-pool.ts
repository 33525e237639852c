// Max pooling with PyTorch's semantics and a gradient every backend runs.
// Padding is -inf, so it never wins a window (PyTorch's MaxPool2d padding, and
// TensorFlow's "SAME" pooling). The WebAssembly backend's MaxPoolGrad kernel
// sends the gradient to the wrong elements when there is more than one
// channel, so the backward pass is written here with the strided windows of
// the convolution gradients: each output's gradient goes to the first maximum
// of its window in row-major order, the element PyTorch's max_pool2d picks.
import * as tf from '@tensorflow/tfjs-core';
import { type Pair, scatterWindow, stridedWindow } from './conv.js';

/** Padding of an NHWC map's H and W, each side on its own: [[top, bottom], [left, right]]. */
export type SidePadding = [Pair, Pair];

function padWithMinusInfinity(x: tf.Tensor4D, [[top, bottom], [left, right]]: SidePadding): tf.Tensor4D {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return tf.pad(
    x,
    [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
    Number.NEGATIVE_INFINITY,
  );
}

const maxPoolOp = (kernel: Pair, stride: Pair, padding: SidePadding) =>
  tf.customGrad((x, save) => {
    const xi = x as tf.Tensor4D;
    const value = tf.maxPool(padWithMinusInfinity(xi, padding), kernel, stride, 'valid');
    (save as tf.GradSaveFunc)([xi, value]);
    return {
      value,
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
          const g = dy as tf.Tensor4D;
          const padded = padWithMinusInfinity(xs, padding);
          const [b, h, w, c] = xs.shape;
          const [, hp, wp] = padded.shape;
          const [, outH, outW] = ys.shape;
          // 1 where an earlier tap of the window already holds the maximum.
          let taken: tf.Tensor = tf.zerosLike(ys);
          let dx: tf.Tensor4D | null = null;
          for (let i = 0; i < kernel[0]; i++) {
            for (let j = 0; j < kernel[1]; j++) {
              const hit = tf.mul(tf.cast(tf.equal(stridedWindow(padded, i, j, stride, outH, outW), ys), 'float32'), tf.sub(1, taken));
              taken = tf.add(taken, hit);
              const placed = scatterWindow(tf.mul(hit, g) as tf.Tensor4D, i, j, stride, hp, wp);
              dx = dx ? tf.add(dx, placed) : placed;
            }
          }
          return tf.slice(dx!, [0, padding[0][0], padding[1][0], 0], [b, h, w, c]);
        }),
    };
  });

const cache = new Map<string, ReturnType<typeof maxPoolOp>>();

/**
 * Max pooling of an NHWC map over kernel windows at `stride`, after padding
 * each side by `padding` with -inf (symmetric for PyTorch's MaxPool2d, or
 * asymmetric for TensorFlow's "SAME").
 */
export function maxPool2d(x: tf.Tensor4D, kernel: Pair, stride: Pair, padding: SidePadding): tf.Tensor4D {
  const key = `${kernel}:${stride}:${padding.flat()}`;
  let op = cache.get(key);
  if (!op) {
    op = maxPoolOp(kernel, stride, padding);
    cache.set(key, op);
  }
  return op(x) as tf.Tensor4D;
}
