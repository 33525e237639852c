import { createModel, getModelEntry, listModels } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { checkRegisteredModel } from '../../../test-utils/index.js';
import { configFromOptions, MICRO_PRESET, PRESETS, validateCrossViTConfig } from '../src/index.js';

// Forward, gradients to every parameter, no leak, state-dict round trip, on a
// 48 px input: branch 0 sees 48 px (4x4 patches of 12), branch 1 the input
// resized to 32 px (2x2 patches of 16), so the resize is exercised too.
// Models over 10 M parameters (small, base, 15, 18 and their daggers) are
// shrunk to one encoder of one block per branch ([[1, 1, 0]]) to keep the
// suite light on two cores (crossvit_15 alone took 16 s at full depth); their
// widths, heads and stems stay as published. tiny, 9 and 9_dagger run in full.
const LARGE = 10e6;

describe('every registered CrossViT', () => {
  it.each(listModels('crossvit_*'))('%s', (name) => {
    const entry = getModelEntry(name);
    const big = entry.cost().params > LARGE;
    const options = name === 'crossvit_micro_32' ? { imgSize: 16 } : { imgSize: 48, ...(big ? { depth: [[1, 1, 0]] } : {}) };
    checkRegisteredModel(name, options);
  });
});

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
