import type * as tf from '@tensorflow/tfjs-core';
import type { Cost } from './complexity.js';
import { Layer } from './layers/layer.js';

/** What every registered model is: NHWC float32 images in, logits [B, numClasses] out. */
export abstract class ImageClassifier extends Layer {
  abstract readonly numClasses: number;
  /** Input resolution the model was built for, [height, width]. */
  abstract readonly imgSize: [number, number];

  /** x: [B, H, W, C] float32 -> logits [B, numClasses]. Call inside tf.tidy. */
  abstract override forward(x: tf.Tensor): tf.Tensor;

  /** Parameters and multiply-accumulates for one image at the model's input size. */
  abstract complexity(): Cost;
}
