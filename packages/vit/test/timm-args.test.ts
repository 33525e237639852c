import * as tf from '@tensorflow/tfjs-core';
import { createModel, modelOptionsFromConfig, parsePretrainedConfig, pretrainedConfigJson, savedModelConfig } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import { type VisionTransformer, VIT_TIMM_ARGS } from '../src/index.js';

const config = (model_args: Record<string, unknown>) =>
  parsePretrainedConfig(
    {
      architecture: 'vit_tiny_patch16_224',
      num_classes: 5,
      model_args,
      pretrained_cfg: { input_size: [3, 32, 32], interpolation: 'bicubic', crop_pct: 0.9, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    },
    'hf-hub:tiny/vit config.json',
  );

describe("timm's VisionTransformer arguments in config.json", () => {
  it('build the model they describe', () => {
    const c = config({
      img_size: 32,
      patch_size: 8,
      embed_dim: 24,
      depth: 2,
      num_heads: 2,
      global_pool: 'avg',
      fc_norm: null,
      init_values: null,
    });
    const options = modelOptionsFromConfig(c, 'hf-hub:tiny/vit config.json');
    expect(options).toEqual({
      numClasses: 5,
      imgSize: 32,
      patchSize: 8,
      embedDim: 24,
      depth: 2,
      numHeads: 2,
      globalPool: 'avg',
      fcNorm: null,
    });
    const model = createModel(c.architecture, options) as VisionTransformer;
    const out = tf.tidy(() => model.forward(tf.zeros([1, 32, 32, 3])));
    expect(out.shape).toEqual([1, 5]);
    expect(model.config).toMatchObject({ embedDim: 24, depth: 2, globalPool: 'avg', fcNorm: true });
    out.dispose();
    model.dispose();
  });

  it('refuse what this VisionTransformer cannot build, naming the argument', () => {
    const c = config({ reg_tokens: 4 });
    expect(() => modelOptionsFromConfig(c, 'hf-hub:tiny/vit config.json')).toThrow(
      "hf-hub:tiny/vit config.json: 'model_args.reg_tokens' is supported only at 0",
    );
    expect(() => modelOptionsFromConfig(config({ act_layer: 'gelu' }))).toThrow("'model_args.act_layer' is not a timm argument");
  });

  it('are what a vitkit-saved ViT writes, so timm and vitkit read it back the same', () => {
    const saved = savedModelConfig('vit_tiny_patch16_224', { numClasses: 3, imgSize: 32, patchSize: 8, depth: 1 });
    const text = pretrainedConfigJson(saved);
    expect(JSON.parse(text)).toMatchObject({
      architecture: 'vit_tiny_patch16_224',
      num_classes: 3,
      model_args: { img_size: 32, patch_size: 8, depth: 1 },
      pretrained_cfg: { input_size: [3, 32, 32], crop_pct: 0.9, interpolation: 'bicubic' },
    });
    const back = parsePretrainedConfig(text);
    expect(modelOptionsFromConfig(back)).toEqual({ numClasses: 3, imgSize: 32, patchSize: 8, depth: 1 });
    expect(Object.keys(VIT_TIMM_ARGS)).toContain('no_embed_class');
  });
});
