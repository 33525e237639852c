import * as tf from '@tensorflow/tfjs-core';
import { getReferenceAdapter } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { expectClose } from '../../../test-utils/index.js';
import { optionsFromTimmKwargs, resolveConfig, VisionTransformer } from '../src/index.js';

const adapter = getReferenceAdapter('vit');
const small = { img_size: 16, patch_size: 4, embed_dim: 32, depth: 2, num_heads: 2, num_classes: 5 };

function build(args: Record<string, unknown>): VisionTransformer {
  const model = adapter.fromReferenceConfig(args);
  expect(model).toBeInstanceOf(VisionTransformer);
  return model as VisionTransformer;
}

describe('fromReferenceConfig (timm 0.6.13 VisionTransformer keyword arguments)', () => {
  it("describes timm's defaults, ViT-B/16 at 224 with LayerNorm eps 1e-6, when given no argument", () => {
    const options = optionsFromTimmKwargs({});
    expect(resolveConfig(options)).toMatchObject({
      imgSize: [224, 224],
      patchSize: 16,
      embedDim: 768,
      depth: 12,
      numHeads: 12,
      eps: 1e-6,
      globalPool: 'token',
      fcNorm: false,
    });
    expect(VisionTransformer.cost(options).params).toBe(86567656);
  });

  it('accepts every argument of the constructor within scope', () => {
    const model = build({
      ...small,
      in_chans: 1,
      global_pool: 'avg',
      mlp_ratio: 2.5,
      qkv_bias: false,
      init_values: null,
      class_token: false,
      no_embed_class: false,
      pre_norm: false,
      fc_norm: null,
      drop_rate: 0.1,
      attn_drop_rate: 0.05,
      drop_path_rate: 0.2,
      weight_init: 'jax',
      embed_layer: null,
      norm_layer: null,
      act_layer: null,
      block_fn: null,
      representation_size: 24,
    });
    const shapes = model.stateShapes();
    expect(shapes['patch_embed.proj.weight']).toEqual([32, 1, 4, 4]);
    expect(shapes['pos_embed']).toEqual([1, 16, 32]);
    expect(shapes['cls_token']).toBeUndefined();
    expect(shapes['norm.weight']).toBeUndefined();
    expect(shapes['fc_norm.weight']).toEqual([32]);
    expect(shapes['blocks.1.attn.qkv.bias']).toBeUndefined();
    expect(shapes['blocks.1.mlp.fc1.weight']).toEqual([80, 32]);
    expect(shapes['pre_logits.fc.weight']).toEqual([24, 32]);
    expect(shapes['head.weight']).toEqual([5, 24]);
    expect(model.config.dropPathRate).toBe(0.2);
    expect(model.numParams()).toBe(model.complexity().params);
    model.dispose();

    const rect = build({ ...small, img_size: [16, 24], patch_size: [4, 4], fc_norm: true });
    expect(rect.grid).toEqual([4, 6]);
    expect(rect.stateShapes()['fc_norm.weight']).toEqual([32]);
    rect.dispose();
  });

  it('rejects an unknown argument, naming it', () => {
    expect(() => build({ ...small, qk_norm: true })).toThrow(/unknown timm VisionTransformer argument\(s\) qk_norm/);
    expect(() => build({ ...small, embed_dims: 32 })).toThrow(/embed_dims/);
  });

  it('rejects unsupported or malformed values, naming the argument', () => {
    expect(() => build({ ...small, init_values: 1e-5 })).toThrow(/init_values \(LayerScale\) is not supported/);
    expect(() => build({ ...small, pre_norm: true })).toThrow(/pre_norm true .* not supported/);
    expect(() => build({ ...small, global_pool: '' })).toThrow(/global_pool must be 'token' or 'avg'/);
    expect(() => build({ ...small, patch_size: [4, 8] })).toThrow(/patch_size must be square/);
    expect(() => build({ ...small, norm_layer: 'RmsNorm' })).toThrow(/norm_layer only its default/);
    expect(() => build({ ...small, depth: 1.5 })).toThrow(/depth must be a whole number/);
    expect(() => build({ ...small, weight_init: 'xavier' })).toThrow(/weight_init must be one of/);
    expect(() => build({ ...small, class_token: false })).toThrow(/'token' needs classToken/);
  });

  it('returns intermediates keyed like the timm modules, consistent with forward', () => {
    const model = build({ ...small, global_pool: 'avg', representation_size: 16 }).eval();
    tf.tidy(() => {
      const x = tf.randomNormal([2, 16, 16, 3]) as tf.Tensor4D;
      const { logits, intermediates } = adapter.forwardWithIntermediates(model, x);
      expect(Object.keys(intermediates).sort()).toEqual([
        'blocks.0',
        'blocks.1',
        'fc_norm',
        'head',
        'norm',
        'patch_embed',
        'pos_drop',
        'pre_logits',
      ]);
      expect(intermediates['patch_embed']!.shape).toEqual([2, 16, 32]);
      expect(intermediates['fc_norm']!.shape).toEqual([2, 32]);
      expect(intermediates['pre_logits']!.shape).toEqual([2, 16]);
      expectClose(logits, model.forward(x), 0);
    });
    model.dispose();
  });

  it("keeps timm's names", () => {
    const t = tf.zeros([1]);
    expect(Object.keys(adapter.convertStateDict({ 'head.bias': t, cls_token: t }))).toEqual(['head.bias', 'cls_token']);
    t.dispose();
  });
});
