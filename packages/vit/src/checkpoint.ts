// Loading timm ViT/DeiT checkpoints, at the image size they were trained for or
// another one: as timm does when a model is created at a new resolution, the
// learned position embedding is resampled bicubically to the model's token grid
// (the class token's entry is kept aside), and the load says that it did.
import type * as tf from '@tensorflow/tfjs-core';
import { type LoadReport, resamplePositionEmbedding, type StateDict } from '@vitkit/core';
import type { VisionTransformer } from './vision-transformer.js';

/**
 * timm's names are this package's names; only the `module.` prefix that
 * DataParallel training adds is removed. Tensors are shared, not copied.
 */
export function convertTimmStateDict(sd: StateDict): StateDict {
  const out: StateDict = {};
  for (const [key, t] of Object.entries(sd)) out[key.startsWith('module.') ? key.slice('module.'.length) : key] = t;
  return out;
}

export interface CheckpointReport extends LoadReport {
  /** Set when the checkpoint's position embedding was resampled to the model's grid. */
  resampled: { from: [number, number]; to: [number, number] } | null;
  /** What loading changed, in words (empty when the checkpoint loaded as it was). */
  notes: string[];
}

export interface LoadCheckpointOptions {
  /** Throw on any missing, unexpected or mis-shaped key (default true). */
  strict?: boolean;
  /** Patch grid of the checkpoint's position embedding; inferred as square when omitted (as timm does). */
  checkpointGrid?: [number, number];
}

function squareGrid(patches: number): [number, number] {
  const side = Math.round(Math.sqrt(patches));
  if (side * side !== patches) {
    throw new Error(
      `loadCheckpoint: the checkpoint's position embedding has ${patches} patch entries, not a square grid; pass checkpointGrid`,
    );
  }
  return [side, side];
}

/**
 * Loads a timm-named state dict (PyTorch layouts, e.g. from a safetensors file)
 * into `model`, resampling `pos_embed` when the checkpoint was made for another
 * token grid. The caller keeps ownership of `sd`.
 */
export function loadCheckpoint(model: VisionTransformer, sd: StateDict, options: LoadCheckpointOptions = {}): CheckpointReport {
  const converted = convertTimmStateDict(sd);
  const posEmbed = converted['pos_embed'];
  const prefix = model.config.noEmbedClass ? 0 : model.numPrefixTokens;
  let resampled: CheckpointReport['resampled'] = null;
  let owned: tf.Tensor | null = null;
  if (posEmbed && posEmbed.rank === 3 && posEmbed.shape[2] === model.embedDim && posEmbed.shape[1] !== model.posEmbed.shape[1]) {
    const from = options.checkpointGrid ?? squareGrid(posEmbed.shape[1]! - prefix);
    const to: [number, number] = [model.grid[0], model.grid[1]];
    owned = resamplePositionEmbedding(posEmbed, from, to, { prefixTokens: prefix, mode: 'bicubic' });
    converted['pos_embed'] = owned;
    resampled = { from: [from[0], from[1]], to };
  }
  try {
    const report = model.loadStateDict(converted, { strict: options.strict ?? true, context: 'checkpoint' });
    const notes = resampled
      ? [`pos_embed resampled bicubically from a ${resampled.from.join('x')} to a ${resampled.to.join('x')} patch grid`]
      : [];
    return { ...report, resampled, notes };
  } finally {
    owned?.dispose();
  }
}
