// `vitkit eval`: top-1/top-5 of saved weights on a dataset's test split.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { evaluate, getModelEntry, type ImageClassifier } from '@vitkit/core';
import { CHECKPOINT_FILE, type DataParallel, DATASET_SPEC_HELP, initBackend, loadSafetensors } from '@vitkit/core/node';
import { InputError, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { buildModel, evalLoader, modelInput, openSplit } from './train.js';
import '../register-models.js';
import { evalOnReplicas, replicaCount, startReplicas, WORKERS_OPTION } from '../replicas.js';

export interface SavedWeights {
  /** The safetensors file. */
  file: string;
  /** The training run's config (classes, image size) when the weights come from `vitkit train`. */
  config: { classes?: string[]; numClasses?: number; imgSize?: number; model?: string } | null;
}

/** Accepts a weights file or a `vitkit train` folder; finds the run's config beside the weights. */
export function resolveWeights(path: string): SavedWeights {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or folder`);
  const file = statSync(path).isDirectory() ? join(path, 'model.safetensors') : path;
  if (!existsSync(file)) throw new InputError(`${path}: no model.safetensors in this folder`);
  const json = join(dirname(file), CHECKPOINT_FILE);
  const config = existsSync(json) ? ((JSON.parse(readFileSync(json, 'utf8')) as { config: SavedWeights['config'] }).config ?? null) : null;
  return { file, config };
}

/** Builds the model and loads the weights strictly (every key must match). */
export async function loadTrainedModel(
  name: string,
  weights: SavedWeights,
  options: { numClasses?: number; imgSize?: number },
): Promise<ImageClassifier> {
  const model = buildModel(name, {
    numClasses: options.numClasses ?? weights.config?.numClasses,
    imgSize: options.imgSize ?? weights.config?.imgSize,
  });
  const sd = await loadSafetensors(weights.file).catch((e: Error) => {
    model.dispose();
    throw new InputError(e.message);
  });
  try {
    model.loadStateDict(sd, { context: weights.file });
  } catch (e) {
    model.dispose();
    throw new InputError((e as Error).message);
  } finally {
    tf.dispose(Object.values(sd));
  }
  return model;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: "top-1/top-5 accuracy of saved weights on a dataset's test split",
  usage: 'vitkit eval --model NAME --checkpoint FILE|DIR --dataset SPEC [--batch-size B] [--json]',
  options: [
    { name: 'model', type: 'string', value: 'NAME', description: 'registered model name' },
    { name: 'checkpoint', type: 'string', value: 'FILE', description: 'weights (safetensors) or a vitkit train folder' },
    { name: 'dataset', type: 'string', value: 'SPEC', description: DATASET_SPEC_HELP },
    { name: 'batch-size', type: 'number', value: 'B', description: 'batch size', default: 250 },
    { name: 'img-size', type: 'number', value: 'S', description: 'input size (default: the run config, else the model)' },
    { name: 'limit', type: 'number', value: 'N', description: 'evaluate the first N test images only' },
    WORKERS_OPTION,
  ],
  async run({ options }, io) {
    const name = options['model'] as string | undefined;
    const spec = options['dataset'] as string | undefined;
    const checkpoint = options['checkpoint'] as string | undefined;
    if (!name || !spec || !checkpoint) throw new UsageError('eval needs --model, --checkpoint and --dataset');
    const backend = await initBackend({ quiet: true });
    const weights = resolveWeights(checkpoint);
    const testSet = await openSplit(spec, 'test', options['limit'] as number | undefined);
    const entry = getModelEntry(name);
    const model = await loadTrainedModel(name, weights, {
      numClasses: testSet.classes.length,
      imgSize: options['img-size'] as number | undefined,
    });
    let parallel: DataParallel | null = null;
    try {
      const replicas = replicaCount(options['workers'] as number | undefined, backend.backend);
      parallel = await startReplicas(model, name, { numClasses: model.numClasses, imgSize: model.imgSize[0] }, replicas);
      const input = modelInput(entry.defaults, model.imgSize[0]);
      io.progress(`evaluating ${weights.file} on ${testSet.name} (${testSet.size} images, ${replicas} replica(s))`);
      const forward = parallel ? evalOnReplicas(parallel)() : undefined;
      const r = await evaluate(model, evalLoader(testSet, entry.defaults, input, options['batch-size'] as number), { forward });
      const data = {
        model: name,
        dataset: spec,
        checkpoint: weights.file,
        top1: r.top1,
        top5: r.top5,
        loss: r.loss,
        images: r.images,
        seconds: r.seconds,
        backend: backend.backend,
      };
      const lines = [
        `${name} on ${spec}: top-1 ${(100 * r.top1).toFixed(2)}%, top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)} (${r.images} images, ${r.seconds.toFixed(1)} s)`,
      ];
      return { ok: true, lines, data };
    } finally {
      await parallel?.close();
      model.dispose();
    }
  },
};
