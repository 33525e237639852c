// How `loadWeights`, `vitkit parity` and the parity tests reach CrossViT: the official
// VisionTransformer's keyword arguments, checkpoints with official or timm
// names, the per-branch position embeddings, and the reference sub-module outputs.
import type * as tf from '@tensorflow/tfjs-core';
import { type ImageClassifier, type ReferenceAdapter, type StateDict, squarePositionEmbeddings } from '@vitkit/core';
import { CrossViT, type CrossViTConfig } from './crossvit.js';

type Args = Record<string, unknown>;

/**
 * IBM/CrossViT `VisionTransformer.__init__` keyword arguments and their
 * defaults there. `norm_layer` is a Python callable and cannot travel in JSON:
 * its LayerNorm epsilon is `norm_eps` here, 1e-6 by default as in every
 * published entry point (partial(nn.LayerNorm, eps=1e-6)) and the fixtures.
 */
const DEFAULTS: Args = {
  img_size: [224, 224],
  patch_size: [8, 16],
  in_chans: 3,
  num_classes: 1000,
  embed_dim: [192, 384],
  depth: [
    [1, 3, 1],
    [1, 3, 1],
    [1, 3, 1],
  ],
  num_heads: [6, 12],
  mlp_ratio: [2, 2, 4],
  qkv_bias: false,
  qk_scale: null,
  drop_rate: 0,
  attn_drop_rate: 0,
  drop_path_rate: 0,
  hybrid_backbone: null,
  multi_conv: false,
  norm_eps: 1e-6,
};

function fail(arg: string, why: string): never {
  throw new Error(`crossvit reference args: '${arg}' ${why}`);
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function numberArg(args: Args, key: string): number {
  const v = args[key];
  if (!isNumber(v)) fail(key, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function intArg(args: Args, key: string): number {
  const v = numberArg(args, key);
  if (!Number.isInteger(v)) fail(key, `must be an integer, got ${v}`);
  return v;
}

function boolArg(args: Args, key: string): boolean {
  const v = args[key];
  if (typeof v !== 'boolean') fail(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function numberList(args: Args, key: string): number[] {
  const v = args[key];
  if (!Array.isArray(v) || !v.every(isNumber)) fail(key, `must be a list of numbers, got ${JSON.stringify(v)}`);
  return v as number[];
}

/** The model config the reference constructor's keyword arguments describe. */
export function configFromReferenceArgs(given: Args): CrossViTConfig {
  for (const key of Object.keys(given)) {
    if (key === 'norm_layer') fail(key, 'is a Python callable; give its LayerNorm epsilon as norm_eps');
    if (!(key in DEFAULTS)) fail(key, `is not an argument of IBM/CrossViT VisionTransformer (known: ${Object.keys(DEFAULTS).join(', ')})`);
  }
  const args: Args = { ...DEFAULTS, ...given };
  if (args['hybrid_backbone'] !== null) fail('hybrid_backbone', 'is not supported (only the patch embeddings, not the T2T stems)');
  // The reference applies to_2tuple to anything that is not a list.
  const imgSize = isNumber(args['img_size']) ? [args['img_size'], args['img_size']] : numberList(args, 'img_size');
  const depth = args['depth'];
  if (!Array.isArray(depth) || !depth.every((s) => Array.isArray(s) && s.every(isNumber))) {
    fail('depth', `must be a list of per-encoder lists, got ${JSON.stringify(depth)}`);
  }
  const qkScale = args['qk_scale'];
  if (qkScale !== null && !isNumber(qkScale)) fail('qk_scale', `must be a number or null, got ${JSON.stringify(qkScale)}`);
  return {
    imgSize,
    patchSize: numberList(args, 'patch_size'),
    inChannels: intArg(args, 'in_chans'),
    numClasses: intArg(args, 'num_classes'),
    embedDim: numberList(args, 'embed_dim'),
    depth: depth as number[][],
    numHeads: numberList(args, 'num_heads'),
    mlpRatio: numberList(args, 'mlp_ratio'),
    qkvBias: boolArg(args, 'qkv_bias'),
    qkScale,
    multiConv: boolArg(args, 'multi_conv'),
    dropRate: numberArg(args, 'drop_rate'),
    attnDropRate: numberArg(args, 'attn_drop_rate'),
    dropPathRate: numberArg(args, 'drop_path_rate'),
    eps: numberArg(args, 'norm_eps'),
  };
}

/** timm keeps the per-branch tokens as plain attributes: `cls_token_0`, `pos_embed_1`. */
const TIMM_TOKEN_KEY = /^(cls_token|pos_embed)_(\d+)$/;

/** A checkpoint with official or timm names, renamed to the official ones (tensors shared). */
export function convertCrossViTStateDict(sd: StateDict): StateDict {
  const out: StateDict = {};
  for (const [key, t] of Object.entries(sd)) {
    const m = TIMM_TOKEN_KEY.exec(key);
    out[m ? `${m[1]}.${m[2]}` : key] = t;
  }
  return out;
}

export const crossvitReferenceAdapter: ReferenceAdapter = {
  family: 'crossvit',
  fromReferenceConfig: (args) => new CrossViT(configFromReferenceArgs(args)),
  convertStateDict: convertCrossViTStateDict,
  // One embedding per branch (`pos_embed.0`, `pos_embed.1`), each its class token and a square patch grid.
  positionEmbeddings: (model) => squarePositionEmbeddings(model, 1),
  forwardWithIntermediates(model: ImageClassifier, x: tf.Tensor4D) {
    if (!(model instanceof CrossViT)) throw new Error('crossvit adapter: the model is not a CrossViT');
    return model.forwardWithIntermediates(x);
  },
};
