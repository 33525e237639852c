// y = x W + b on a 2-D x, with a hand-written gradient. tfjs's default matMul
// gradient uses the transposeA/transposeB flags, which tfjs-backend-wasm's own
// BatchMatMul runs as a scalar loop at 2-3 GFLOP/s; explicit transposes keep all
// three matmuls on its XNNPACK fast path (docs/webassembly-notes.md has the
// measurement). vitkit's replacement kernel (wasm-batch-matmul.ts) treats the
// flags the same way, so the transposes here cost what it would. The result
// is identical on every backend. The gradients are computed
// inside their own tidy: tfjs calls a custom gradient in the scope of the whole
// backward pass, so the transposes would otherwise live until it ends.
import * as tf from '@tensorflow/tfjs-core';

/**
 * dW = x^T dy, [in, out]. XNNPACK runs a [M, K] x [K, N] product faster with
 * M >= N (ViT-Ti's fc1 at batch 32: [768,2080]x[2080,192] 19 ms against
 * [192,2080]x[2080,768] 27 ms), so when out > in it computes (dy^T x)^T.
 */
function weightGradient(x: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  if (dy.shape[1] > x.shape[1]) return tf.transpose(tf.matMul(tf.transpose(dy), x));
  return tf.matMul(tf.transpose(x), dy);
}

const denseWithBias = tf.customGrad((x, w, b, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor2D, w as tf.Tensor2D]);
  const value = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b as tf.Tensor1D);
  return {
    value,
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return tf.tidy(() => [tf.matMul(g, tf.transpose(ws)), weightGradient(xs, g), tf.sum(g, 0)]);
    },
  };
});

const denseNoBias = tf.customGrad((x, w, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor2D, w as tf.Tensor2D]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return tf.tidy(() => [tf.matMul(g, tf.transpose(ws)), weightGradient(xs, g)]);
    },
  };
});

/** x: [..., in], w: [in, out], b: [out]. Leading dimensions are kept. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const inF = w.shape[0]!;
  const outF = w.shape[1]!;
  if (x.shape[x.rank - 1] !== inF) {
    throw new Error(`dense: input has ${x.shape[x.rank - 1]} features, weight expects ${inF}`);
  }
  const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, inF]);
  const y = b ? denseWithBias(x2, w, b) : denseNoBias(x2, w);
  return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outF]);
}
