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
  /**
   * How config.json's `reference` starts for this adapter ('timm', 'pycls'):
   * a family with several references (hybrid-stem: pycls' ViT and timm's
   * HybridEmbed) picks its adapter by it. A family's only adapter may omit it.
   */
  reference?: string;
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

const adapters = new Map<string, ReferenceAdapter[]>();

/** Adds an adapter; one registered again for the same family and reference replaces it. */
export function registerReferenceAdapter(adapter: ReferenceAdapter): void {
  const same = (a: ReferenceAdapter) => a.reference === adapter.reference;
  adapters.set(adapter.family, [...(adapters.get(adapter.family) ?? []).filter((a) => !same(a)), adapter]);
}

/**
 * The adapter of `family` whose `reference` begins the given reference
 * description (config.json's `reference`, or a model's `implementation`).
 * Without a description the family must have a single adapter.
 */
export function getReferenceAdapter(family: string, reference?: string): ReferenceAdapter {
  const candidates = adapters.get(family) ?? [];
  if (candidates.length === 0) {
    throw new Error(`no reference adapter for family '${family}' (known: ${[...adapters.keys()].join(', ') || 'none'})`);
  }
  if (candidates.length === 1 && (reference === undefined || candidates[0]!.reference === undefined)) return candidates[0]!;
  const prefixes = candidates
    .map((a) => `'${a.reference ?? ''}'`)
    .sort()
    .join(', ');
  if (reference === undefined) {
    throw new Error(`family '${family}' has several references (${prefixes}); say which one (config.json 'reference')`);
  }
  const matching = candidates.filter((a) => a.reference !== undefined && reference.startsWith(a.reference));
  if (matching.length !== 1) {
    throw new Error(`family '${family}': reference '${reference}' does not start with exactly one of ${prefixes}`);
  }
  return matching[0]!;
}
