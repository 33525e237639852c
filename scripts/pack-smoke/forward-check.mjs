// Runs inside the fresh project that installed the packed tarballs: proves the
// published packages work without workspace links. For one small model of each
// family it checks registration, a forward pass on WebAssembly, the logits'
// shape and a safetensors round trip (save, load into a fresh model, same logits).
import * as tf from '@tensorflow/tfjs-core';
import { createModel, decodeSafetensors, encodeSafetensors, getModelEntry, listModels } from '@vitkit/core';
import { initBackend } from '@vitkit/node';
import '@vitkit/vit';
import '@vitkit/hybrid-stem';
import '@vitkit/cswin';
import '@vitkit/crossvit';

const MODELS = ['vit_micro_32', 'vitc_micro_32', 'cswin_micro_32', 'crossvit_micro_32'];
const BATCH = 2;

// @vitkit/node picks the backend; forcing wasm keeps the check the same on a
// machine where tfjs-node happens to install.
const info = await initBackend({ backend: 'wasm', quiet: true });
// tfjs-core is a peer dependency: the project's copy and the packages' copy
// must be one instance, or the backend set above would not be the one used here.
if (tf.getBackend() !== 'wasm')
  throw new Error(`backend is '${tf.getBackend()}' after initBackend({backend:'wasm'}); is tfjs-core installed twice?`);

const registered = new Set(listModels());
const results = [];
let failed = 0;
for (const name of MODELS) {
  const start = performance.now();
  try {
    if (!registered.has(name)) throw new Error(`not registered (importing its package should register it)`);
    const { imgSize, inChannels, numClasses } = getModelEntry(name).defaults;
    const model = createModel(name);
    model.eval();
    const x = tf.randomUniform([BATCH, imgSize, imgSize, inChannels], -1, 1, 'float32', 7);
    const logits = tf.tidy(() => model.forward(x));
    const shape = logits.shape.join('x');
    if (shape !== `${BATCH}x${numClasses}`) throw new Error(`logits shape ${shape}, expected ${BATCH}x${numClasses}`);
    const values = await logits.data();
    if (!values.every(Number.isFinite)) throw new Error('logits are not all finite');

    // stateDict() hands over PyTorch-layout copies: the caller disposes them.
    const saved = model.stateDict();
    const bytes = await encodeSafetensors(saved);
    tf.dispose(Object.values(saved));
    const reloaded = createModel(name);
    reloaded.eval();
    const stateDict = decodeSafetensors(bytes);
    reloaded.loadStateDict(stateDict, { strict: true });
    tf.dispose(Object.values(stateDict));
    const again = tf.tidy(() => reloaded.forward(x));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(again, logits))).dataSync()[0]);
    if (diff > 1e-5) throw new Error(`logits after a safetensors round trip differ by ${diff}`);

    tf.dispose([x, logits, again]);
    model.dispose();
    reloaded.dispose();
    results.push(`ok   ${name}: logits ${shape}, ${bytes.length} checkpoint bytes, ${Math.round(performance.now() - start)} ms`);
  } catch (e) {
    failed++;
    results.push(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
  }
}

console.log(`backend ${info.backend} (${info.provider}), ${registered.size} models registered`);
for (const line of results) console.log(line);
process.exitCode = failed ? 1 : 0;
