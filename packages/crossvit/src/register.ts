// Registers every CrossViT preset with the model registry and the family's
// reference adapter (importing the package is enough).
import {
  type CreateOptions,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type ModelDefaults,
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

/** Options `createModel` accepts for a CrossViT beyond the common ones. */
export interface CrossViTCreateOptions extends CreateOptions {
  /** Image size of each branch; by default derived from `imgSize` (see `configFromOptions`). */
  branchImgSize?: number[];
  /** Encoder layout, e.g. [[1, 1, 0]] to shrink a model for a test. */
  depth?: number[][];
  attnDropRate?: number;
  qkScale?: number | null;
}

const KNOWN_OPTIONS = new Set([
  'numClasses',
  'imgSize',
  'inChannels',
  'dropRate',
  'dropPathRate',
  'branchImgSize',
  'depth',
  'attnDropRate',
  'qkScale',
]);

/**
 * A preset's configuration with options applied. `imgSize` sets the input and
 * the first branch's size; every other branch keeps its size ratio to the
 * first, rounded down to a multiple of its patch size (240 -> 224 at the
 * published size, 48 -> 32 for a tiny test), unless `branchImgSize` says.
 */
export function configFromOptions(base: CrossViTConfig, options: CrossViTCreateOptions = {}): CrossViTConfig {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new Error(`CrossViT: unknown option '${key}' (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  let imgSize = options.branchImgSize ?? base.imgSize;
  if (options.imgSize !== undefined && !options.branchImgSize) {
    const s = options.imgSize;
    imgSize = base.imgSize.map((b, i) => {
      if (i === 0) return s;
      const p = base.patchSize[i]!;
      return Math.max(p, Math.floor((s * b) / base.imgSize[0]! / p) * p);
    });
  }
  return {
    ...base,
    imgSize,
    numClasses: options.numClasses ?? base.numClasses,
    inChannels: options.inChannels ?? base.inChannels,
    dropRate: options.dropRate ?? base.dropRate,
    dropPathRate: options.dropPathRate ?? base.dropPathRate,
    attnDropRate: options.attnDropRate ?? base.attnDropRate,
    qkScale: options.qkScale !== undefined ? options.qkScale : base.qkScale,
    depth: options.depth ?? base.depth,
  };
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
    create: (options) => new CrossViT(configFromOptions(c, options)),
    cost: (options) => CrossViT.cost(configFromOptions(c, options)),
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
