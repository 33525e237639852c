import { createModel, getModelEntry } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { configFromOptions, MICRO_PRESET, PRESETS, validateCrossViTConfig } from '../src/index.js';

describe('create options', () => {
  it('derives the second branch size from imgSize, keeping its ratio, on a multiple of its patch', () => {
    const entry = getModelEntry('crossvit_tiny_240');
    expect(configFromOptions(PRESETS[0]!.config, { imgSize: 240 }).imgSize).toEqual([240, 224]);
    expect(configFromOptions(PRESETS[0]!.config, { imgSize: 48 }).imgSize).toEqual([48, 32]);
    expect(configFromOptions(PRESETS[0]!.config, { imgSize: 48, branchImgSize: [48, 48] }).imgSize).toEqual([48, 48]);
    expect(entry.cost({ imgSize: 48 }).params).toBeLessThan(entry.cost().params);
  });

  it('uses shifted patch tokens in crossvit_micro_32 and refuses them beside the dagger embedders', () => {
    const model = createModel('crossvit_micro_32');
    try {
      expect(model.namedParameters().some(([name]) => name === 'patch_embed.0.norm.weight')).toBe(true);
    } finally {
      model.dispose();
    }
    expect(() => validateCrossViTConfig({ ...MICRO_PRESET.config, multiConv: true })).toThrow('CrossViT multi_conv: and shiftedPatches');
  });

  it('rejects an option it does not know, naming it', () => {
    expect(() => createModel('crossvit_tiny_240', { patchSize: [8, 16] })).toThrow("unknown option 'patchSize'");
  });
});
