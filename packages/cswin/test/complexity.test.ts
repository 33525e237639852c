import { createModel, getModelEntry, listModels } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { referenceRow } from '../../../test-utils/index.js';
import { CSWIN_PRESETS } from '../src/index.js';

const OFFICIAL = ['cswin_tiny_224', 'cswin_small_224', 'cswin_base_224', 'cswin_large_224', 'cswin_base_384', 'cswin_large_384'];

describe('CSWin complexity', () => {
  it('registers the six official models and the micro model', () => {
    expect(listModels('cswin_*')).toEqual([...OFFICIAL, 'cswin_micro_32'].sort());
    expect(listModels('*', { family: 'cswin' })).toHaveLength(7);
  });

  it.each(OFFICIAL.filter((n) => getModelEntry(n).defaults.figures.reference))(
    '%s: figures equal the shared table, params exactly, MACs to 0.01 G',
    (name) => {
      const { figures } = getModelEntry(name).defaults;
      const row = referenceRow(figures.reference!);
      expect(figures.params).toBe(row.params);
      expect(figures.macs).toBe(row.macs);
      expect(figures.macsExact ?? true).toBe(row.macs_exact ?? true);
      expect([figures.paperParamsM, figures.paperGflops, figures.paperTop1]).toEqual([
        row.paper.params_M,
        row.paper.gflops,
        row.paper.top1,
      ]);
      expect(getModelEntry(name).defaults.imgSize).toBe(row.input_size);
      const cost = getModelEntry(name).cost();
      expect(cost.params).toBe(row.params);
      if (row.macs_exact === false) expect(Math.abs(cost.macs - row.macs)).toBeLessThan(0.01e9);
      else expect(cost.macs).toBe(row.macs);
    },
  );

  it('cswin_large_384 has no row in the table and the same parameters as cswin_large_224', () => {
    expect(getModelEntry('cswin_large_384').defaults.figures.reference).toBeUndefined();
    expect(getModelEntry('cswin_large_384').cost().params).toBe(referenceRow('cswin/CSWin_144_24322_large_224').params);
  });

  it('uses the paper stripe widths: 1, 2, 7, 7 at 224 and 1, 2, 12, 12 at 384', () => {
    for (const p of CSWIN_PRESETS) expect(p.config.splitSize).toEqual(p.config.imgSize === 384 ? [1, 2, 12, 12] : [1, 2, 7, 7]);
  });

  it('counts the built model as the static cost does (cswin_tiny_224, cswin_micro_32)', () => {
    for (const name of ['cswin_tiny_224', 'cswin_micro_32']) {
      const model = createModel(name);
      try {
        expect(model.numParams()).toBe(getModelEntry(name).cost().params);
        expect(model.complexity()).toEqual(getModelEntry(name).cost());
      } finally {
        model.dispose();
      }
    }
  });

  it('cswin_micro_32 is near vit_micro_32 in MACs (8 to 15 M)', () => {
    const { macs, params } = getModelEntry('cswin_micro_32').cost();
    console.log(`cswin_micro_32: ${(macs / 1e6).toFixed(2)} M MACs, ${(params / 1e6).toFixed(3)} M params`);
    expect(macs).toBeGreaterThan(8e6);
    expect(macs).toBeLessThan(15e6);
  });
});
