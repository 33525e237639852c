import type * as tf from '@tensorflow/tfjs-core';
import type { Cost } from './complexity.js';
import { Layer } from './layers/layer.js';

/**
 * Receives a model's intermediate outputs during a forward pass, keyed by the
 * reference implementation's sub-module names (`patch_embed`, `blocks.3`,
 * `stage2.0`, `norm.1`). Parity checks, `forwardIntermediates` and the
 * attention explainers all observe a forward pass through this one hook.
 */
export type IntermediateRecorder = (name: string, t: tf.Tensor) => void;

/**
 * What `forwardFeatures` gives: one tensor, or one per branch for multi-branch
 * models (CrossViT). Tokens are [B, N, C]; feature maps are NHWC [B, H, W, C].
 */
export type FeatureTensors = tf.Tensor | tf.Tensor[];

export interface IntermediatesOptions {
  /**
   * Which blocks (or stages) to return, as timm's forward_intermediates: a
   * number n takes the last n, an array names them (negative counts from the
   * end). Default: all.
   */
  indices?: number | number[];
  /** Apply the model's final norm to each returned intermediate (default false). */
  norm?: boolean;
}

export interface IntermediatesResult {
  /** The output of `forwardFeatures` for the same input. */
  features: FeatureTensors;
  /** The chosen blocks' or stages' outputs, in block order. */
  intermediates: FeatureTensors[];
}

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
