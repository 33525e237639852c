import * as tf from '@tensorflow/tfjs-core';
import { createModel, getModelEntry, INCEPTION_MEAN, INCEPTION_STD, listModels, loadWeights } from '@vitkit/core';
import type { VisionTransformer } from '@vitkit/vit';
import { describe, expect, it } from 'vitest';
import { referenceRow } from '../../../test-utils/index.js';
import { RESNET_HYBRID_PRESETS } from '../src/index.js';

const TIMM_MODELS = [
  'vit_tiny_r_s16_p8_224',
  'vit_tiny_r_s16_p8_384',
  'vit_small_r26_s32_224',
  'vit_small_r26_s32_384',
  'vit_base_r26_s32_224',
  'vit_base_r50_s16_224',
  'vit_base_r50_s16_384',
  'vit_large_r50_s32_224',
  'vit_large_r50_s32_384',
];

describe('registered ResNet hybrids', () => {
  it('registers the nine timm models and the micro model in family hybrid-stem', () => {
    expect(RESNET_HYBRID_PRESETS.map((p) => p.name)).toEqual([...TIMM_MODELS, 'vit_hybrid_micro_32']);
    const family = listModels('*', { family: 'hybrid-stem' });
    for (const name of [...TIMM_MODELS, 'vit_hybrid_micro_32']) expect(family).toContain(name);
  });

  it.each(TIMM_MODELS)('%s: timm default config, figures equal the shared table, cost() the reference counts exactly', (name) => {
    const { defaults, cost } = getModelEntry(name);
    const row = referenceRow(`timm/${name}`);
    expect(defaults.figures).toMatchObject({
      reference: `timm/${name}`,
      params: row.params,
      macs: row.macs,
      paperParamsM: row.paper.params_M,
      paperGflops: row.paper.gflops,
      paperTop1: row.paper.top1 ?? null,
    });
    expect([defaults.imgSize, defaults.numClasses, defaults.inChannels]).toEqual([row.input_size, row.num_classes, 3]);
    expect(defaults).toMatchObject({
      mean: INCEPTION_MEAN,
      std: INCEPTION_STD,
      cropPct: defaults.imgSize === 384 ? 1.0 : 0.9,
      interpolation: 'bicubic',
    });
    const c = cost();
    expect(c.params).toBe(row.params);
    expect(Math.abs(c.macs - row.macs)).toBeLessThanOrEqual(0.01e9);
    expect(c.macs).toBe(row.macs);
  });

  it('vit_hybrid_micro_32 sits with the other micro models: 14.1 M MACs, 187 k parameters, 10 classes at 32 px', () => {
    const { defaults, cost } = getModelEntry('vit_hybrid_micro_32');
    expect([defaults.imgSize, defaults.numClasses]).toEqual([32, 10]);
    expect(cost()).toEqual({ params: 187_050, macs: 14_115_840 });
  });

  it.each(['vit_tiny_r_s16_p8_224', 'vit_hybrid_micro_32'])(
    '%s: the built model has the parameters and complexity cost() predicts',
    (name) => {
      const entry = getModelEntry(name);
      const model = entry.create();
      try {
        expect(model.numParams()).toBe(entry.cost().params);
        expect(model.complexity()).toEqual(entry.cost());
      } finally {
        model.dispose();
      }
    },
  );

  it('create() takes ViT and backbone options and rejects unknown ones', () => {
    const entry = getModelEntry('vit_small_r26_s32_224');
    const options = { imgSize: 64, depth: 1, numClasses: 5, backbone: { layers: [1, 1], channels: [128, 256] }, patchSize: 2 };
    const model = entry.create(options);
    try {
      expect(model.numParams()).toBe(entry.cost(options).params);
      expect((model as VisionTransformer).grid).toEqual([4, 4]);
      expect(model.stateShapes()['patch_embed.proj.weight']).toEqual([384, 256, 2, 2]);
    } finally {
      model.dispose();
    }
    expect(() => entry.create({ shiftedPatches: true })).toThrow(/vit_small_r26_s32_224: unknown option 'shiftedPatches'/);
  });

  it('an image that does not fit is refused with an error naming both grids', () => {
    const model = createModel('vit_tiny_r_s16_p8_224', { depth: 1 });
    try {
      // 256 px: stem /4 = 64, 8x8 patches: an 8x8 grid against the 7x7 the position embedding covers.
      expect(() => tf.tidy(() => model.forward(tf.zeros([1, 256, 256, 3])))).toThrow(
        /a 256x256 image gives a 8x8 token grid, but the position embedding covers 7x7 \(built for 224x224\)/,
      );
      expect(() => tf.tidy(() => model.forward(tf.zeros([1, 100, 100, 3])))).toThrow(
        /HybridEmbed: the backbone turns a 100x100 image into a 25x25 feature map, which 8x8 patches do not tile/,
      );
    } finally {
      model.dispose();
    }
  });

  it('a 224 checkpoint loads into the 384 model, its position embedding resampled to the new grid', () => {
    const small = createModel('vit_tiny_r_s16_p8_224', { depth: 1 });
    const large = createModel('vit_tiny_r_s16_p8_384', { depth: 1 }) as VisionTransformer;
    const sd = small.stateDict();
    try {
      const report = loadWeights(large, sd);
      expect(report.resampled).toEqual([{ key: 'pos_embed', from: [7, 7], to: [12, 12] }]);
      expect(report.missing).toEqual([]);
      const loaded = large.stateDict();
      expect(loaded['pos_embed']!.shape).toEqual([1, 145, 192]);
      const same = tf.tidy(
        () => tf.max(tf.abs(tf.sub(loaded['patch_embed.backbone.conv.weight']!, sd['patch_embed.backbone.conv.weight']!))).dataSync()[0],
      );
      expect(same).toBe(0);
      tf.dispose(Object.values(loaded));
      const y = tf.tidy(() => large.eval().forward(tf.zeros([1, 384, 384, 3])));
      expect(y.shape).toEqual([1, 1000]);
      y.dispose();
    } finally {
      tf.dispose(Object.values(sd));
      small.dispose();
      large.dispose();
    }
  });
});
