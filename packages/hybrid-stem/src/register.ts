// Registers the presets and the pycls reference adapter (importing the package does this).
import { type CreateOptions, registerModel, registerReferenceAdapter } from '@vitkit/core';
import { type Preset, PRESETS } from './presets.js';
import { pyclsReferenceAdapter } from './reference-adapter.js';
import { type StemSpec, StemViT, type StemViTOptions } from './stem-vision-transformer.js';

/** Options `createModel` accepts for this family, beyond core's CreateOptions. */
const FAMILY_OPTIONS = ['embedDim', 'depth', 'numHeads', 'mlpHidden', 'classifier', 'stem'] as const;
const CORE_OPTIONS = ['numClasses', 'imgSize', 'inChannels', 'dropRate', 'dropPathRate'] as const;

/**
 * A preset's configuration with the caller's overrides. Changing embedDim of a
 * conv-stem model retargets the stem's last (1x1) convolution to the new width.
 */
export function resolveOptions(preset: Preset, options: CreateOptions = {}): StemViTOptions {
  const known: readonly string[] = [...CORE_OPTIONS, ...FAMILY_OPTIONS];
  const unknown = Object.keys(options).filter((k) => options[k] !== undefined && !known.includes(k));
  if (unknown.length)
    throw new Error(`${preset.name}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (known: ${known.join(', ')})`);
  const o = options as Partial<StemViTOptions>;
  const config: StemViTOptions = { ...preset.config };
  for (const key of known) {
    const v = (options as Record<string, unknown>)[key];
    if (v !== undefined) (config as unknown as Record<string, unknown>)[key] = v;
  }
  if (o.embedDim !== undefined && o.stem === undefined && preset.config.stem.type === 'conv') {
    const stem = preset.config.stem;
    config.stem = { ...stem, dims: [...stem.dims.slice(0, -1), o.embedDim] } satisfies StemSpec;
  }
  return config;
}

for (const preset of PRESETS) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    create: (options) => new StemViT(resolveOptions(preset, options)),
    cost: (options) => StemViT.cost(resolveOptions(preset, options)),
  });
}

registerReferenceAdapter(pyclsReferenceAdapter);
