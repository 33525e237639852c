// What a web page would import: the model packages through their main entries
// only (never @vitkit/node). run.mjs bundles this with esbuild for the
// browser and fails if a Node built-in is pulled in, or if the bundler dropped
// the registering modules (the models below must still be in the registry).
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, listModels } from '@vitkit/core';
import '@vitkit/vit';
import '@vitkit/hybrid-stem';
import '@vitkit/cswin';
import '@vitkit/crossvit';

export const models = listModels('*_micro_32');

export async function classify(pixels) {
  await tf.setBackend('wasm');
  const model = createModel('vit_micro_32');
  const logits = tf.tidy(() => model.forward(tf.tensor4d(pixels, [1, 32, 32, 3])));
  return logits.array();
}
