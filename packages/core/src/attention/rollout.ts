// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in
// Transformers", https://arxiv.org/abs/2005.00928): how much each input patch
// reaches the class token through all layers. Per layer the heads are
// averaged, the identity is added for the residual connection and the rows are
// renormalised; the layers' matrices are then multiplied from the first to the
// last.
import * as tf from '@tensorflow/tfjs-core';
import { forwardWithAttention } from './capture.js';
import type { BlockTransformer } from './block-transformer.js';

/** Rollout [B, N, N] of per-layer probabilities [B, heads, N, N] (first layer first); every row sums to 1. */
export function rolloutMatrix(attention: tf.Tensor[]): tf.Tensor {
  if (attention.length === 0) throw new Error('attention rollout needs the attention of at least one block');
  return tf.tidy(() => {
    let rollout: tf.Tensor | null = null;
    for (const probabilities of attention) {
      const n = probabilities.shape[2]!;
      const withResidual = tf.add(tf.mean(probabilities, 1), tf.eye(n));
      const layer = tf.div(withResidual, tf.sum(withResidual, -1, true));
      rollout = rollout ? tf.matMul(layer, rollout) : layer;
    }
    return rollout!;
  });
}

/**
 * The class token's row of the rollout over the patch grid, [B, gh, gw]. With
 * no class token (prefixTokens 0) the mean of all rows is used. The map sums to
 * 1 minus the share that stays on the prefix tokens.
 */
export function rolloutMap(attention: tf.Tensor[], options: { prefixTokens: number; grid: [number, number] }): tf.Tensor {
  const [gh, gw] = options.grid;
  const prefix = options.prefixTokens;
  return tf.tidy(() => {
    const r = rolloutMatrix(attention);
    const [b, n] = r.shape as [number, number, number];
    if (n !== prefix + gh * gw) throw new Error(`attention rollout: ${n} tokens do not make ${prefix} prefix + a ${gh}x${gw} grid`);
    const row = prefix > 0 ? tf.reshape(tf.slice(r, [0, 0, prefix], [b, 1, gh * gw]), [b, gh * gw]) : tf.mean(r, 1);
    return tf.reshape(row, [b, gh, gw]);
  });
}

/** Logits and the attention rollout map [B, gh, gw] of every block of `model` for x [B, H, W, C] (the caller disposes both). */
export function attentionRollout(model: BlockTransformer, x: tf.Tensor): { logits: tf.Tensor; rollout: tf.Tensor } {
  const { logits, attention } = forwardWithAttention(model, x);
  try {
    return { logits, rollout: rolloutMap(attention, { prefixTokens: model.numPrefixTokens, grid: model.grid }) };
  } finally {
    tf.dispose(attention);
  }
}
