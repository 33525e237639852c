// Registers the ResNet hybrids and the timm hybrid reference adapter (importing the package does this).
import { type CreateOptions, declareOptions, presetValue, registerModel, registerReferenceAdapter } from '@vitkit/core';
import { VIT_OPTIONS } from '@vitkit/vit';
import type { ResNetHybridOptions } from './resnet-hybrid.js';
import { createResNetHybrid, resNetHybridCost } from './resnet-hybrid.js';
import { RESNET_HYBRID_PRESETS, type ResNetHybridPreset } from './resnet-hybrid-presets.js';
import type { ResNetV2Config } from './resnet-v2.js';
import { timmHybridReferenceAdapter } from './timm-hybrid-adapter.js';

const v = VIT_OPTIONS.defaults;

/**
 * What `createModel` accepts for a ResNet hybrid: the VisionTransformer
 * options that apply to it, `backbone` (a whole ResNetV2Config) and
 * `patchSize`, which cuts the backbone's feature map (timm's hybrid default 1).
 */
export const RESNET_HYBRID_OPTIONS = declareOptions('ResNet hybrid', {
  numClasses: v.numClasses,
  imgSize: v.imgSize,
  inChannels: v.inChannels,
  dropRate: v.dropRate,
  attnDropRate: v.attnDropRate,
  dropPathRate: v.dropPathRate,
  embedDim: v.embedDim,
  depth: v.depth,
  numHeads: v.numHeads,
  mlpRatio: v.mlpRatio,
  qkvBias: v.qkvBias,
  globalPool: v.globalPool,
  classToken: v.classToken,
  fcNorm: v.fcNorm,
  backbone: presetValue<ResNetV2Config>(),
  patchSize: 1,
});

/** A preset's architecture with the caller's overrides (`undefined` keeps the preset's value). */
export function resNetHybridOptions(preset: ResNetHybridPreset, options: CreateOptions = {}): ResNetHybridOptions {
  return { ...preset.config, ...RESNET_HYBRID_OPTIONS.defined(options, preset.name) };
}

for (const preset of RESNET_HYBRID_PRESETS) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    options: RESNET_HYBRID_OPTIONS,
    create: (options) => createResNetHybrid(resNetHybridOptions(preset, options)),
    cost: (options) => resNetHybridCost(resNetHybridOptions(preset, options)),
  });
}

registerReferenceAdapter(timmHybridReferenceAdapter);
