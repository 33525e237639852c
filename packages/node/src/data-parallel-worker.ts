// One data-parallel replica (see data-parallel.ts): builds the model, then for
// every share loads the shared weights when they changed and either computes
// the share's gradients into its shared gradient buffer or returns its logits.
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { dropRng, createModel, localGradients } from '@vitkit/core';
import { initBackend, wasmHeapBytes } from './backend.js';
import type { WorkerForward, WorkerInit, WorkerReply, WorkerStep } from './data-parallel.js';
import './gradients.js';

const port = parentPort!;
const send = (m: WorkerReply) => port.postMessage(m);

port.once('message', async (init: WorkerInit) => {
  try {
    await initBackend({ quiet: true });
    for (const m of init.spec.imports) await import(m);
    const model = createModel(init.spec.model, init.spec.options);
    model.train();
    const byName = new Map([...model.namedParameters(), ...model.namedBuffers()]);
    const weights = new Float32Array(init.weights);
    const grads = new Float32Array(init.grads);
    const gradientFn = localGradients(model);
    let loadedVersion = -1;
    const loadWeights = (version: number) => {
      if (version === loadedVersion) return;
      for (const [name, offset, size] of init.layout) {
        const v = byName.get(name)!;
        // Buffers keep their dtype (BatchNorm's num_batches_tracked is int32).
        tf.tidy(() => v.assign(tf.tensor(weights.subarray(offset, offset + size), v.shape, v.dtype)));
      }
      loadedVersion = version;
    };
    port.on('message', async (step: WorkerStep | WorkerForward) => {
      try {
        loadWeights(step.weightsVersion);
        if (step.kind === 'forward') {
          model.eval();
          const y = tf.tidy(() => model.forward(tf.tensor4d(step.images, step.shape)));
          const logits = ((await y.data()) as Float32Array).slice();
          const shape = y.shape;
          y.dispose();
          model.train();
          port.postMessage({ logits, shape, heapBytes: wasmHeapBytes() } satisfies WorkerReply, [logits.buffer]);
          return;
        }
        dropRng.setState(step.dropRngState);
        const { loss, grads: g } = await gradientFn(step.batch, step.labelSmoothing);
        for (const [name, offset] of init.layout) {
          const t = g.get(name);
          if (t) grads.set((await t.data()) as Float32Array, offset);
        }
        tf.dispose([...g.values()]);
        send({ loss, heapBytes: wasmHeapBytes() });
      } catch (e) {
        send({ error: (e as Error).stack ?? String(e) });
      }
    });
    send({ ready: true });
  } catch (e) {
    send({ error: (e as Error).stack ?? String(e) });
  }
});
