// An image file as a model sees it at evaluation: decoded, resized and centre
// cropped by the model's cropPct and interpolation, channels matched, and
// normalised with its mean/std; the same pipeline `vitkit eval` runs.
import * as tf from '@tensorflow/tfjs-core';
import { derivedRng, evalTransform, type ModelDefaults, normalize } from '@vitkit/core';
import { decodeImage } from '@vitkit/core/node';
import { InputError } from './args.js';
import { modelInput } from './datasets.js';

/** The normalised batch of one [1, size, size, C], and the cropped image as RGB bytes for drawing. */
export async function loadImageForModel(path: string, defaults: ModelDefaults, size: number): Promise<{ rgb: Uint8Array; x: tf.Tensor4D }> {
  const decoded = await decodeImage(path).catch((e: Error) => {
    throw new InputError(e.message);
  });
  const input = modelInput(defaults, size);
  const image = evalTransform(null, input)(decoded, derivedRng(0));
  const x = tf.tensor4d(normalize(image, defaults.mean, defaults.std), [1, size, size, input.inChannels]);
  const rgb = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    for (let k = 0; k < 3; k++) {
      const v = image.data[i * image.channels + (image.channels === 1 ? 0 : k)]!;
      rgb[i * 3 + k] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return { rgb, x };
}
