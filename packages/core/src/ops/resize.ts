// Image and grid resizing as PyTorch's F.interpolate computes it
// (align_corners=False; bicubic with a = -0.75 and border-clamped taps), done
// as two interpolation matrices so it is exact, differentiable and runs as 2-D
// matmuls on every backend.
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.js';

export type ResizeMode = 'bilinear' | 'bicubic';

const A = -0.75;
const cubicNear = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
const cubicFar = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;

/** [outSize, inSize] matrix M with resized = M @ signal, for one axis. */
export function interpolationMatrix(inSize: number, outSize: number, mode: ResizeMode): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  const clamp = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    if (mode === 'bilinear') {
      const s = Math.max(src, 0);
      const i0 = Math.floor(s);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const t = s - i0;
      m[o * inSize + clamp(i0)]! += 1 - t;
      m[o * inSize + i1]! += t;
    } else {
      const i0 = Math.floor(src);
      const t = src - i0;
      const weights = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
      for (let k = 0; k < 4; k++) m[o * inSize + clamp(i0 - 1 + k)]! += weights[k]!;
    }
  }
  return m;
}

/** Resizes an NHWC tensor to [outH, outW]; the identity when the size is unchanged. */
export function resize2d(x: tf.Tensor4D, outH: number, outW: number, mode: ResizeMode): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h === outH && w === outW) return x;
  return tf.tidy(() => {
    // Rows: [outH, H] @ [H, B*W*C]; then columns likewise, both as 2-D matmuls with fast gradients.
    const ry = tf.tensor2d(interpolationMatrix(h, outH, mode), [outH, h]);
    const rx = tf.tensor2d(interpolationMatrix(w, outW, mode), [outW, w]);
    const rows = dense(ry, tf.reshape(tf.transpose(x, [1, 0, 2, 3]), [h, b * w * c]));
    const byCol = tf.reshape(tf.transpose(tf.reshape(rows, [outH, b, w, c]), [2, 0, 1, 3]), [w, outH * b * c]);
    const cols = dense(rx, byCol);
    return tf.transpose(tf.reshape(cols, [outW, outH, b, c]), [2, 1, 0, 3]);
  });
}
