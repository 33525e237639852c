import * as tf from '@tensorflow/tfjs-core';
import type { BlockTransformer } from './block-transformer.js';
import { forwardWithAttention } from './capture.js';
import type { AttentionMapGroup, AttentionMapOptions } from './explainer.js';
import { attentionRollout } from './rollout.js';

/**
 * AttentionExplainer for ViT-shaped models: the class token's attention over
 * the patch grid per head of one block (the mean over all query rows when the
 * model has no class token), or the attention rollout through every block.
 */
export function explainBlockAttention(
  model: BlockTransformer,
  x: tf.Tensor4D,
  options: AttentionMapOptions,
): { logits: tf.Tensor; groups: AttentionMapGroup[] } {
  const [gh, gw] = model.grid;
  const prefix = model.numPrefixTokens;
  const b = x.shape[0];
  if (options.rollout) {
    const { logits, rollout } = attentionRollout(model, x);
    const maps = tf.reshape(rollout, [b, 1, gh, gw]);
    rollout.dispose();
    return {
      logits,
      groups: [{ title: `attention rollout through ${model.blocks.length} blocks`, grid: [gh, gw], maps, labels: ['rollout'] }],
    };
  }
  const depth = model.blocks.length;
  const requested = options.layer ?? -1;
  const layer = requested < 0 ? depth + requested : requested;
  const { logits, attention } = forwardWithAttention(model, x, { blocks: [layer] });
  const probabilities = attention[0]!;
  const heads = probabilities.shape[1]!;
  const maps = tf.tidy(() => {
    const patches = tf.slice(probabilities, [0, 0, 0, prefix], [b, heads, probabilities.shape[2]!, gh * gw]);
    const rows = prefix > 0 ? tf.slice(patches, [0, 0, 0, 0], [b, heads, 1, gh * gw]) : tf.mean(patches, 2);
    return tf.reshape(rows, [b, heads, gh, gw]);
  });
  probabilities.dispose();
  const what = prefix > 0 ? 'class token' : 'mean query';
  return {
    logits,
    groups: [
      {
        title: `block ${layer}: ${what} over the patches, per head`,
        grid: [gh, gw],
        maps,
        labels: Array.from({ length: heads }, (_, h) => `head ${h}`),
      },
    ],
  };
}
