// Registers every CrossViT preset with the model registry and the family's
// reference adapter (importing the package is enough).
import {
  declareOptions,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelDefaults,
  type OptionsOf,
  presetValue,
  registerModel,
  registerReferenceAdapter,
  registerTimmArgs,
} from '@vitkit/core';
import { CrossViT, type CrossViTConfig } from './crossvit.js';
import { type CrossViTPreset, MICRO_DEFAULTS, MICRO_PRESET, PRESETS } from './presets.js';
import { crossvitReferenceAdapter } from './reference-adapter.js';
import { CROSSVIT_TIMM_ARGS } from './timm-args.js';

const PAPER =
  'CrossViT: Cross-Attention Multi-Scale Vision Transformer for Image Classification (Chen, Fan, Panda; ICCV 2021) https://arxiv.org/abs/2103.14899';

/**
 * What `createModel('crossvit_*', options)` accepts, each defaulting to the
 * preset's value (an undefined one too).
 */
export const CROSSVIT_OPTIONS = declareOptions('CrossViT', {
  numClasses: presetValue<number>(),
  /** The input size, and the first branch's; the other branches keep their ratio to it (see `configFromOptions`). */
  imgSize: presetValue<number>(),
  inChannels: presetValue<number>(),
  dropRate: presetValue<number>(),
  dropPathRate: presetValue<number>(),
  /** Image size of each branch; by default derived from `imgSize`. */
  branchImgSize: presetValue<number[]>(),
  /** Encoder layout, e.g. [[1, 1, 0]] to shrink a model for a test. */
  depth: presetValue<number[][]>(),
  attnDropRate: presetValue<number>(),
  qkScale: presetValue<number | null>(),
});

export type CrossViTCreateOptions = OptionsOf<typeof CROSSVIT_OPTIONS.defaults>;

/**
 * A preset's configuration with options applied. `imgSize` sets the input and
 * the first branch's size; every other branch keeps its size ratio to the
 * first, rounded down to a multiple of its patch size (240 -> 224 at the
 * published size, 48 -> 32 for a tiny test), unless `branchImgSize` says.
 */
export function configFromOptions(base: CrossViTConfig, given: CrossViTCreateOptions = {}, context = 'CrossViT'): CrossViTConfig {
  const { imgSize: size, branchImgSize, ...rest } = CROSSVIT_OPTIONS.defined(given, context);
  let imgSize = branchImgSize ?? base.imgSize;
  if (size !== undefined && !branchImgSize) {
    imgSize = base.imgSize.map((b, i) => {
      if (i === 0) return size;
      const p = base.patchSize[i]!;
      return Math.max(p, Math.floor((size * b) / base.imgSize[0]! / p) * p);
    });
  }
  return { ...base, ...rest, imgSize };
}

function register(
  preset: CrossViTPreset,
  defaults: Omit<ModelDefaults, 'family' | 'imgSize' | 'inChannels' | 'numClasses' | 'paper' | 'figures'>,
): void {
  const c = preset.config;
  registerModel({
    name: preset.name,
    defaults: {
      family: 'crossvit',
      imgSize: c.imgSize[0]!,
      inChannels: c.inChannels,
      numClasses: c.numClasses,
      paper: PAPER,
      figures: preset.figures,
      ...defaults,
    },
    options: CROSSVIT_OPTIONS,
    create: (options) => new CrossViT(configFromOptions(c, options, preset.name)),
    cost: (options) => CrossViT.cost(configFromOptions(c, options, preset.name)),
  });
}

for (const preset of PRESETS) {
  register(preset, {
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    cropPct: 0.875,
    interpolation: 'bicubic',
    implementation: 'IBM/CrossViT models/crossvit.py (timm crossvit.py renames pos_embed.i/cls_token.i to pos_embed_i/cls_token_i)',
  });
}
register(MICRO_PRESET, MICRO_DEFAULTS);

registerReferenceAdapter(crossvitReferenceAdapter);
registerTimmArgs('crossvit', CROSSVIT_TIMM_ARGS);
