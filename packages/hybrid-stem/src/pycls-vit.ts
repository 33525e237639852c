/**
 * The Vision Transformer of pycls (facebookresearch/pycls, pycls/models/vit.py),
 * the code of Xiao et al. 2021, "Early Convolutions Help Transformers See
 * Better" (https://arxiv.org/abs/2106.14881), as @vitkit/vit's
 * VisionTransformer with pycls' conventions: a convolutional stem (ViTC) or
 * the patchify convolution (ViTP) as the token embedder, LayerNorm eps 1e-5,
 * an absolute MLP width (mlp_d) and a head on the class token or, for pycls'
 * 'pooled' classifier, on the mean of the normalised tokens.
 *
 * Parameter names are VisionTransformer's (timm's): `patch_embed`,
 * `cls_token`, `pos_embed`, `blocks.{i}.norm1/attn.qkv/attn.proj/norm2/mlp.fc1/mlp.fc2`,
 * `norm`, `head`; the conv stem's children keep pycls' names. pycls
 * checkpoints go through `fromPyclsStateDict` (pycls-checkpoint.ts).
 */
import { declareOptions, type OptionsOf } from '@vitkit/core';
import { VIT_OPTIONS, VisionTransformer, type VisionTransformerOptions } from '@vitkit/vit';
import { type ConvStemConfig, convStemLayer } from './conv-stem.js';

/** pycls' LayerNorm epsilon (torch's default). */
export const PYCLS_LN_EPS = 1e-5;

/** pycls' classifiers as VisionTransformer options: 'token' (the class token) and 'pooled' (no class token, the mean token). */
export const PYCLS_CLASSIFIERS = {
  token: { classToken: true, globalPool: 'token', fcNorm: false },
  pooled: { classToken: false, globalPool: 'avg', fcNorm: false },
} as const satisfies Record<string, VisionTransformerOptions>;

const { embedLayer: _embedLayer, ...vitDefaults } = VIT_OPTIONS.defaults;

/**
 * What the hybrid-stem family's models accept: every VisionTransformer option
 * but `embedLayer`, whose place `stem` takes (null: the patchify convolution
 * of `patchSize`), with pycls' LayerNorm eps 1e-5 (the class-token classifier
 * is VisionTransformer's default too).
 */
export const HYBRID_STEM_OPTIONS = declareOptions('hybrid-stem', {
  ...vitDefaults,
  eps: PYCLS_LN_EPS,
  /** The conv stem (pycls' c_stem_kernels/strides/dims; the last dim is the token width), or null for the patchify stem. */
  stem: null as ConvStemConfig | null,
});

export type HybridStemOptions = OptionsOf<typeof HYBRID_STEM_OPTIONS.defaults>;

/** The VisionTransformer options of a hybrid-stem model: its stem becomes the embed layer. */
export function pyclsViTOptions(options: HybridStemOptions): VisionTransformerOptions {
  const { stem, ...vit } = HYBRID_STEM_OPTIONS.resolve([options]);
  return { ...vit, embedLayer: stem ? convStemLayer(stem) : null };
}

/** A ViTC (conv stem) or ViTP (patchify stem): @vitkit/vit's VisionTransformer. */
export function createPyclsViT(options: HybridStemOptions): VisionTransformer {
  return new VisionTransformer(pyclsViTOptions(options));
}
