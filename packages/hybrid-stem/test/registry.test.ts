import { getModelEntry, listModels } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { referenceRow } from '../../../test-utils/index.js';
import { PRESETS } from '../src/index.js';

const PAPER_MODELS = ['1gf', '4gf', '18gf', '36gf'].flatMap((s) => [`vitc_${s}`, `vitp_${s}`]);

describe('registered hybrid-stem models', () => {
  it('registers the eight paper models and the micro model', () => {
    // The family's other models, the ResNet hybrids, are checked in resnet-hybrid-registry.test.ts.
    const pycls = listModels('*', { family: 'hybrid-stem' }).filter((n) => n.startsWith('vitc_') || n.startsWith('vitp_'));
    expect(pycls).toEqual([...PAPER_MODELS, 'vitc_micro_32'].sort());
  });

  it.each(PAPER_MODELS)('%s: figures equal the shared table, cost() the reference counts', (name) => {
    const { defaults, cost } = getModelEntry(name);
    const row = referenceRow(defaults.figures.reference!);
    expect(defaults.figures).toMatchObject({
      params: row.params,
      macs: row.macs,
      paperParamsM: row.paper.params_M,
      paperGflops: row.paper.gflops,
      paperTop1: row.paper.top1,
    });
    expect([defaults.imgSize, defaults.numClasses]).toEqual([row.input_size, row.num_classes]);
    const c = cost();
    expect(c.params).toBe(row.params);
    expect(Math.abs(c.macs - row.macs)).toBeLessThanOrEqual(0.01e9);
    // The closed form reproduces the reference count exactly, not only to 0.01 G.
    expect(c.macs).toBe(row.macs);
  });

  it('ViTC has one block fewer than its ViTP twin, the same width and heads', () => {
    const config = (name: string) => PRESETS.find((p) => p.name === name)!.config;
    for (const s of ['1gf', '4gf', '18gf', '36gf']) {
      const [c, p] = [config(`vitc_${s}`), config(`vitp_${s}`)];
      expect(c.depth).toBe(p.depth! - 1);
      expect([c.embedDim, c.numHeads, c.mlpHidden]).toEqual([p.embedDim, p.numHeads, p.mlpHidden]);
      expect(c.stem).toBeTruthy();
      expect([p.stem, p.patchSize]).toEqual([undefined, 16]);
    }
  });

  it.each(['vitc_1gf', 'vitp_1gf', 'vitc_micro_32'])('%s: the built model has the parameters and complexity cost() predicts', (name) => {
    const entry = getModelEntry(name);
    const model = entry.create();
    try {
      expect(model.numParams()).toBe(entry.cost().params);
      expect(model.complexity()).toEqual(entry.cost());
    } finally {
      model.dispose();
    }
  });

  it('create() takes core and family options and rejects unknown ones', () => {
    const entry = getModelEntry('vitc_1gf');
    // A narrower ViTC: the stem's last 1x1 convolution follows embedDim.
    const c = entry.cost({ imgSize: 64, embedDim: 96, numHeads: 2, depth: 2, numClasses: 5 });
    const model = entry.create({ imgSize: 64, embedDim: 96, numHeads: 2, depth: 2, numClasses: 5 });
    expect(model.numParams()).toBe(c.params);
    expect(model.stateShapes()['patch_embed.cstem_last_conv.weight']).toEqual([96, 192, 1, 1]);
    model.dispose();
    expect(() => entry.create({ patchSize: 8 })).toThrow(/vitc_1gf: patchSize does not apply to a conv stem/);
    expect(() => entry.create({ classifier: 'pooled' })).toThrow(/vitc_1gf: unknown option 'classifier'/);
  });

  it('vitc_micro_32 costs about what vit_micro_32 does (12.2 M MACs)', () => {
    const c = getModelEntry('vitc_micro_32').cost();
    expect(c.macs).toBe(11_494_272);
    expect(c.params).toBe(165_610);
  });
});
