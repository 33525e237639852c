// The published CrossViT configurations (IBM/CrossViT `models/crossvit.py`;
// timm names them by their real input size, *_224 -> *_240) and the small
// model the bench trains on MNIST.
import { INCEPTION_MEAN, INCEPTION_STD, type ModelDefaults, type ReferenceFigures } from '@vitkit/core';
import type { CrossViTConfig } from './crossvit.js';

export interface CrossViTPreset {
  name: string;
  config: CrossViTConfig;
  figures: ReferenceFigures;
}

const BASE = {
  inChannels: 3,
  numClasses: 1000,
  qkvBias: true,
  qkScale: null,
  multiConv: false,
  dropRate: 0,
  attnDropRate: 0,
  dropPathRate: 0,
  eps: 1e-6,
} satisfies Partial<CrossViTConfig>;

/** Branches of patch 12 on the 240 px input and patch 16 on it resized to 224 (20x20 and 14x14 patches). */
const PAPER = { imgSize: [240, 224], patchSize: [12, 16] };

function stages(blocks: number): number[][] {
  return [0, 1, 2].map(() => [1, blocks, 0]);
}

function paperModel(
  name: string,
  embedDim: number,
  blocks: number,
  heads: number,
  mlpRatio: number,
  multiConv: boolean,
  figures: ReferenceFigures,
): CrossViTPreset {
  return {
    name,
    config: {
      ...BASE,
      ...PAPER,
      embedDim: [embedDim, 2 * embedDim],
      depth: stages(blocks),
      numHeads: [heads, heads],
      mlpRatio: [mlpRatio, mlpRatio, 1],
      multiConv,
    },
    figures,
  };
}

// Figures copied from ../shared/tables/reference-models.json (a test checks they still agree).
const fig = (
  reference: string,
  params: number,
  macs: number,
  paperParamsM: number,
  paperGflops: number,
  paperTop1: number,
): ReferenceFigures => ({
  reference,
  params,
  macs,
  macsExact: true,
  paperParamsM,
  paperGflops,
  paperTop1,
  paperTop1Source: 'CrossViT Tab.2',
});

export const PRESETS: CrossViTPreset[] = [
  paperModel('crossvit_tiny_240', 96, 4, 3, 4, false, fig('crossvit/crossvit_tiny_224', 7014800, 1562734080, 6.9, 1.6, 73.4)),
  paperModel('crossvit_small_240', 192, 4, 6, 4, false, fig('crossvit/crossvit_small_224', 26856272, 5615557632, 26.7, 5.6, 81.0)),
  paperModel('crossvit_base_240', 384, 4, 12, 4, false, fig('crossvit/crossvit_base_224', 105025232, 21191473152, 104.7, 21.2, 82.2)),
  paperModel('crossvit_9_240', 128, 3, 4, 3, false, fig('crossvit/crossvit_9_224', 8553296, 1840796160, 8.6, 1.8, 73.9)),
  paperModel('crossvit_15_240', 192, 5, 6, 3, false, fig('crossvit/crossvit_15_224', 27528464, 5790571776, 27.4, 5.8, 81.5)),
  paperModel('crossvit_18_240', 224, 6, 7, 3, false, fig('crossvit/crossvit_18_224', 43271408, 9031158528, 43.3, 9.0, 82.5)),
  paperModel('crossvit_9_dagger_240', 128, 3, 4, 3, true, fig('crossvit/crossvit_9_dagger_224', 8776592, 1979049984, 8.8, 2.0, 77.1)),
  paperModel('crossvit_15_dagger_240', 192, 5, 6, 3, true, fig('crossvit/crossvit_15_dagger_224', 28209008, 6112304640, 28.2, 6.1, 82.3)),
  paperModel('crossvit_18_dagger_240', 224, 6, 7, 3, true, fig('crossvit/crossvit_18_dagger_224', 44266976, 9473218944, 44.3, 9.5, 82.8)),
];

/**
 * `crossvit_micro_32`, the bench's small CrossViT for 32x32 images (MNIST on
 * two CPU cores), shaped like crossvit_9 (three encoders of 1 + 3 blocks, the
 * large-patch branch twice as wide) and sized next to vit_micro_32 (patch 4,
 * width 64, depth 3: 12.2 M MACs): a patch-4 branch of width 32 (8x8 patches)
 * and a patch-8 branch of width 64 (4x4 patches), 2 heads each, MLP ratio 4,
 * about 12.2 M MACs. Both branches take the 32 px input as it is: no resize,
 * which would only cost time at this size.
 */
export const MICRO_PRESET: CrossViTPreset = {
  name: 'crossvit_micro_32',
  config: {
    imgSize: [32, 32],
    patchSize: [4, 8],
    inChannels: 3,
    numClasses: 10,
    embedDim: [32, 64],
    depth: [
      [1, 3, 0],
      [1, 3, 0],
      [1, 3, 0],
    ],
    numHeads: [2, 2],
    mlpRatio: [4, 4, 1],
    qkvBias: true,
    qkScale: null,
    multiConv: false,
    dropRate: 0,
    attnDropRate: 0,
    dropPathRate: 0,
    eps: 1e-6,
    // Started as vit_micro_32 (position embedding at std 1, mimetic attention, shifted patch tokens), for short runs from scratch.
    posEmbedInitStd: 1,
    attentionInit: 'mimetic',
    shiftedPatches: true,
  },
  figures: {},
};

export const MICRO_DEFAULTS: Pick<ModelDefaults, 'mean' | 'std' | 'cropPct' | 'interpolation' | 'implementation'> = {
  mean: INCEPTION_MEAN,
  std: INCEPTION_STD,
  cropPct: 1,
  interpolation: 'bicubic',
  implementation: 'vitkit (IBM/CrossViT models/crossvit.py architecture at 32 px; no published weights)',
};
