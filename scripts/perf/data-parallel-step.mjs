// Where a data-parallel training step goes: ViT-Ti at 32 px with patch 4,
// AdamW, two replicas (this thread and one worker), against one replica's half
// batch alone. Prints one JSON line (ms per step, means over the timed steps):
// the whole step, this thread's share inside it, that share alone, AdamW and
// publishing the weights; the rest of the step is waiting for the worker.
// Run after `npm run build`: node scripts/perf/data-parallel-step.mjs [BATCH] [STEPS]
import * as tf from '@tensorflow/tfjs-core';
import { createModel, createOptimizer, localGradients, trainStep } from '@vitkit/core';
import { DataParallel, initBackend } from '@vitkit/node';
import '@vitkit/vit';

await initBackend({ quiet: true });
const batchSize = Number(process.argv[2] ?? 64);
const steps = Number(process.argv[3] ?? 4);
const options = { imgSize: 32, patchSize: 4, numClasses: 10 };
const model = createModel('vit_tiny_patch16_224', options);
model.train();
const optimizer = createOptimizer('adamw', model, { weightDecay: 0.05 });
const parallel = await DataParallel.start(model, { model: 'vit_tiny_patch16_224', options, imports: ['@vitkit/vit'] }, 2);

const totals = {};
/** Wraps obj[key] (sync or async) so its time adds up under `name`. */
function timed(obj, key, name) {
  const f = obj[key].bind(obj);
  obj[key] = (...args) => {
    const start = performance.now();
    const add = (r) => ((totals[name] = (totals[name] ?? 0) + performance.now() - start), r);
    const r = f(...args);
    return r instanceof Promise ? r.then(add) : add(r);
  };
}
// `local` is DataParallel's private gradient function for this thread's share.
timed(parallel, 'local', 'this_share_ms');
timed(parallel, 'syncWeights', 'publish_weights_ms');
timed(optimizer, 'apply', 'adamw_ms');

const images = Float32Array.from({ length: batchSize * 32 * 32 * 3 }, (_, i) => Math.sin(i));
const labels = Int32Array.from({ length: batchSize }, (_, i) => i % 10);
const batch = { images, shape: [batchSize, 32, 32, 3], labels };
const half = { images: images.slice(0, (batchSize / 2) * 3072), shape: [batchSize / 2, 32, 32, 3], labels: labels.slice(0, batchSize / 2) };

for (let i = 0; i < 2; i++) await trainStep(parallel.gradients, optimizer, batch, { lr: 1e-4, step: i });
for (const k of Object.keys(totals)) delete totals[k];
let start = performance.now();
for (let i = 0; i < steps; i++) await trainStep(parallel.gradients, optimizer, batch, { lr: 1e-4, step: i });
const stepMs = (performance.now() - start) / steps;
const alone = localGradients(model);
start = performance.now();
for (let i = 0; i < steps; i++) tf.dispose([...(await alone(half, 0)).grads.values()]);
const aloneMs = (performance.now() - start) / steps;
const mean = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Math.round(v / steps)]));
console.log(JSON.stringify({ batch: batchSize, step_ms: Math.round(stepMs), ...mean, half_batch_alone_ms: Math.round(aloneMs) }));
await parallel.close();
