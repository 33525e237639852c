// pycls checkpoint names <-> this package's names, in both directions, so
// weights trained with pycls load here and weights trained here load in pycls.
// pycls' ViT (the version the parity fixtures come from) runs sequence-first:
// its position embedding is [N, 1, C], ours [1, N, C].
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@vitkit/core';

/** [pycls pattern, our name] pairs; `$1` is a block index. Anything else keeps its name. */
const RENAMES: [string, string][] = [
  ['stem.patchify.', 'patch_embed.proj.'],
  // cstem{i}_conv, cstem{i}_bn, cstem_last_conv: ConvStem keeps pycls' names.
  ['stem.', 'patch_embed.'],
  ['class_token', 'cls_token'],
  ['pos_embedding', 'pos_embed'],
  ['encoder.block_$1.ln_1.', 'blocks.$1.norm1.'],
  ['encoder.block_$1.ln_2.', 'blocks.$1.norm2.'],
  // torch.nn.MultiheadAttention stacks q, k, v in in_proj ([3C, C], heads contiguous
  // inside each), which is exactly the row order of a fused qkv Linear.
  ['encoder.block_$1.self_attention.block.in_proj_weight', 'blocks.$1.attn.qkv.weight'],
  ['encoder.block_$1.self_attention.block.in_proj_bias', 'blocks.$1.attn.qkv.bias'],
  ['encoder.block_$1.self_attention.block.out_proj.', 'blocks.$1.attn.proj.'],
  ['encoder.block_$1.mlp_block.linear_1.', 'blocks.$1.mlp.fc1.'],
  ['encoder.block_$1.mlp_block.linear_2.', 'blocks.$1.mlp.fc2.'],
  ['encoder.ln.', 'norm.'],
  ['head.head_fc.', 'head.'],
];

type Rule = { from: RegExp; to: string };

function compile(from: string, to: string): Rule {
  const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\$1', '(\\d+)');
  return { from: new RegExp(`^${escaped}`), to };
}

const TO_OURS = RENAMES.map(([pycls, ours]) => compile(pycls, ours));
const TO_PYCLS = RENAMES.map(([pycls, ours]) => compile(ours, pycls));

function rename(key: string, rules: Rule[]): string {
  for (const { from, to } of rules) if (from.test(key)) return key.replace(from, to);
  return key;
}

/**
 * A pycls ViT state dict under this package's names (still PyTorch layouts).
 * Tensors are shared, except the position embedding, which is reshaped from
 * pycls' sequence-first [N, 1, C] to [1, N, C] (a new tensor the caller owns).
 */
export function fromPyclsStateDict(sd: StateDict): StateDict {
  const out: StateDict = {};
  for (const [key, t] of Object.entries(sd)) {
    const name = rename(key, TO_OURS);
    const seqFirst = name === 'pos_embed' && t.rank === 3 && t.shape[1] === 1 && t.shape[0] !== 1;
    out[name] = seqFirst ? tf.reshape(t, [1, t.shape[0]!, t.shape[2]!]) : t;
  }
  return out;
}

/**
 * This package's state dict under pycls' names, with the position embedding
 * sequence-first [N, 1, C] as pycls' ViT keeps it (a new tensor the caller owns).
 */
export function toPyclsStateDict(sd: StateDict): StateDict {
  const out: StateDict = {};
  for (const [key, t] of Object.entries(sd)) {
    const name = rename(key, TO_PYCLS);
    out[name] = key === 'pos_embed' && t.rank === 3 ? tf.reshape(t, [t.shape[1]!, 1, t.shape[2]!]) : t;
  }
  return out;
}
