// Registers the standard ViT/DeiT configurations and the timm reference
// adapter; importing the package runs this once.
import { type CreateOptions, registerModel, registerReferenceAdapter, registerTimmArgs } from '@vitkit/core';
import { VIT_PRESETS, type VitPreset } from './presets.js';
import { vitReferenceAdapter } from './reference-adapter.js';
import { VIT_TIMM_ARGS } from './timm-args.js';
import { VisionTransformer, type VisionTransformerOptions } from './vision-transformer.js';

const OPTION_NAMES: ReadonlySet<string> = new Set<keyof VisionTransformerOptions>([
  'imgSize',
  'patchSize',
  'inChannels',
  'numClasses',
  'globalPool',
  'embedDim',
  'depth',
  'numHeads',
  'mlpRatio',
  'qkvBias',
  'classToken',
  'noEmbedClass',
  'fcNorm',
  'representationSize',
  'dropRate',
  'attnDropRate',
  'dropPathRate',
  'eps',
  'embedLayer',
]);

/** The preset's architecture with the caller's overrides; an unknown option is an error, not a silent no-op. */
export function presetOptions(preset: VitPreset, options: CreateOptions = {}): VisionTransformerOptions {
  const unknown = Object.keys(options).filter((k) => !OPTION_NAMES.has(k));
  if (unknown.length) {
    throw new Error(`${preset.name}: unknown option(s) ${unknown.join(', ')} (VisionTransformer accepts ${[...OPTION_NAMES].join(', ')})`);
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { numClasses: preset.defaults.numClasses, inChannels: preset.defaults.inChannels, ...preset.architecture, ...defined };
}

for (const preset of VIT_PRESETS) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    create: (options) => new VisionTransformer(presetOptions(preset, options)),
    cost: (options) => VisionTransformer.cost(presetOptions(preset, options)),
  });
}

registerReferenceAdapter(vitReferenceAdapter);
registerTimmArgs('vit', VIT_TIMM_ARGS);
