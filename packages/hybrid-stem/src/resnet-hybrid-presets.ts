// The ResNet hybrids under timm 0.6.13's names (vision_transformer_hybrid.py),
// each with the architecture it picks and timm's default config (mean/std 0.5,
// bicubic, crop 0.9 at 224 and 1.0 at 384), the reference counts and top-1
// from ../shared/tables/reference-models.json (copied as data; a test checks
// them against the table), and a micro model for 32x32 experiments.
import { INCEPTION_MEAN, INCEPTION_STD, type ModelDefaults, microDefaults, type ReferenceFigures } from '@vitkit/core';
import { VIT_PAPER } from '@vitkit/vit';
import type { ResNetHybridOptions } from './resnet-hybrid.js';

export const TIMM_HYBRID =
  'timm 0.6.13 timm.models.vision_transformer_hybrid: VisionTransformer with HybridEmbed over ResNetV2 (preact=False)';

export interface ResNetHybridPreset {
  name: string;
  /** The architecture at the default input size and class count. */
  config: ResNetHybridOptions & { imgSize: number; numClasses: number; inChannels: number };
  defaults: ModelDefaults;
}

const IN21K_FT = (name: string) => `timm results-imagenet.csv, ${name} (ImageNet-21k pretrained, fine-tuned on ImageNet-1k)`;

const FIGURES: Record<string, ReferenceFigures> = {
  vit_tiny_r_s16_p8_224: {
    params: 6337704,
    macs: 433681920,
    paperParamsM: 6.34,
    paperGflops: 0.43,
    paperTop1: 71.8,
    paperTop1Source: IN21K_FT('vit_tiny_r_s16_p8_224.augreg_in21k_ft_in1k'),
  },
  vit_tiny_r_s16_p8_384: {
    params: 6355944,
    macs: 1326858240,
    paperParamsM: 6.36,
    paperGflops: 1.33,
    paperTop1: 75.962,
    paperTop1Source: IN21K_FT('vit_tiny_r_s16_p8_384.augreg_in21k_ft_in1k'),
  },
  vit_small_r26_s32_224: {
    params: 36431912,
    macs: 3463851008,
    paperParamsM: 36.43,
    paperGflops: 3.46,
    paperTop1: 81.856,
    paperTop1Source: IN21K_FT('vit_small_r26_s32_224.augreg_in21k_ft_in1k'),
  },
  vit_small_r26_s32_384: {
    params: 36468392,
    macs: 10263625728,
    paperParamsM: 36.47,
    paperGflops: 10.26,
    paperTop1: 84.066,
    paperTop1Source: IN21K_FT('vit_small_r26_s32_384.augreg_in21k_ft_in1k'),
  },
  vit_base_r26_s32_224: {
    params: 101383976,
    macs: 6710859776,
    paperParamsM: 101.38,
    paperGflops: 6.71,
    paperTop1: null,
    paperTop1Source: null,
  },
  vit_base_r50_s16_224: {
    params: 98659112,
    macs: 21535358976,
    paperParamsM: null,
    paperGflops: 21.67,
    paperTop1: null,
    paperTop1Source: null,
  },
  vit_base_r50_s16_384: {
    params: 98950952,
    macs: 67155787776,
    paperParamsM: 98.95,
    paperGflops: 67.16,
    paperTop1: 84.988,
    paperTop1Source: IN21K_FT('vit_base_r50_s16_384.orig_in21k_ft_in1k'),
  },
  vit_large_r50_s32_224: {
    params: 328994856,
    macs: 19413295104,
    paperParamsM: 328.99,
    paperGflops: 19.41,
    paperTop1: 84.434,
    paperTop1Source: IN21K_FT('vit_large_r50_s32_224.augreg_in21k_ft_in1k'),
  },
  vit_large_r50_s32_384: {
    params: 329092136,
    macs: 57136144384,
    paperParamsM: 329.09,
    paperGflops: 57.14,
    paperTop1: 86.188,
    paperTop1Source: IN21K_FT('vit_large_r50_s32_384.augreg_in21k_ft_in1k'),
  },
};

