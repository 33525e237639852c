// Attention probabilities of chosen blocks, per head, on request. Capture is
// switched on only for the blocks asked for and only during this call, so an
// ordinary forward keeps nothing and pays nothing.
import * as tf from '@tensorflow/tfjs-core';
import type { BlockTransformer } from './block-transformer.js';

export interface AttentionCapture {
  logits: tf.Tensor;
  /** Block indices, in the order of `attention`. */
  blocks: number[];
  /** Per block, softmax probabilities [B, heads, N, N] (rows: queries, columns: keys; token 0 is the class token). */
  attention: tf.Tensor[];
}

function chosenBlocks(model: BlockTransformer, blocks: number[] | 'all'): number[] {
  const depth = model.blocks.length;
  if (blocks === 'all') return [...Array(depth).keys()];
  for (const i of blocks) {
    if (!Number.isInteger(i) || i < 0 || i >= depth)
      throw new Error(`attention maps: block ${i} does not exist (the model has ${depth}: 0..${depth - 1})`);
  }
  return [...blocks];
}

/**
 * Runs the model on x [B, H, W, C] and returns the logits with the attention
 * probabilities of `blocks` (default all). Only the returned tensors remain;
 * they outlive any enclosing tf.tidy, so the caller disposes them.
 */
export function forwardWithAttention(model: BlockTransformer, x: tf.Tensor, options: { blocks?: number[] | 'all' } = {}): AttentionCapture {
  const blocks = chosenBlocks(model, options.blocks ?? 'all');
  const modules = blocks.map((i) => model.blocks.items[i]!.attn);
  for (const m of modules) m.captureAttention = true;
  try {
    const logits = tf.tidy(() => model.forward(x));
    const attention = modules.map((m) => {
      const a = m.attention!;
      m.attention = null; // ownership passes to the caller
      return a;
    });
    return { logits, blocks, attention };
  } finally {
    for (const m of modules) m.releaseAttention();
  }
}
