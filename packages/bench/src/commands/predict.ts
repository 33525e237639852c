// `vitkit predict`: the top-5 classes of image files under saved weights,
// with the model's evaluation preprocessing (resize, centre crop by cropPct, mean/std).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vitkit/core/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { loadImageForModel } from '../image-input.js';
import { CHECKPOINT_OPTION, loadTrainedModel, MODEL_OPTION, modelEntry, NUM_CLASSES_OPTION, resolveWeights } from '../model-loading.js';
import { ONNX_RUNTIME_OPTIONS, OnnxSession, resolveDevice, resolveRuntime } from '../onnx/session.js';

export interface Prediction {
  image: string;
  top: { index: number; label: string; probability: number }[];
}

export const predict = defineCommand({
  name: 'predict',
  summary: 'top-5 classes of image files under saved weights',
  usage: 'vitkit predict --model NAME --checkpoint FILE|DIR IMAGE... [--classes a,b,...] [--runtime tfjs|onnx] [--json]',
  details:
    'Class names come from the training run beside the weights, else --classes, else indices. The weights may use\n' +
    "vitkit names or the model family's reference names; a position embedding for another image size is resampled.\n" +
    '--runtime onnx (or VITKIT_RUNTIME=onnx) runs the model exported to ONNX (cached in --cache-dir) in ONNX Runtime.',
  options: [
    MODEL_OPTION,
    CHECKPOINT_OPTION,
    { name: 'classes', type: 'list', value: 'A,B', description: 'class names in label order' },
    NUM_CLASSES_OPTION,
    { name: 'top', type: 'number', value: 'K', description: 'classes to show', default: 5 },
    ...ONNX_RUNTIME_OPTIONS,
  ],
  async run({ options, positionals }, io) {
    const name = options.model;
    if (positionals.length === 0) throw new UsageError('predict needs at least one IMAGE');
    const entry = modelEntry(name);
    const runtime = resolveRuntime(options.runtime);
    const device = resolveDevice(options.device, runtime);
    await initBackend({ quiet: true });
    const weights = resolveWeights(options.checkpoint);
    const given = options.classes;
    const model = await loadTrainedModel(name, weights, { numClasses: options['num-classes'] ?? given?.length }, io.progress);
    const classes = given ?? weights.config?.classes ?? Array.from({ length: model.numClasses }, (_, i) => String(i));
    if (classes.length !== model.numClasses) {
      model.dispose();
      throw new InputError(`${classes.length} class names for a model with ${model.numClasses} classes`);
    }
    const k = Math.min(options.top, model.numClasses);
    model.eval();
    const predictions: Prediction[] = [];
    let session: OnnxSession | null = null;
    try {
      if (runtime === 'onnx') session = await OnnxSession.forModel(name, model, { device, cacheDir: options['cache-dir'] });
      for (const path of positionals) {
        const { x } = await loadImageForModel(path, entry.defaults, model.imgSize[0]);
        const logits = session ? await onnxLogits(session, x, model.numClasses) : tf.tidy(() => model.forward(x));
        const { values, indices } = tf.tidy(() => {
          const top = tf.topk(tf.softmax(logits), k);
          return { values: top.values.dataSync(), indices: top.indices.dataSync() };
        });
        tf.dispose([x, logits]);
        predictions.push({
          image: path,
          top: Array.from(indices, (index, i) => ({ index, label: classes[index]!, probability: values[i]! })),
        });
      }
    } finally {
      await session?.release();
      model.dispose();
    }
    const lines = predictions.flatMap((p) => [
      p.image,
      ...p.top.map((t) => `  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${t.label}`),
    ]);
    return { ok: true, lines, data: predictions };
  },
});

/** The logits [1, classes] of an NHWC image run through an ONNX session (whose input is NCHW). */
async function onnxLogits(session: OnnxSession, x: tf.Tensor4D, numClasses: number): Promise<tf.Tensor> {
  const [b, h, w, c] = x.shape;
  const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
  return tf.tensor2d(await session.run(nchw, [b, c, h, w]), [b, numClasses]);
}
