// Registers the ResNet hybrids and the timm hybrid reference adapter (importing the package does this).
import { type CreateOptions, registerModel, registerReferenceAdapter } from '@vitkit/core';
import type { ResNetHybridOptions } from './resnet-hybrid.js';
import { createResNetHybrid, resNetHybridCost } from './resnet-hybrid.js';
import { RESNET_HYBRID_PRESETS, type ResNetHybridPreset } from './resnet-hybrid-presets.js';
import { timmHybridReferenceAdapter } from './timm-hybrid-adapter.js';

/** What `createModel` may change; `backbone` is a whole ResNetV2Config and `patchSize` cuts its feature map. */
const OPTION_NAMES = [
  'numClasses',
  'imgSize',
  'inChannels',
  'dropRate',
  'attnDropRate',
  'dropPathRate',
  'embedDim',
  'depth',
  'numHeads',
  'mlpRatio',
  'qkvBias',
  'globalPool',
  'classToken',
  'fcNorm',
  'backbone',
  'patchSize',
] as const;

/** A preset's architecture with the caller's overrides; an unknown option is an error, not a silent no-op. */
export function resNetHybridOptions(preset: ResNetHybridPreset, options: CreateOptions = {}): ResNetHybridOptions {
  const known: readonly string[] = OPTION_NAMES;
  const unknown = Object.keys(options).filter((k) => options[k] !== undefined && !known.includes(k));
  if (unknown.length) throw new Error(`${preset.name}: unknown option(s) ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...preset.config, ...defined };
}

for (const preset of RESNET_HYBRID_PRESETS) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    create: (options) => createResNetHybrid(resNetHybridOptions(preset, options)),
    cost: (options) => resNetHybridCost(resNetHybridOptions(preset, options)),
  });
}

registerReferenceAdapter(timmHybridReferenceAdapter);
