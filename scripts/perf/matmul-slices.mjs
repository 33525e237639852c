// Batched matmul on WebAssembly by slice size: tfjs's own BatchMatMul kernel
// (a scalar loop for any batch > 1) against vitkit's replacement with no
// threshold (one XNNPACK call per slice, through views into the heap). It sets
// MIN_SLICE_MACS in core/src/wasm-batch-matmul.ts. Run after `npm run build`:
//   node scripts/perf/matmul-slices.mjs
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '@vitkit/node';
import { batchMatMulBySlices } from '../../packages/core/dist/wasm-batch-matmul.js';

// The backend's own kernel, taken before initBackend replaces it.
const own = tf.getKernel('BatchMatMul', 'wasm').kernelFunc;
const info = await initBackend({ quiet: true });
if (info.backend !== 'wasm') throw new Error(`needs the WebAssembly backend, got ${info.backend}`);
const sliced = batchMatMulBySlices(own, 0);
const backend = tf.backend();
const slices = 96;

function msPerCall(kernel, a, b) {
  const call = () => backend.disposeData(kernel({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }).dataId);
  for (let i = 0; i < 3; i++) call();
  const start = performance.now();
  for (let i = 0; i < 20; i++) call();
  return (performance.now() - start) / 20;
}

for (const [m, k, n] of [
  [17, 32, 17],
  [20, 32, 20],
  [24, 32, 24],
  [30, 30, 30],
  [40, 40, 40],
  [65, 64, 65],
]) {
  const a = tf.randomNormal([slices, m, k]);
  const b = tf.randomNormal([slices, k, n]);
  const loop = msPerCall(own, a, b);
  const xnn = msPerCall(sliced, a, b);
  console.log(
    `${slices} x ${m}x${k}x${n} (${m * k * n} MACs a slice): scalar loop ${loop.toFixed(2)} ms, per-slice XNNPACK ${xnn.toFixed(2)} ms`,
  );
  tf.dispose([a, b]);
}
