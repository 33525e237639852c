// An image file as a model sees it at evaluation: decoded as PIL decodes it,
// then timm's eval transform from the model's eval config (its pretrained_cfg
// or the registry's defaults): resize by cropPct with Pillow's resampling,
// centre crop, mean/std; the pipeline every image command runs.
import * as tf from '@tensorflow/tfjs-core';
import { type EvalConfig, evalResize, greyToRgb, normalize, type RawImage, toUint8Pixels } from '@vitkit/core';
import { decodeImage } from '@vitkit/node';
import { InputError } from './args.js';

/** An image file decoded as PIL's convert('RGB'); a file that fails is an input error. */
export async function decodeImageFile(path: string): Promise<RawImage> {
  return decodeImage(path).catch((e: Error) => {
    throw new InputError(e.message);
  });
}

/** The normalised batch of one [1, size, size, 3], and the cropped image as RGB bytes for drawing. */
export async function loadImageForModel(path: string, cfg: EvalConfig): Promise<{ rgb: Uint8Array; x: tf.Tensor4D }> {
  const cropped = evalResize(greyToRgb(await decodeImageFile(path)), cfg);
  const s = cfg.imgSize;
  const x = tf.tensor4d(normalize(cropped, cfg.mean, cfg.std), [1, s, s, 3]);
  return { rgb: toUint8Pixels(cropped.data), x };
}
