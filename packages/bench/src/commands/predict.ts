// `vitkit predict`: the top classes of image files, with the model's
// evaluation preprocessing (its pretrained_cfg, or the registry's defaults)
// and its class names.
import { type ClassPrediction, imageLogits, topClasses } from '@vitkit/core';
import { initBackend } from '@vitkit/core/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { decodeImageFile } from '../image-input.js';
import { CHECKPOINT_OPTION, loadCommandModel, MODEL_OPTION, NUM_CLASSES_OPTION } from '../model-loading.js';

export interface Prediction {
  image: string;
  top: ClassPrediction[];
  /** Every class's logit, in class order. */
  logits: number[];
}

export const predict = defineCommand({
  name: 'predict',
  summary: 'top classes of image files, with class names',
  usage: 'vitkit predict --model NAME.TAG|hf-hub:ORG/REPO|local-dir:DIR|NAME --checkpoint FILE|DIR IMAGE... [--topk K] [--json]',
  details:
    'A pretrained model brings its preprocessing (pretrained_cfg) and class names (label_names, else ImageNet-1k\n' +
    'for 1000 classes). For a registered NAME with --checkpoint, class names come from the training run beside the\n' +
    "weights, else --classes, else indices; the weights may use vitkit names or the family's reference names.\n" +
    '--json gives per image the top classes and every logit.',
  options: [
    MODEL_OPTION,
    CHECKPOINT_OPTION,
    { name: 'classes', type: 'list', value: 'A,B', description: 'class names in label order' },
    NUM_CLASSES_OPTION,
    { name: 'topk', type: 'number', value: 'K', description: 'classes to show', default: 5 },
  ],
  async run({ options, positionals }, io) {
    if (positionals.length === 0) throw new UsageError('predict needs at least one IMAGE');
    if (!(options.topk >= 1 && Number.isInteger(options.topk))) throw new UsageError('--topk must be a positive integer');
    await initBackend({ quiet: true });
    const given = options.classes;
    const loaded = await loadCommandModel(
      options.model,
      { checkpoint: options.checkpoint, numClasses: options['num-classes'] ?? given?.length },
      io.progress,
    );
    const { model } = loaded;
    const predictions: Prediction[] = [];
    try {
      const labels = given ?? loaded.labels;
      if (labels.length !== model.numClasses)
        throw new InputError(`${labels.length} class names for a model with ${model.numClasses} classes`);
      for (const path of positionals) {
        const [logits] = await imageLogits(model, [await decodeImageFile(path)], loaded.evalConfig);
        predictions.push({ image: path, top: topClasses(logits!, options.topk, labels), logits: Array.from(logits!) });
      }
    } finally {
      model.dispose();
    }
    const lines = predictions.flatMap((p) => [
      p.image,
      ...p.top.map((t) => `  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${String(t.index).padStart(5)}  ${t.label}`),
    ]);
    return { ok: true, lines, data: predictions };
  },
});
