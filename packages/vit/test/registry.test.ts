import { createModel, getModelEntry, listModels } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { referenceRow } from '../../../test-utils/index.js';
import { VIT_PRESETS } from '../src/index.js';

const names = VIT_PRESETS.map((p) => p.name);

describe('registered ViT/DeiT models', () => {
  it('registers timm names, DeiT and the bench micro model under family vit', () => {
    expect(listModels('*', { family: 'vit' })).toEqual([...names].sort());
    for (const n of [
      'vit_tiny_patch16_224',
      'vit_small_patch32_384',
      'vit_base_patch16_384',
      'vit_large_patch32_224',
      'vit_huge_patch14_224',
      'deit_base_patch16_224',
      'vit_micro_32',
    ]) {
      expect(names).toContain(n);
    }
  });

  it('carries timm default configs', () => {
    const vit224 = getModelEntry('vit_base_patch16_224').defaults;
    expect([vit224.mean, vit224.std, vit224.cropPct, vit224.interpolation]).toEqual([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], 0.9, 'bicubic']);
    const vit384 = getModelEntry('vit_small_patch16_384').defaults;
    expect([vit384.imgSize, vit384.cropPct]).toEqual([384, 1.0]);
    const deit = getModelEntry('deit_small_patch16_224').defaults;
    expect([deit.mean, deit.std, deit.cropPct]).toEqual([[0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 0.9]);
    const micro = getModelEntry('vit_micro_32').defaults;
    expect([micro.imgSize, micro.numClasses, micro.mean, micro.std]).toEqual([32, 10, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
    for (const n of names) {
      const d = getModelEntry(n).defaults;
      expect(d.family).toBe('vit');
      expect(d.implementation).toContain('timm 0.6.13');
      expect(d.paper).toMatch(/arxiv\.org\/abs\/(2010\.11929|2012\.12877)/);
    }
  });

  it('has figures equal to the shared reference table', () => {
    const withRows = VIT_PRESETS.filter((p) => p.defaults.figures.reference);
    expect(withRows.map((p) => p.name).sort()).toEqual([
      'deit_base_patch16_224',
      'deit_small_patch16_224',
      'deit_tiny_patch16_224',
      'vit_base_patch16_224',
      'vit_base_patch32_224',
      'vit_huge_patch14_224',
      'vit_large_patch16_224',
      'vit_small_patch16_224',
      'vit_tiny_patch16_224',
    ]);
    for (const p of withRows) {
      const f = p.defaults.figures;
      const row = referenceRow(f.reference!);
      expect(row.input_size).toBe(p.defaults.imgSize);
      expect(row.num_classes).toBe(p.defaults.numClasses);
      expect({
        params: f.params,
        macs: f.macs,
        macsExact: f.macsExact,
        paperParamsM: f.paperParamsM,
        paperGflops: f.paperGflops,
        paperTop1: f.paperTop1,
      }).toEqual({
        params: row.params,
        macs: row.macs,
        macsExact: row.macs_exact ?? true,
        paperParamsM: row.paper.params_M,
        paperGflops: row.paper.gflops,
        paperTop1: row.paper.top1 ?? null,
      });
    }
  });

  it('counts parameters exactly and MACs to 0.01 G from the configuration alone', () => {
    for (const p of VIT_PRESETS) {
      const f = p.defaults.figures;
      if (!f.reference) continue;
      const cost = getModelEntry(p.name).cost();
      expect(cost.params, p.name).toBe(f.params);
      expect(Math.abs(cost.macs - f.macs!), p.name).toBeLessThanOrEqual(f.macsExact ? 0 : 0.01e9);
    }
  });

  it('counts vit_micro_32 at about 12.2 M MACs', () => {
    // 65 tokens of width 64: per block 65*(4*64^2 + 2*64*256) linear + 2*65^2*64 attention MACs,
    // plus the shifted patch tokens (LayerNorm and a 240 -> 64 projection of 64 patches of
    // 4x4 pixels x 3 channels x 5 copies) and the head (64*10).
    const blockMacs = 65 * (4 * 64 * 64 + 2 * 64 * 256) + 2 * 65 * 65 * 64;
    // Each block's attention also learns its scale (locality self-attention): one parameter.
    const blockParams = 4 * 64 + (64 * 192 + 192) + 1 + (64 * 64 + 64) + (64 * 256 + 256) + (256 * 64 + 64);
    expect(getModelEntry('vit_micro_32').cost()).toEqual({
      params: 2 * 240 + 240 * 64 + 64 + 64 + 65 * 64 + 3 * blockParams + 128 + 650,
      macs: 64 * 240 * 64 + 3 * blockMacs + 640,
    });
    expect(getModelEntry('vit_micro_32').cost().macs).toBe(12_190_720);
  });

  it('builds the small models with exactly the counted parameters and complexity', () => {
    for (const n of ['vit_micro_32', 'vit_tiny_patch16_224', 'deit_tiny_patch16_224', 'vit_tiny_patch16_384', 'vit_small_patch32_224']) {
      const model = createModel(n);
      try {
        const cost = getModelEntry(n).cost();
        expect(model.numParams(), n).toBe(cost.params);
        expect(model.complexity(), n).toEqual(cost);
      } finally {
        model.dispose();
      }
    }
  });

  it("rejects an unknown create option, suggesting the nearest of VisionTransformer's own", () => {
    expect(() => createModel('vit_micro_32', { dept: 2 })).toThrow(
      /^vit_micro_32: unknown option 'dept' \(did you mean 'depth'\?\); accepted: imgSize, patchSize, .*, shiftedPatches, localityAttention, embedLayer$/,
    );
  });

  it('accepts every VisionTransformer option, undefined meaning the preset value', () => {
    const model = createModel('vit_tiny_patch16_224', { imgSize: 32, depth: 1, shiftedPatches: true, localityAttention: true });
    try {
      expect(model.namedParameters().some(([name]) => name === 'patch_embed.norm.weight')).toBe(true);
    } finally {
      model.dispose();
    }
    const entry = getModelEntry('vit_tiny_patch16_224');
    expect(entry.cost({ depth: undefined, embedDim: undefined })).toEqual(entry.cost());
  });
});
