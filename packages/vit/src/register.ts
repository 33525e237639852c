// Registers the standard ViT/DeiT configurations and the timm reference
// adapter; importing the package runs this once.
import { type CreateOptions, registerModel, registerReferenceAdapter, registerTimmArgs } from '@vitkit/core';
import { VIT_PRESETS, type VitPreset } from './presets.js';
import { vitReferenceAdapter } from './reference-adapter.js';
import { VIT_TIMM_ARGS } from './timm-args.js';
import { VIT_OPTIONS, VisionTransformer, type VisionTransformerOptions } from './vision-transformer.js';

/**
 * The preset's architecture with the caller's overrides. The accepted names
 * are VisionTransformer's own (VIT_OPTIONS); an unknown one is an error, and
 * an option set to undefined keeps the preset's value.
 */
export function presetOptions(preset: VitPreset, options: CreateOptions = {}): VisionTransformerOptions {
  const { numClasses, inChannels } = preset.defaults;
  return VIT_OPTIONS.resolve([{ numClasses, inChannels }, preset.architecture, options], preset.name);
}

for (const preset of VIT_PRESETS) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    options: VIT_OPTIONS,
    create: (options) => new VisionTransformer(presetOptions(preset, options)),
    cost: (options) => VisionTransformer.cost(presetOptions(preset, options)),
  });
}

registerReferenceAdapter(vitReferenceAdapter);
registerTimmArgs('vit', VIT_TIMM_ARGS);
