// classify on image files, decoded as PIL's Image.open(f).convert('RGB').
import { type ImageClassifier, type ClassifyOptions, type ClassPrediction, classify } from '@vitkit/core';
import { decodeImage } from './data/decode-image.js';

/** The top classes of each image file (one list per path, in order). */
export async function classifyFiles(
  model: ImageClassifier,
  paths: string | readonly string[],
  options: ClassifyOptions = {},
): Promise<ClassPrediction[][]> {
  const list = typeof paths === 'string' ? [paths] : paths;
  const images = await Promise.all(list.map((p) => decodeImage(p)));
  return classify(model, images, options);
}
