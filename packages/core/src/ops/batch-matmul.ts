// Batched matmul [..., M, K] x [..., K, N] that is fast on the WebAssembly
// backend. There, tfjs's BatchMatMul runs a scalar loop at 2-3 GFLOP/s for any
// batch > 1 or transpose flag, while a plain 2-D matMul takes XNNPACK's path
// (15-30 GFLOP/s); and its Slice/Split kernels cost ~1 ms per small slice. So
// on WebAssembly the batch is split in JavaScript (one copy out of the heap),
// each slice multiplied as a 2-D matMul, and the results stacked: attention's
// QK^T for ViT-S/16 at batch 8 (48 x 197x64x197) went from 98 ms to 26 ms.
// Each 2-D matMul costs ~0.07 ms of overhead, so tiny slices (CrossViT's
// 17x32x17) stay on tf.matMul: measured crossover near 40 K MACs a slice.
// Other backends keep tf.matMul. The gradient uses the same routine.
import * as tf from '@tensorflow/tfjs-core';

/** Below this many multiply-accumulates per slice, the batched kernel's scalar loop is faster. */
const MIN_SPLIT_MACS = 40_000;

function splitBatch(x: tf.Tensor, batch: number, rows: number, cols: number, transpose: boolean): tf.Tensor2D[] {
  const data = x.dataSync() as Float32Array;
  const size = rows * cols;
  const out: tf.Tensor2D[] = [];
  for (let i = 0; i < batch; i++) {
    const slice = tf.tensor2d(data.subarray(i * size, (i + 1) * size), [rows, cols]);
    out.push(transpose ? tf.transpose(slice) : slice);
  }
  return out;
}

/**
 * a: [..., M, K] (or [..., K, M] with transposeA), b: [..., K, N] (or [..., N, K]); same leading dims.
 * Not differentiable: for use inside custom gradients (forward and backward).
 */
export function rawBatchMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  const [ar0, ac0] = a.shape.slice(-2) as [number, number];
  const n0 = transposeB ? b.shape[b.rank - 2]! : b.shape[b.rank - 1]!;
  const slowKernelFaster = ar0 * ac0 * n0 < MIN_SPLIT_MACS;
  if (tf.getBackend() !== 'wasm' || a.rank < 3 || slowKernelFaster) return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => {
    const lead = a.shape.slice(0, -2);
    const batch = lead.reduce((p, d) => p * d, 1);
    const [ar, ac] = a.shape.slice(-2) as [number, number];
    const [br, bc] = b.shape.slice(-2) as [number, number];
    const as = splitBatch(a, batch, ar, ac, transposeA);
    const bs = splitBatch(b, batch, br, bc, transposeB);
    const outs = as.map((ai, i) => tf.matMul(ai, bs[i]!));
    const m = transposeA ? ac : ar;
    const n = transposeB ? br : bc;
    return tf.reshape(tf.stack(outs), [...lead, m, n]);
  });
}

const cache = new Map<string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor>();

function differentiable(transposeB: boolean): (a: tf.Tensor, b: tf.Tensor) => tf.Tensor {
  const key = String(transposeB);
  let f = cache.get(key);
  if (!f) {
    f = tf.customGrad((a, b, save) => {
      const at = a as tf.Tensor;
      const bt = b as tf.Tensor;
      (save as tf.GradSaveFunc)([at, bt]);
      return {
        value: rawBatchMatMul(at, bt, false, transposeB),
        gradFunc: (dy, saved) => {
          const [as, bs] = saved as [tf.Tensor, tf.Tensor];
          const g = dy as tf.Tensor;
          // C = A B:   dA = dC B^T, dB = A^T dC.   C = A B^T:  dA = dC B, dB = dC^T A.
          return transposeB
            ? [rawBatchMatMul(g, bs, false, false), rawBatchMatMul(g, as, true, false)]
            : [rawBatchMatMul(g, bs, false, true), rawBatchMatMul(as, g, true, false)];
        },
      };
    }) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
    cache.set(key, f);
  }
  return f;
}

/** a [..., M, K] x b [..., K, N] (or b [..., N, K] with transposeB) -> [..., M, N]. */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
  return differentiable(transposeB)(a, b);
}
