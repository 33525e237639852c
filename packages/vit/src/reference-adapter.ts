// The bridge to timm 0.6.13's VisionTransformer: the model its constructor's
// keyword arguments describe, its checkpoint names (ours already), its
// position embedding, and the sub-module outputs the parity fixtures record.
// `loadWeights` and the parity tests reach ViT/DeiT through this adapter only.
import type * as tf from '@tensorflow/tfjs-core';
import type { GlobalPool, ImageClassifier, ReferenceAdapter } from '@vitkit/core';
import { VisionTransformer, type VisionTransformerOptions } from './vision-transformer.js';

type Kwargs = Record<string, unknown>;

function fail(name: string, why: string): never {
  throw new Error(`vit reference config: ${name} ${why}`);
}

function int(args: Kwargs, name: string, min: number): number {
  const v = args[name];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(name, `must be a whole number >= ${min} (got ${JSON.stringify(v)})`);
  return v;
}

function num(args: Kwargs, name: string, check: (v: number) => boolean, range: string): number {
  const v = args[name];
  if (typeof v !== 'number' || !check(v)) fail(name, `must be a number ${range} (got ${JSON.stringify(v)})`);
  return v;
}

function bool(args: Kwargs, name: string): boolean {
  const v = args[name];
  if (typeof v !== 'boolean') fail(name, `must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

/** An int or a pair of ints, as timm's to_2tuple accepts. */
function size(args: Kwargs, name: string): [number, number] {
  const v = args[name];
  const pair = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
    fail(name, `must be a positive whole number or a pair of them (got ${JSON.stringify(v)})`);
  }
  return [pair[0], pair[1]];
}

function isNone(v: unknown): boolean {
  return v === null || v === undefined || v === 'None';
}

/** Arguments that pick Python classes: only their defaults can be expressed here. */
const CLASS_ARGS = ['embed_layer', 'norm_layer', 'act_layer', 'block_fn'];
const WEIGHT_INITS = ['', 'jax', 'jax_nlhb', 'moco', 'skip'];

/** How each timm keyword argument sets VisionTransformerOptions (an error names the argument it rejects). */
const KWARGS: Record<string, (args: Kwargs, o: VisionTransformerOptions) => void> = {
  img_size: (a, o) => {
    o.imgSize = size(a, 'img_size');
  },
  patch_size: (a, o) => {
    const [ph, pw] = size(a, 'patch_size');
    if (ph !== pw) fail('patch_size', `must be square here (got ${ph}x${pw})`);
    o.patchSize = ph;
  },
  in_chans: (a, o) => {
    o.inChannels = int(a, 'in_chans', 1);
  },
  num_classes: (a, o) => {
    o.numClasses = int(a, 'num_classes', 0);
  },
  global_pool: (a, o) => {
    const v = a['global_pool'];
    if (v !== 'token' && v !== 'avg')
      fail(
        'global_pool',
        `must be 'token' or 'avg' (got ${JSON.stringify(v)}; '' would give per-token logits, which a classifier does not)`,
      );
    o.globalPool = v as GlobalPool;
  },
  embed_dim: (a, o) => {
    o.embedDim = int(a, 'embed_dim', 1);
  },
  depth: (a, o) => {
    o.depth = int(a, 'depth', 0);
  },
  num_heads: (a, o) => {
    o.numHeads = int(a, 'num_heads', 1);
  },
  mlp_ratio: (a, o) => {
    o.mlpRatio = num(a, 'mlp_ratio', (v) => v > 0, '> 0');
  },
  qkv_bias: (a, o) => {
    o.qkvBias = bool(a, 'qkv_bias');
  },
  init_values: (a) => {
    if (!isNone(a['init_values']))
      fail('init_values', `(LayerScale) is not supported by @vitkit/vit (got ${JSON.stringify(a['init_values'])}; only None)`);
  },
  class_token: (a, o) => {
    o.classToken = bool(a, 'class_token');
  },
  no_embed_class: (a, o) => {
    o.noEmbedClass = bool(a, 'no_embed_class');
  },
  pre_norm: (a) => {
    if (bool(a, 'pre_norm'))
      fail('pre_norm', 'true (a norm before the blocks and a patch embedding without bias) is not supported by @vitkit/vit');
  },
  fc_norm: (a, o) => {
    o.fcNorm = isNone(a['fc_norm']) ? null : bool(a, 'fc_norm');
  },
  representation_size: (a, o) => {
    // Removed from timm's constructor in 0.6; older checkpoints (pre_logits.fc) still use it.
    o.representationSize = isNone(a['representation_size']) ? null : int(a, 'representation_size', 0);
  },
  drop_rate: (a, o) => {
    o.dropRate = num(a, 'drop_rate', (v) => v >= 0 && v < 1, 'in [0, 1)');
  },
  attn_drop_rate: (a, o) => {
    o.attnDropRate = num(a, 'attn_drop_rate', (v) => v >= 0 && v < 1, 'in [0, 1)');
  },
  drop_path_rate: (a, o) => {
    o.dropPathRate = num(a, 'drop_path_rate', (v) => v >= 0 && v < 1, 'in [0, 1)');
  },
  weight_init: (a) => {
    // Only the initial values depend on it, and a loaded checkpoint replaces them.
    if (!WEIGHT_INITS.includes(a['weight_init'] as string))
      fail('weight_init', `must be one of ${WEIGHT_INITS.map((w) => `'${w}'`).join(', ')} (got ${JSON.stringify(a['weight_init'])})`);
  },
  ...Object.fromEntries(
    CLASS_ARGS.map((name) => [
      name,
      (a: Kwargs) => {
        if (!isNone(a[name]))
          fail(
            name,
            `only its default (None) is supported (got ${JSON.stringify(a[name])}); a custom token embedder goes in VisionTransformerOptions.embedLayer`,
          );
      },
    ]),
  ),
};

/** The VisionTransformerOptions timm's constructor keyword arguments describe. */
export function optionsFromTimmKwargs(args: Kwargs): VisionTransformerOptions {
  const unknown = Object.keys(args).filter((k) => !(k in KWARGS));
  if (unknown.length) {
    throw new Error(
      `vit reference config: unknown timm VisionTransformer argument(s) ${unknown.join(', ')} (accepted: ${Object.keys(KWARGS).join(', ')})`,
    );
  }
  // timm's own defaults, with its LayerNorm eps of 1e-6 (norm_layer=None).
  const options: VisionTransformerOptions = { eps: 1e-6 };
  for (const name of Object.keys(args)) KWARGS[name]!(args, options);
  return options;
}

function asVit(model: ImageClassifier): VisionTransformer {
  if (!(model instanceof VisionTransformer))
    throw new Error(`vit reference adapter: expected a VisionTransformer, got ${model.constructor.name}`);
  return model;
}

export const vitReferenceAdapter: ReferenceAdapter = {
  family: 'vit',
  fromReferenceConfig: (args) => new VisionTransformer(optionsFromTimmKwargs(args)),
  // timm's names are this package's names.
  convertStateDict: (sd) => ({ ...sd }),
  positionEmbeddings(model) {
    const vit = asVit(model);
    // With no_embed_class the embedding covers only the patches.
    return [{ key: 'pos_embed', prefixTokens: vit.config.noEmbedClass ? 0 : vit.numPrefixTokens, grid: vit.grid }];
  },
  forwardWithIntermediates(model, x) {
    const vitModel = asVit(model);
    const intermediates: Record<string, tf.Tensor> = {};
    const record = (name: string, t: tf.Tensor) => {
      intermediates[name] = t;
    };
    const logits = vitModel.forwardHead(vitModel.forwardFeatures(x, record), { record });
    intermediates['head'] = logits;
    return { logits, intermediates };
  },
};
