// An image file as a model sees it at evaluation: decoded as PIL decodes it,
// then timm's eval transform from the model's config (resize by cropPct with
// Pillow's resampling, centre crop), channels matched and normalised with its
// mean/std; the pipeline `vitkit eval` and `vitkit preprocess` run.
import * as tf from '@tensorflow/tfjs-core';
import { derivedRng, evalConfigOf, evalResize, type ModelDefaults, normalize, toChannels, toUint8Pixels } from '@vitkit/core';
import { decodeImage } from '@vitkit/core/node';
import { InputError } from './args.js';

/** The normalised batch of one [1, size, size, C], and the cropped image as RGB bytes for drawing. */
export async function loadImageForModel(path: string, defaults: ModelDefaults, size: number): Promise<{ rgb: Uint8Array; x: tf.Tensor4D }> {
  const decoded = await decodeImage(path).catch((e: Error) => {
    throw new InputError(e.message);
  });
  const cropped = evalResize(decoded, evalConfigOf(defaults, size));
  const image = toChannels(defaults.inChannels)(cropped, derivedRng(0));
  const x = tf.tensor4d(normalize(image, defaults.mean, defaults.std), [1, size, size, defaults.inChannels]);
  return { rgb: toUint8Pixels(cropped.data), x };
}
