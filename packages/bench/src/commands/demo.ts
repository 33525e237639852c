import { readFileSync } from 'node:fs';
import { readSafetensorsHeader } from '@vitkit/core';
import { DEFAULT_HUB_URL } from '@vitkit/core/hub';
import { initBackend } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { startDemoServer } from '../demo-server.js';
import { CHECKPOINT_OPTION, loadCommandModel, MODEL_OPTION, modelEntry, resolveWeights } from '../model-loading.js';

export const demo = defineCommand({
  name: 'demo',
  summary: 'serve a page that classifies images in the browser (WebGPU, WebGL or WebAssembly)',
  usage: 'vitkit demo [--model NAME] [--checkpoint FILE|DIR] [--port P] [--seed N] [--hub-url URL]',
  details:
    'Serves the demo page on 127.0.0.1 until Ctrl-C: pick a model and a backend, drop an image, see the top-5\n' +
    'classes, the attention rollout and the time per image. A registered model gets fresh weights from --seed,\n' +
    'the --model one those of --checkpoint when given; a .safetensors file dropped on the page replaces them.\n' +
    'A pretrained model typed on the page (hf-hub:ORG/REPO, NAME.TAG or a folder URL) is fetched by the page from\n' +
    '--hub-url (or the URL) and kept in its Cache API. The page is cross-origin isolated (COOP/COEP), so\n' +
    'WebAssembly runs threaded.',
  options: [
    { ...MODEL_OPTION, required: false, default: 'vit_micro_32', description: 'model the page opens with' },
    { ...CHECKPOINT_OPTION, required: false, description: `${CHECKPOINT_OPTION.description} for --model` },
    { name: 'port', type: 'number', value: 'P', description: 'port on 127.0.0.1 (0 picks a free one)', default: 8080 },
    { name: 'seed', type: 'number', value: 'N', description: 'seed of the fresh weights', default: 0 },
    {
      name: 'hub-url',
      type: 'string',
      value: 'URL',
      description:
        'the Hub (or mirror) the page fetches hf-hub: names and NAME.TAG from (default $HF_ENDPOINT, else https://huggingface.co)',
    },
  ],
  async run({ options }, io) {
    const { model, port, seed } = options;
    if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError(`--port must be 0 to 65535 (got ${port})`);
    modelEntry(model);
    let checkpoint: { file: string; bytes: Uint8Array } | undefined;
    if (options.checkpoint) {
      const weights = resolveWeights(options.checkpoint);
      const bytes = new Uint8Array(readFileSync(weights.file));
      try {
        readSafetensorsHeader(bytes, weights.file);
      } catch (e) {
        throw new InputError(`--checkpoint: ${(e as Error).message}`);
      }
      // The page loads the weights strictly into the registered model: check here that they fit.
      await initBackend({ quiet: true });
      (await loadCommandModel(model, { checkpoint: options.checkpoint }, io.progress)).model.dispose();
      checkpoint = { file: weights.file, bytes };
    }
    const hubUrl = options['hub-url'] ?? process.env['HF_ENDPOINT'] ?? DEFAULT_HUB_URL;
    if (!/^https?:\/\/[^/]/.test(hubUrl)) throw new UsageError(`--hub-url must be an http(s) URL (got ${hubUrl})`);
    const server = await startDemoServer({ host: '127.0.0.1', port, model, seed, hubUrl, ...(checkpoint ? { checkpoint } : {}) });
    io.progress(`vitkit demo: serving ${server.url} (Ctrl-C stops)`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    await server.close();
    return {
      ok: true,
      lines: [`vitkit demo: stopped (${signal})`],
      data: { url: server.url, model, hubUrl, checkpoint: checkpoint?.file ?? null },
    };
  },
});
