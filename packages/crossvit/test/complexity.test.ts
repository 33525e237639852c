import { createModel, getModelEntry, listModels } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { referenceRow } from '../../../test-utils/index.js';
import { PRESETS } from '../src/index.js';

const published = PRESETS.map((p) => p.name);

describe('CrossViT complexity against the reference table', () => {
  it('registers the published models and crossvit_micro_32', () => {
    expect(listModels('crossvit_*')).toEqual([...published, 'crossvit_micro_32'].sort());
  });

  it.each(published)('%s: figures equal the shared table, params exact, MACs to 0.01 G', (name) => {
    const entry = getModelEntry(name);
    const f = entry.defaults.figures;
    const row = referenceRow(f.reference!);
    expect(row.input_size).toBe(entry.defaults.imgSize);
    expect(row.num_classes).toBe(entry.defaults.numClasses);
    expect({ params: f.params, macs: f.macs, paperParamsM: f.paperParamsM, paperGflops: f.paperGflops, paperTop1: f.paperTop1 }).toEqual({
      params: row.params,
      macs: row.macs,
      paperParamsM: row.paper.params_M,
      paperGflops: row.paper.gflops,
      paperTop1: row.paper.top1,
    });
    const cost = entry.cost();
    expect(cost.params).toBe(row.params);
    expect(Math.abs(cost.macs - row.macs)).toBeLessThanOrEqual(0.01e9);
    // The port counts the same matmuls as the reference: in fact exactly.
    expect(cost.macs).toBe(row.macs);
  });

  it.each(['crossvit_tiny_240', 'crossvit_9_dagger_240', 'crossvit_micro_32'])(
    '%s: built model has cost().params parameters and complexity() equals cost()',
    (name) => {
      const entry = getModelEntry(name);
      const model = createModel(name);
      try {
        expect(model.numParams()).toBe(entry.cost().params);
        expect(model.complexity()).toEqual(entry.cost());
      } finally {
        model.dispose();
      }
    },
  );

  it('crossvit_micro_32 stays in the bench budget (8 to 15 M MACs)', () => {
    const { macs, params } = getModelEntry('crossvit_micro_32').cost();
    console.log(`crossvit_micro_32: ${params} params, ${macs} MACs`);
    expect(macs).toBeGreaterThan(8e6);
    expect(macs).toBeLessThan(15e6);
  });
});
