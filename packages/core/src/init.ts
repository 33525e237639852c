// Seeded weight initialisation: `seedInit(s)` before building a model makes its
// weights reproducible.
import * as tf from '@tensorflow/tfjs-core';
import { initRng } from './random.js';

export function seedInit(seed: number): void {
  initRng.seed(seed);
}

/** Normal(0, std) truncated at two standard deviations, as timm's trunc_normal_(std=0.02). */
export function truncNormal(shape: number[], std = 0.02): tf.Tensor {
  return tf.truncatedNormal(shape, 0, std, 'float32', initRng.nextSeed());
}

/** Uniform(-bound, bound): PyTorch's default for Linear and Conv2d with bound 1/sqrt(fan_in). */
export function uniform(shape: number[], bound: number): tf.Tensor {
  return tf.randomUniform(shape, -bound, bound, 'float32', initRng.nextSeed());
}

/** He-normal with fan-out (ReLU gain), as pycls and torchvision initialise convolutions. */
export function kaimingNormalFanOut(shape: number[], fanOut: number): tf.Tensor {
  return tf.randomNormal(shape, 0, Math.sqrt(2 / fanOut), 'float32', initRng.nextSeed());
}
