// Registers the presets and the pycls reference adapter (importing the package does this).
import { type CreateOptions, registerModel, registerReferenceAdapter } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { type Preset, PRESETS } from './presets.js';
import { createPyclsViT, HYBRID_STEM_OPTIONS, type HybridStemOptions, pyclsViTOptions } from './pycls-vit.js';
import { pyclsReferenceAdapter } from './reference-adapter.js';

/**
 * A preset's configuration with the caller's overrides (HYBRID_STEM_OPTIONS
 * names them; undefined keeps the preset's value). Changing embedDim of a
 * conv-stem model retargets the stem's last (1x1) convolution to the new width.
 */
export function resolveOptions(preset: Preset, options: CreateOptions = {}): HybridStemOptions {
  const given = HYBRID_STEM_OPTIONS.defined(options, preset.name);
  const config = HYBRID_STEM_OPTIONS.resolve([preset.config, given], preset.name);
  if (config.stem && given.patchSize !== undefined) {
    throw new Error(`${preset.name}: patchSize does not apply to a conv stem (its strides set the token grid); give another stem instead`);
  }
  if (given.embedDim !== undefined && given.stem === undefined && config.stem) {
    const { dims } = config.stem;
    config.stem = { ...config.stem, dims: [...dims.slice(0, -1), given.embedDim] };
  }
  return config;
}

for (const preset of PRESETS) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    options: HYBRID_STEM_OPTIONS,
    create: (options) => createPyclsViT(resolveOptions(preset, options)),
    cost: (options) => VisionTransformer.cost(pyclsViTOptions(resolveOptions(preset, options))),
  });
}

registerReferenceAdapter(pyclsReferenceAdapter);
