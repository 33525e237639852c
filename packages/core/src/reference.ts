// Adapters to the reference implementations (timm, pycls, the official CSWin
// and CrossViT code): how a family builds a model from the reference
// constructor's arguments, renames a reference checkpoint, and exposes the
// intermediate outputs the parity fixtures hold. `loadWeights` (every command
// that reads a checkpoint) and the parity tests reach a family through it.
import type * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from './classifier.js';
import type { StateDict } from './module.js';

export interface ReferenceAdapter {
  /** `family` in the fixtures' config.json: 'vit', 'hybrid-stem', 'cswin', 'crossvit'. */
  family: string;
  /** The model the reference constructor's keyword arguments describe (config.json `reference_args`). */
  fromReferenceConfig(args: Record<string, unknown>): ImageClassifier;
  /**
   * A reference checkpoint renamed to this model's keys (still PyTorch layouts).
   * Returns new entries only where names change; tensors are shared, not copied.
   */
  convertStateDict(sd: StateDict): StateDict;
  /**
   * The model's learned absolute position embeddings (none for a family without
   * one, such as CSWin): `loadWeights` resamples a checkpoint's to these grids.
   */
  positionEmbeddings?(model: ImageClassifier): PositionEmbeddingSlot[];
  /**
   * Eval-mode forward of an NHWC batch returning the logits and every
   * intermediate it can produce, keyed and laid out as the reference's
   * sub-module outputs (`blocks.0`, `encoder.ln`, `patch_embed.0`, ...).
   */
  forwardWithIntermediates(model: ImageClassifier, x: tf.Tensor4D): { logits: tf.Tensor; intermediates: Record<string, tf.Tensor> };
}

/** A learned position embedding [1, prefixTokens + gh*gw, C] and the token grid it covers in the model. */
export interface PositionEmbeddingSlot {
  /** Its state-dict key, e.g. `pos_embed` or `pos_embed.1`. */
  key: string;
  /** Tokens before the grid that keep their entries (class, distillation). */
  prefixTokens: number;
  grid: [number, number];
}

const adapters = new Map<string, ReferenceAdapter>();

export function registerReferenceAdapter(adapter: ReferenceAdapter): void {
  adapters.set(adapter.family, adapter);
}

export function getReferenceAdapter(family: string): ReferenceAdapter {
  const a = adapters.get(family);
  if (!a) throw new Error(`no reference adapter for family '${family}' (known: ${[...adapters.keys()].join(', ') || 'none'})`);
  return a;
}
