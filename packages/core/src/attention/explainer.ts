import type * as tf from '@tensorflow/tfjs-core';

/** One set of attention maps over one token grid, e.g. the heads of a block. */
export interface AttentionMapGroup {
  /** What the maps show, e.g. 'block 11' or 'rollout' or 'branch 0 class token -> branch 1'. */
  title: string;
  /** Token grid [gh, gw] the maps are laid over (the image is split into gh x gw patches). */
  grid: [number, number];
  /** [B, K, gh, gw]: K maps per image (one per head, or one for a rollout). */
  maps: tf.Tensor;
  /** A label per map (K of them), e.g. 'head 0'. */
  labels: string[];
}

export interface AttentionMapOptions {
  /** Block (or encoder) index for per-head maps; negative counts from the end. Default: the last. */
  layer?: number;
  /** Attention rollout through all layers instead of one layer's heads. */
  rollout?: boolean;
}

/**
 * Models that can show where their class token(s) look: ViT-style models
 * (per-head maps of a block, or attention rollout) and CrossViT (each class
 * token's cross-attention over the other branch). The caller disposes every
 * returned tensor.
 */
export interface AttentionExplainer {
  explainAttention(x: tf.Tensor4D, options: AttentionMapOptions): { logits: tf.Tensor; groups: AttentionMapGroup[] };
}

export function canExplainAttention(model: unknown): model is AttentionExplainer {
  return typeof (model as Partial<AttentionExplainer>)?.explainAttention === 'function';
}
