// One call from a decoded image to labelled classes, as transformers.js's
// image-classification pipeline gives them: the model's evaluation transform
// (its pretrained_cfg, else the registry's defaults), a forward pass, the
// softmax and the top classes with their names.
import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from './classifier.js';
import { type EvalConfig, evalConfigOf, preprocessImage } from './data/eval-transform.js';
import type { RawImage } from './data/image.js';
import { greyToRgb } from './data/normalize.js';
import { labelsFor } from './labels/imagenet.js';
import { registeredEntryOf } from './registry.js';

export interface ClassPrediction {
  label: string;
  index: number;
  probability: number;
}

export interface ClassifyOptions {
  /** Classes per image (default 5, at most the class count). */
  topk?: number;
  /** The preprocessing; default the registry's for a model built by createModel. */
  evalConfig?: EvalConfig;
  /** One name per class; default `labelsFor(model.numClasses)`. */
  labels?: readonly string[];
}

/** The evaluation config of a model built by createModel, at its input size. */
export function defaultEvalConfig(model: ImageClassifier): EvalConfig {
  const entry = registeredEntryOf(model);
  if (!entry) throw new Error(`${model.constructor.name} was not built by createModel; give its evalConfig`);
  return evalConfigOf(entry.defaults, model.imgSize[0]);
}

/**
 * The logits [numClasses] of each image, preprocessed by `evalConfig`, in
 * evaluation mode. Read asynchronously, as every backend allows (WebGPU under
 * Node has no synchronous read).
 */
export async function imageLogits(model: ImageClassifier, images: readonly RawImage[], evalConfig: EvalConfig): Promise<Float32Array[]> {
  const s = evalConfig.imgSize;
  model.eval();
  const out: Float32Array[] = [];
  for (const img of images) {
    const x = preprocessImage(greyToRgb(img), evalConfig);
    const logits = tf.tidy(() => model.forward(tf.tensor4d(x, [1, s, s, 3])));
    out.push((await logits.data()) as Float32Array);
    logits.dispose();
  }
  return out;
}

/** The `k` most probable classes of one image's logits (softmax in float64), most probable first. */
export function topClasses(logits: ArrayLike<number>, k: number, labels: readonly string[]): ClassPrediction[] {
  if (labels.length !== logits.length) throw new Error(`topClasses: ${labels.length} labels for ${logits.length} classes`);
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exp = values.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp
    .map((e, index) => ({ label: labels[index]!, index, probability: e / sum }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, Math.max(0, Math.min(k, values.length)));
}

/** The top classes of each image (decoded RGB or grey, 0..255). */
export async function classify(
  model: ImageClassifier,
  image: RawImage | readonly RawImage[],
  options: ClassifyOptions = {},
): Promise<ClassPrediction[][]> {
  const images = Array.isArray(image) ? (image as readonly RawImage[]) : [image as RawImage];
  const labels = options.labels ?? labelsFor(model.numClasses);
  const logits = await imageLogits(model, images, options.evalConfig ?? defaultEvalConfig(model));
  return logits.map((l) => topClasses(l, options.topk ?? 5, labels));
}
