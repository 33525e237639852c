// `vitkit predict`: the top-5 classes of image files under saved weights,
// with the model's evaluation preprocessing (resize, centre crop by cropPct, mean/std).
import * as tf from '@tensorflow/tfjs-core';
import { getModelEntry } from '@vitkit/core';
import { initBackend } from '@vitkit/core/node';
import { InputError, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { loadImageForModel } from '../image-input.js';
import { loadTrainedModel, resolveWeights } from './eval.js';
import '../register-models.js';

export interface Prediction {
  image: string;
  top: { index: number; label: string; probability: number }[];
}

export const predict: Command = {
  name: 'predict',
  summary: 'top-5 classes of image files under saved weights',
  usage: 'vitkit predict --model NAME --checkpoint FILE|DIR IMAGE... [--classes a,b,...] [--json]',
  details: 'Class names come from the training run beside the weights, else --classes, else indices.',
  options: [
    { name: 'model', type: 'string', value: 'NAME', description: 'registered model name' },
    { name: 'checkpoint', type: 'string', value: 'FILE', description: 'weights (safetensors) or a vitkit train folder' },
    { name: 'classes', type: 'list', value: 'A,B', description: 'class names in label order' },
    { name: 'num-classes', type: 'number', value: 'N', description: 'classifier size (default: the run config, else the model)' },
    { name: 'top', type: 'number', value: 'K', description: 'classes to show', default: 5 },
  ],
  async run({ options, positionals }) {
    const name = options['model'] as string | undefined;
    const checkpoint = options['checkpoint'] as string | undefined;
    if (!name || !checkpoint) throw new UsageError('predict needs --model and --checkpoint');
    if (positionals.length === 0) throw new UsageError('predict needs at least one IMAGE');
    await initBackend({ quiet: true });
    const weights = resolveWeights(checkpoint);
    const given = options['classes'] as string[] | undefined;
    const model = await loadTrainedModel(name, weights, { numClasses: (options['num-classes'] as number | undefined) ?? given?.length });
    const classes = given ?? weights.config?.classes ?? Array.from({ length: model.numClasses }, (_, i) => String(i));
    if (classes.length !== model.numClasses) {
      model.dispose();
      throw new InputError(`${classes.length} class names for a model with ${model.numClasses} classes`);
    }
    const entry = getModelEntry(name);
    const k = Math.min(options['top'] as number, model.numClasses);
    model.eval();
    const predictions: Prediction[] = [];
    try {
      for (const path of positionals) {
        const { x } = await loadImageForModel(path, entry.defaults, model.imgSize[0]);
        const top = tf.tidy(() => tf.topk(tf.softmax(model.forward(x)), k));
        const [values, indices] = await Promise.all([top.values.data(), top.indices.data()]);
        tf.dispose([x, top.values, top.indices]);
        predictions.push({
          image: path,
          top: Array.from(indices, (index, i) => ({ index, label: classes[index]!, probability: values[i]! })),
        });
      }
    } finally {
      model.dispose();
    }
    const lines = predictions.flatMap((p) => [
      p.image,
      ...p.top.map((t) => `  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${t.label}`),
    ]);
    return { ok: true, lines, data: predictions };
  },
};
