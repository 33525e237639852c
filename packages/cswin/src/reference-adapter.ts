// How the official CSWin code maps onto this package: its constructor's
// keyword arguments, its checkpoint names (identical here) and its
// sub-module outputs, for the parity tests and `vitkit parity`.
import type * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier, ReferenceAdapter, StateDict } from '@vitkit/core';
import { type CSWinConfig, CSWinTransformer } from './cswin-transformer.js';

type Kwargs = Record<string, unknown>;

/** The official CSWinTransformer constructor's defaults. */
const DEFAULTS: Kwargs = {
  img_size: 224,
  patch_size: 16,
  in_chans: 3,
  num_classes: 1000,
  embed_dim: 96,
  depth: [2, 2, 6, 2],
  split_size: [3, 5, 7],
  num_heads: 12,
  mlp_ratio: 4,
  qkv_bias: true,
  qk_scale: null,
  drop_rate: 0,
  attn_drop_rate: 0,
  drop_path_rate: 0,
  hybrid_backbone: null,
  norm_layer: null,
  use_chk: false,
};

function int(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`CSWin reference argument ${name}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function rate(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1))
    throw new Error(`CSWin reference argument ${name}: expected a rate in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

function intList(name: string, v: unknown, lengths: number[], why: string): number[] {
  if (!Array.isArray(v) || !lengths.includes(v.length)) {
    throw new Error(
      `CSWin reference argument ${name}: expected a list of ${lengths.join(' or ')} integers (${why}), got ${JSON.stringify(v)}`,
    );
  }
  return v.map((x, i) => int(`${name}[${i}]`, x, 1));
}

/**
 * A CSWinConfig from the official constructor's keyword arguments (any the
 * constructor accepts; an unknown or unsupported one is an error naming it).
 * `patch_size` and `use_chk` do not change the model (the stem is always a
 * 7x7 stride-4 convolution; use_chk is gradient checkpointing) and are accepted.
 */
export function configFromReference(args: Kwargs): CSWinConfig {
  const unknown = Object.keys(args).filter((k) => !(k in DEFAULTS));
  if (unknown.length) {
    throw new Error(`CSWin reference arguments not understood: ${unknown.join(', ')} (known: ${Object.keys(DEFAULTS).join(', ')})`);
  }
  const a = { ...DEFAULTS, ...args };
  for (const key of ['hybrid_backbone', 'norm_layer'] as const) {
    if (a[key] !== null) throw new Error(`CSWin reference argument ${key} is not supported (only the default)`);
  }
  int('patch_size', a['patch_size'], 1);
  if (typeof a['use_chk'] !== 'boolean') throw new Error(`CSWin reference argument use_chk: expected a boolean`);
  if (typeof a['qkv_bias'] !== 'boolean') throw new Error(`CSWin reference argument qkv_bias: expected a boolean`);
  const qkScale = a['qk_scale'];
  if (qkScale !== null && typeof qkScale !== 'number') throw new Error(`CSWin reference argument qk_scale: expected null or a number`);
  const mlpRatio = a['mlp_ratio'];
  if (typeof mlpRatio !== 'number' || !(mlpRatio > 0)) throw new Error(`CSWin reference argument mlp_ratio: expected a positive number`);
  // The reference reads split_size[0], [1], [2] for stages 1-3 and split_size[-1] for stage 4.
  const split = intList('split_size', a['split_size'], [3, 4], 'stages 1-3 use the first three, stage 4 the last');
  return {
    imgSize: int('img_size', a['img_size'], 1),
    inChannels: int('in_chans', a['in_chans'], 1),
    numClasses: int('num_classes', a['num_classes'], 0),
    embedDim: int('embed_dim', a['embed_dim'], 1),
    depths: intList('depth', a['depth'], [4], 'one per stage'),
    numHeads: intList('num_heads', a['num_heads'], [4], 'one per stage; the reference indexes it per stage'),
    splitSize: [split[0]!, split[1]!, split[2]!, split[split.length - 1]!],
    mlpRatio,
    qkvBias: a['qkv_bias'] as boolean,
    qkScale,
    dropRate: rate('drop_rate', a['drop_rate']),
    attnDropRate: rate('attn_drop_rate', a['attn_drop_rate']),
    dropPathRate: rate('drop_path_rate', a['drop_path_rate']),
  };
}

export const cswinReferenceAdapter: ReferenceAdapter = {
  family: 'cswin',
  fromReferenceConfig: (args) => new CSWinTransformer(configFromReference(args)),
  // Parameter names mirror the official checkpoints exactly.
  convertStateDict: (sd: StateDict) => ({ ...sd }),
  forwardWithIntermediates(model: ImageClassifier, x: tf.Tensor4D) {
    if (!(model instanceof CSWinTransformer)) throw new Error(`cswin adapter: expected a CSWinTransformer, got ${model.constructor.name}`);
    return model.forwardWithIntermediates(x);
  },
};
