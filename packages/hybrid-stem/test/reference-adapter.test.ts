import * as tf from '@tensorflow/tfjs-core';
import { getReferenceAdapter } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { fromPyclsParams } from '../src/index.js';

const conv = {
  image_size: 32,
  patch_size: 4,
  stem_type: 'conv',
  c_stem_kernels: [3, 3, 1],
  c_stem_strides: [2, 2, 1],
  c_stem_dims: [16, 32, 64],
  n_layers: 2,
  n_heads: 2,
  hidden_d: 64,
  mlp_d: 128,
  num_classes: 10,
};

describe('pycls reference adapter', () => {
  it('is registered for the hybrid-stem family, chosen by a reference that starts with pycls', () => {
    expect(getReferenceAdapter('hybrid-stem', 'pycls (facebookresearch) pycls.models.vit.ViT').fromReferenceConfig).toBe(fromPyclsParams);
  });

  it('builds any valid stem: stride-1 layers, other depths, widths and heads', () => {
    const model = fromPyclsParams({
      ...conv,
      image_size: 48,
      patch_size: 8,
      c_stem_kernels: [3, 3, 3, 3],
      c_stem_strides: [2, 1, 4, 1],
      c_stem_dims: [8, 8, 16, 48],
      hidden_d: 48,
      n_heads: 3,
      n_layers: 3,
      mlp_d: 100,
      num_classes: 4,
    });
    expect(model.grid).toEqual([6, 6]);
    expect(model.numParams()).toBe(model.complexity().params);
    const y = tf.tidy(() => model.forward(tf.zeros([1, 48, 48, 3])));
    expect(y.shape).toEqual([1, 4]);
    y.dispose();
    model.dispose();
  });

  it('mirrors pycls: every conv but the last is 3x3 whatever c_stem_kernels says', () => {
    const model = fromPyclsParams({ ...conv, c_stem_kernels: [5, 7, 1] });
    const shapes = model.stateShapes();
    expect(shapes['patch_embed.cstem0_conv.weight']).toEqual([16, 3, 3, 3]);
    expect(shapes['patch_embed.cstem1_conv.weight']).toEqual([32, 16, 3, 3]);
    expect(shapes['patch_embed.cstem_last_conv.weight']).toEqual([64, 32, 1, 1]);
    model.dispose();
  });

  it("supports cls_type 'pooled' (no class token, head on the mean token)", () => {
    const model = fromPyclsParams({ ...conv, cls_type: 'pooled' });
    expect(model.clsToken).toBeNull();
    expect(model.config).toMatchObject({ classToken: false, globalPool: 'avg', fcNorm: false });
    expect(model.stateShapes()['pos_embed']).toEqual([1, 64, 64]);
    expect(model.numParams()).toBe(model.complexity().params);
    model.dispose();
  });

  it.each([
    [{ ...conv, drop_rate: 0.1 }, /unknown argument 'drop_rate'/],
    [{ ...conv, c_stem_strides: [2, 2, 2] }, /'c_stem_strides' multiply to 8, not 'patch_size' 4/],
    [{ ...conv, c_stem_dims: [16, 32, 48] }, /last of 'c_stem_dims' is 48, not 'hidden_d' 64/],
    [{ ...conv, c_stem_kernels: [3, 1] }, /differ in length/],
    [{ ...conv, c_stem_kernels: [3, 3, 2] }, /kernel 2 is 2; kernels must be odd/],
    [{ ...conv, stem_type: 'hybrid' }, /'stem_type' must be 'patchify' or 'conv'/],
    [{ ...conv, image_size: 30 }, /'image_size' 30 is not divisible by 'patch_size' 4/],
    [{ ...conv, cls_type: 'gap' }, /'cls_type' must be 'token' or 'pooled'/],
    [{ ...conv, n_heads: 3 }, /embedDim 64 is not divisible by numHeads 3/],
    [{ ...conv, mlp_d: undefined }, /'mlp_d' must be a positive integer/],
  ])('rejects %o', (args, message) => {
    expect(() => fromPyclsParams(args as Record<string, unknown>)).toThrow(message);
  });
});
