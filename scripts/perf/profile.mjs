// Kernel-time profile of one model call on this thread (no replicas): wall
// time, then the kernels that took the most time, and with --detail NAME that
// kernel's calls grouped by shape. tf.profile also lists custom-gradient ops
// ("unnamed scope"), whose time includes the kernels they ran: it is counted twice.
// Run after `npm run build`:
//   node scripts/perf/profile.mjs MODEL infer|train BATCH ['{"imgSize":32,...}'] [--detail BatchMatMul]
import * as tf from '@tensorflow/tfjs-core';
import { createModel, localGradients } from '@vitkit/core';
import { initBackend } from '@vitkit/node';
import '@vitkit/vit';
import '@vitkit/hybrid-stem';
import '@vitkit/cswin';
import '@vitkit/crossvit';

const args = process.argv.slice(2);
const detailAt = args.indexOf('--detail');
const detail = detailAt >= 0 ? args.splice(detailAt, 2)[1] : null;
const [name, mode = 'infer', batchArg = '8', optionsJson] = args;
if (!name) throw new Error('usage: node scripts/perf/profile.mjs MODEL infer|train BATCH [OPTIONS_JSON] [--detail KERNEL]');
const info = await initBackend({ quiet: true });
const model = createModel(name, optionsJson ? JSON.parse(optionsJson) : {});
const b = Number(batchArg);
const [h, w] = model.imgSize;
let call;
if (mode === 'train') {
  model.train();
  const gradients = localGradients(model);
  const batch = {
    images: Float32Array.from({ length: b * h * w * 3 }, (_, i) => Math.sin(i)),
    shape: [b, h, w, 3],
    labels: Int32Array.from({ length: b }, (_, i) => i % model.numClasses),
  };
  call = async () => {
    const { grads } = await gradients(batch, 0);
    tf.dispose([...grads.values()]);
  };
} else {
  model.eval();
  const x = tf.randomNormal([b, h, w, 3]);
  call = async () => {
    const y = tf.tidy(() => model.forward(x));
    await y.data();
    y.dispose();
  };
}
await call();
await call();
const start = performance.now();
await call();
const wall = performance.now() - start;
const profile = await tf.profile(call);
const byKernel = new Map();
for (const k of profile.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += k.kernelTimeMs;
  e.calls++;
  byKernel.set(k.name, e);
}
const kernelMs = [...byKernel].filter(([k]) => k !== 'unnamed scope').reduce((a, [, e]) => a + e.ms, 0);
console.log(
  `${name} ${mode} batch ${b} on ${info.backend}: wall ${wall.toFixed(0)} ms (${((b / wall) * 1000).toFixed(2)} img/s), kernels ${kernelMs.toFixed(0)} ms in ${profile.kernels.length} calls`,
);
for (const [k, e] of [...byKernel].sort((a, c) => c[1].ms - a[1].ms).slice(0, 18)) {
  const share = k === 'unnamed scope' ? '  (overlaps)' : `${((100 * e.ms) / kernelMs).toFixed(1).padStart(5)}%`;
  console.log(`  ${k.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms ${share}  x${e.calls}`);
}
if (detail) {
  const groups = new Map();
  for (const k of profile.kernels.filter((k) => k.name === detail)) {
    const key = `${k.inputShapes.map((s) => JSON.stringify(s)).join(' ')} -> ${JSON.stringify(k.outputShapes)}`;
    const g = groups.get(key) ?? { ms: 0, calls: 0 };
    g.ms += k.kernelTimeMs;
    g.calls++;
    groups.set(key, g);
  }
  for (const [key, g] of [...groups].sort((a, c) => c[1].ms - a[1].ms).slice(0, 12))
    console.log(`    ${key} x${g.calls} ${g.ms.toFixed(1)} ms`);
}