const WIDTHS = {
  tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  small: { embedDim: 384, depth: 12, numHeads: 6 },
  base: { embedDim: 768, depth: 12, numHeads: 12 },
  large: { embedDim: 1024, depth: 24, numHeads: 16 },
} as const;

// The ResNet of each name: R26 and R50 are ResNetV2 with those stages (and
// timm's default widths and 64-wide stem); "r" alone is the stem without stages.
const BACKBONES = {
  r: { layers: [] },
  r26: { layers: [2, 2, 2, 2] },
  r50s16: { layers: [3, 4, 9] },
  r50s32: { layers: [3, 4, 6, 3] },
} as const;

function timmHybrid(
  name: string,
  width: keyof typeof WIDTHS,
  backbone: keyof typeof BACKBONES,
  imgSize: 224 | 384,
  patchSize = 1,
): ResNetHybridPreset {
  return {
    name,
    config: {
      ...WIDTHS[width],
      backbone: { layers: [...BACKBONES[backbone].layers] },
      patchSize,
      imgSize,
      inChannels: 3,
      numClasses: 1000,
      eps: 1e-6,
    },
    defaults: {
      family: 'hybrid-stem',
      imgSize,
      inChannels: 3,
      numClasses: 1000,
      mean: INCEPTION_MEAN,
      std: INCEPTION_STD,
      cropPct: imgSize === 384 ? 1.0 : 0.9,
      interpolation: 'bicubic',
      implementation: TIMM_HYBRID,
      paper: VIT_PAPER,
      figures: { reference: `timm/${name}`, macsExact: true, ...FIGURES[name] },
    },
  };
}

/**
 * vit_hybrid_micro_32: the hybrid at the scale of the other micro models. The
 * ResNetV2 stem (32 channels) takes a 32x32 image to 8x8, one bottleneck stage
 * of width 128 keeps that grid, and one token per cell feeds a ViT of width
 * 64, depth 3 and 4 heads: the 8x8 token grid and transformer of vit_micro_32.
 * Started as the other micro models (position embedding at std 1, mimetic
 * attention), for short runs from scratch.
 */
const MICRO: ResNetHybridPreset = {
  name: 'vit_hybrid_micro_32',
  config: {
    imgSize: 32,
    inChannels: 3,
    numClasses: 10,
    backbone: { layers: [1], channels: [128], stemChannels: 32 },
    patchSize: 1,
    embedDim: 64,
    depth: 3,
    numHeads: 4,
    mlpRatio: 4,
    eps: 1e-6,
    posEmbedInitStd: 1,
    attentionInit: 'mimetic',
  },
  defaults: microDefaults({ family: 'hybrid-stem', interpolation: 'bicubic', implementation: TIMM_HYBRID, paper: VIT_PAPER }),
};

export const RESNET_HYBRID_PRESETS: ResNetHybridPreset[] = [
  timmHybrid('vit_tiny_r_s16_p8_224', 'tiny', 'r', 224, 8),
  timmHybrid('vit_tiny_r_s16_p8_384', 'tiny', 'r', 384, 8),
  timmHybrid('vit_small_r26_s32_224', 'small', 'r26', 224),
  timmHybrid('vit_small_r26_s32_384', 'small', 'r26', 384),
  timmHybrid('vit_base_r26_s32_224', 'base', 'r26', 224),
  timmHybrid('vit_base_r50_s16_224', 'base', 'r50s16', 224),
  timmHybrid('vit_base_r50_s16_384', 'base', 'r50s16', 384),
  timmHybrid('vit_large_r50_s32_224', 'large', 'r50s32', 224),
  timmHybrid('vit_large_r50_s32_384', 'large', 'r50s32', 384),
  MICRO,
];
