// `vitkit predict`: the top classes of image files, with the model's
// evaluation preprocessing (its pretrained_cfg, or the registry's defaults)
// and its class names, on TensorFlow.js or on ONNX Runtime (--runtime onnx).
import {
  type ClassPrediction,
  type EvalConfig,
  greyToRgb,
  hwcToChw,
  imageLogits,
  preprocessImage,
  type RawImage,
  topClasses,
} from '@vitkit/core';
import { initBackend } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { decodeImageFile } from '../image-input.js';
import { CHECKPOINT_OPTION, loadCommandModel, MODEL_OPTION, NUM_CLASSES_OPTION } from '../model-loading.js';
import { ONNX_RUNTIME_OPTIONS, OnnxSession, resolveDevice, resolveRuntime } from '../onnx/session.js';

export interface Prediction {
  image: string;
  top: ClassPrediction[];
  /** Every class's logit, in class order. */
  logits: number[];
}

/** One image's logits from the model's ONNX graph: the same preprocessing, NCHW as the graph takes it. */
async function onnxImageLogits(session: OnnxSession, image: RawImage, cfg: EvalConfig): Promise<Float32Array> {
  const s = cfg.imgSize;
  const chw = hwcToChw(preprocessImage(greyToRgb(image), cfg), s, s, 3);
  return session.run(chw, [1, 3, s, s]);
}

export const predict = defineCommand({
  name: 'predict',
  summary: 'top classes of image files, with class names',
  usage:
    'vitkit predict --model NAME.TAG|hf-hub:ORG/REPO|local-dir:DIR|NAME --checkpoint FILE|DIR IMAGE... [--topk K] [--runtime tfjs|onnx] [--json]',
  details:
    'A pretrained model brings its preprocessing (pretrained_cfg) and class names (label_names, else ImageNet-1k\n' +
    'for 1000 classes). For a registered NAME with --checkpoint, class names come from the training run beside the\n' +
    "weights, else --classes, else indices; the weights may use vitkit names or the family's reference names.\n" +
    '--json gives per image the top classes and every logit. --runtime onnx (or VITKIT_RUNTIME=onnx) runs the\n' +
    'model exported to ONNX (cached in --cache-dir) in ONNX Runtime.',
  options: [
    MODEL_OPTION,
    CHECKPOINT_OPTION,
    { name: 'classes', type: 'list', value: 'A,B', description: 'class names in label order' },
    NUM_CLASSES_OPTION,
    { name: 'topk', type: 'number', value: 'K', description: 'classes to show', default: 5 },
    ...ONNX_RUNTIME_OPTIONS,
  ],
  async run({ options, positionals }, io) {
    if (positionals.length === 0) throw new UsageError('predict needs at least one IMAGE');
    if (!(options.topk >= 1 && Number.isInteger(options.topk))) throw new UsageError('--topk must be a positive integer');
    const runtime = resolveRuntime(options.runtime);
    const device = resolveDevice(options.device, runtime);
    await initBackend({ quiet: true });
    const given = options.classes;
    const loaded = await loadCommandModel(
      options.model,
      { checkpoint: options.checkpoint, numClasses: options['num-classes'] ?? given?.length },
      io.progress,
    );
    const { model } = loaded;
    const predictions: Prediction[] = [];
    let session: OnnxSession | null = null;
    try {
      const labels = given ?? loaded.labels;
      if (labels.length !== model.numClasses)
        throw new InputError(`${labels.length} class names for a model with ${model.numClasses} classes`);
      model.eval();
      if (runtime === 'onnx') session = await OnnxSession.forModel(loaded.architecture, model, { device, cacheDir: options['cache-dir'] });
      for (const path of positionals) {
        const image = await decodeImageFile(path);
        const logits = session
          ? await onnxImageLogits(session, image, loaded.evalConfig)
          : (await imageLogits(model, [image], loaded.evalConfig))[0]!;
        predictions.push({ image: path, top: topClasses(logits, options.topk, labels), logits: Array.from(logits) });
      }
    } finally {
      await session?.release();
      model.dispose();
    }
    const lines = predictions.flatMap((p) => [
      p.image,
      ...p.top.map((t) => `  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${String(t.index).padStart(5)}  ${t.label}`),
    ]);
    return { ok: true, lines, data: predictions };
  },
});
