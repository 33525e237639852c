import * as tf from '@tensorflow/tfjs-core';
import { createModel, getReferenceAdapter } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { configFromReference, CSWinTransformer, StripeSizeError } from '../src/index.js';

const fixtureArgs = {
  img_size: 64,
  patch_size: 4,
  embed_dim: 16,
  depth: [1, 1, 2, 1],
  split_size: [1, 2, 2, 2],
  num_heads: [2, 2, 4, 4],
  mlp_ratio: 4.0,
  num_classes: 10,
};

describe('CSWinTransformer', () => {
  it('names the stage, its grid and the stripe width when a size does not divide', () => {
    // 64 px: stage 3 has a 4x4 grid, which stripes of width 7 do not divide.
    expect(() => createModel('cswin_tiny_224', { imgSize: 64 })).toThrow(StripeSizeError);
    expect(() => createModel('cswin_tiny_224', { imgSize: 64 })).toThrow(/stage 3: its 4x4 token grid \(input 64x64\).*stripes of width 7/);
    const model = getReferenceAdapter('cswin').fromReferenceConfig(fixtureArgs);
    try {
      // 48 px gives a 3x3 grid at stage 3, built for stripes of width 2.
      const x = tf.zeros([1, 48, 48, 3]);
      expect(() => tf.tidy(() => model.forward(x))).toThrow(/stage 3: its 3x3 token grid \(input 48x48\).*stripes of width 2/);
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  it('uses one full-attention branch in the last stage and where the grid equals the stripe width', () => {
    const model = new CSWinTransformer(configFromReference({ ...fixtureArgs, split_size: [1, 2, 4, 2] }));
    try {
      expect(model.stages.map((s) => s.fullAttention)).toEqual([false, false, true, true]);
      const names = Object.keys(model.stateShapes());
      expect(names).toContain('stage2.0.attns.1.get_v.weight');
      expect(names).not.toContain('stage3.0.attns.1.get_v.weight');
      expect(model.stateShapes()['stage3.0.attns.0.get_v.weight']).toEqual([64, 1, 3, 3]);
    } finally {
      model.dispose();
    }
  });

  it('follows the stochastic depth rule linspace(0, rate, sum(depth))', () => {
    const config = configFromReference({ ...fixtureArgs, drop_path_rate: 0.4 });
    const model = new CSWinTransformer(config);
    try {
      expect(model.stages.flatMap((s) => s.dropPath).map((r) => +r.toFixed(6))).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    } finally {
      model.dispose();
    }
  });
});

describe('configFromReference', () => {
  it('takes the constructor defaults, reading split_size[-1] for stage 4', () => {
    const c = configFromReference({ num_heads: [3, 6, 12, 24] });
    expect(c).toMatchObject({ imgSize: 224, embedDim: 96, depths: [2, 2, 6, 2], splitSize: [3, 5, 7, 7], qkvBias: true, numClasses: 1000 });
  });

  it('rejects unknown and unsupported arguments by name', () => {
    expect(() => configFromReference({ ...fixtureArgs, window_size: 7 })).toThrow(/window_size/);
    expect(() => configFromReference({ ...fixtureArgs, hybrid_backbone: 'resnet' })).toThrow(/hybrid_backbone/);
    expect(() => configFromReference({ ...fixtureArgs, num_heads: 4 })).toThrow(/num_heads/);
    expect(() => configFromReference({ ...fixtureArgs, depth: [1, 1, 1] })).toThrow(/depth/);
  });

  it('honours qkv_bias and num_classes=0', () => {
    const model = new CSWinTransformer(configFromReference({ ...fixtureArgs, qkv_bias: false, num_classes: 0 }));
    try {
      const names = Object.keys(model.stateShapes());
      expect(names).not.toContain('stage1.0.qkv.bias');
      expect(names).not.toContain('head.weight');
      tf.tidy(() => {
        expect(model.forward(tf.zeros([1, 64, 64, 3])).shape).toEqual([1, 128]);
      });
    } finally {
      model.dispose();
    }
  });

  it('honours qk_scale (the default head_dim^-0.5 when null)', () => {
    // Heads 2, 4, 8, 16 on widths 16 to 128: head width 8 everywhere, so 8^-0.5 is the default in every block.
    const args = { ...fixtureArgs, num_heads: [2, 4, 8, 16] };
    const source = new CSWinTransformer(configFromReference(args));
    const weights = source.stateDict();
    source.dispose();
    const x = tf.randomNormal([1, 64, 64, 3], 0, 1, 'float32', 1);
    const logits = (qkScale: number | null) => {
      const model = new CSWinTransformer(configFromReference({ ...args, qk_scale: qkScale }));
      try {
        model.loadStateDict(weights);
        model.eval();
        return tf.tidy(() => model.forward(x).arraySync() as number[][]);
      } finally {
        model.dispose();
      }
    };
    const base = logits(null);
    expect(logits(8 ** -0.5)).toEqual(base);
    expect(logits(2)).not.toEqual(base);
    tf.dispose([x, ...Object.values(weights)]);
  });
});
