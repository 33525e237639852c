import * as tf from '@tensorflow/tfjs-core';
import type { ModelDefaults } from '@vitkit/core';
import sharp from 'sharp';
import { InputError } from './args.js';

/** An image file resized (cover, centre) to the model's input: RGB bytes for drawing and the normalised NHWC batch of one. */
export async function loadImageForModel(path: string, defaults: ModelDefaults, size: number): Promise<{ rgb: Uint8Array; x: tf.Tensor4D }> {
  let rgb: Uint8Array;
  try {
    const { data } = await sharp(path).resize(size, size, { fit: 'cover' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    rgb = new Uint8Array(data);
  } catch (e) {
    throw new InputError(`${path}: cannot decode the image (${(e as Error).message})`);
  }
  const c = defaults.inChannels;
  const values = new Float32Array(size * size * c);
  for (let i = 0; i < size * size; i++) {
    if (c === 1) {
      const grey = (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!) / 255;
      values[i] = (grey - defaults.mean[0]) / defaults.std[0];
    } else {
      for (let k = 0; k < 3; k++) values[i * 3 + k] = (rgb[i * 3 + k]! / 255 - defaults.mean[k]!) / defaults.std[k]!;
    }
  }
  return { rgb, x: tf.tensor4d(values, [1, size, size, c]) };
}
