// Real WebAssembly heap after one training step (forward + backward) of ViT-Ti
// at 32 px, patch 4, with tfjs's copying Identity kernel ('copy') or vitkit's
// data-sharing one ('share'). tf.memory() counts shared data once per tensor,
// so the heap's own size is the honest number. Run after `npm run build`:
//   node scripts/perf/train-step-heap.mjs copy 32; node scripts/perf/train-step-heap.mjs share 32
// (one process each: the heap only grows).
import * as tf from '@tensorflow/tfjs-core';
import { createModel, localGradients } from '@vitkit/core';
import { initBackend } from '@vitkit/node';
import '@vitkit/vit';

const [mode = 'share', batchArg = '16'] = process.argv.slice(2);
const info = await initBackend({ quiet: true });
if (info.backend !== 'wasm') throw new Error(`needs the WebAssembly backend, got ${info.backend}`);
if (mode === 'copy') {
  // tfjs-backend-wasm's own Identity: a new buffer and a copy.
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const out = backend.makeOutput(inputs.x.shape, inputs.x.dtype);
      backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(inputs.x));
      return out;
    },
  });
}
const b = Number(batchArg);
const model = createModel('vit_tiny_patch16_224', { imgSize: 32, patchSize: 4, numClasses: 10 });
model.train();
const batch = {
  images: Float32Array.from({ length: b * 32 * 32 * 3 }, (_, i) => Math.sin(i)),
  shape: [b, 32, 32, 3],
  labels: Int32Array.from({ length: b }, (_, i) => i % 10),
};
const start = performance.now();
const { grads } = await localGradients(model)(batch, 0);
tf.dispose([...grads.values()]);
const heap = tf.backend().wasm.HEAPU8.buffer.byteLength;
console.log(
  JSON.stringify({ identity: mode, batch: b, heap_mib: Math.round(heap / 2 ** 20), step_ms: Math.round(performance.now() - start) }),
);
