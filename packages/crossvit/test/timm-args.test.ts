import * as tf from '@tensorflow/tfjs-core';
import { createModel, modelOptionsFromConfig, parsePretrainedConfig } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

describe("timm's CrossVit arguments in config.json", () => {
  it('set the overrides vitkit takes and refuse the branch layout', () => {
    const base = {
      architecture: 'crossvit_tiny_240',
      num_classes: 4,
      pretrained_cfg: { input_size: [3, 48, 48], crop_pct: 0.875, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
    };
    const c = parsePretrainedConfig(
      { ...base, model_args: { img_size: 48, depth: [[1, 1, 0]], global_pool: 'token' } },
      'crossvit config.json',
    );
    const options = modelOptionsFromConfig(c);
    expect(options).toEqual({ numClasses: 4, imgSize: 48, depth: [[1, 1, 0]] });
    const model = createModel(c.architecture, options);
    const out = tf.tidy(() => model.forward(tf.zeros([1, 48, 48, 3])));
    expect(out.shape).toEqual([1, 4]);
    out.dispose();
    model.dispose();
    const wide = parsePretrainedConfig({ ...base, model_args: { embed_dim: [96, 192] } }, 'crossvit config.json');
    expect(() => modelOptionsFromConfig(wide, 'crossvit config.json')).toThrow(
      "crossvit config.json: 'model_args.embed_dim' is not a timm argument vitkit's crossvit models take",
    );
  });
});
