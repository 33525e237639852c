import { describe, expect, it } from 'vitest';
import {
  declareOptions,
  listPretrainedTags,
  modelArgsFromOptions,
  modelOptionsFromConfig,
  parsePretrainedConfig,
  parsePretrainedSource,
  pretrainedConfigJson,
  registerModel,
  registerTimmArgs,
  resolvePretrainedTag,
} from '../src/index.js';

/** A registered model of `family` that is only ever looked up, never built. */
function registerLookupOnly(name: string, family: string) {
  const never = () => {
    throw new Error('not built in this test');
  };
  registerModel({
    name,
    defaults: {
      family,
      imgSize: 224,
      inChannels: 3,
      numClasses: 1000,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      cropPct: 0.9,
      interpolation: 'bicubic',
      implementation: 'none',
      paper: 'none',
      figures: {},
    },
    options: declareOptions(name, {}),
    create: never,
    cost: never,
  });
}

/** A config.json as timm writes it for vit_small_patch16_224.augreg_in21k_ft_in1k. */
const TIMM_CONFIG = {
  architecture: 'vit_small_patch16_224',
  num_classes: 1000,
  num_features: 384,
  global_pool: 'token',
  pretrained_cfg: {
    tag: 'augreg_in21k_ft_in1k',
    custom_load: true,
    input_size: [3, 224, 224],
    fixed_input_size: true,
    interpolation: 'bicubic',
    crop_pct: 0.9,
    crop_mode: 'center',
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    num_classes: 1000,
    pool_size: null,
    first_conv: 'patch_embed.proj',
    classifier: 'head',
  },
};

const withCfg = (patch: Record<string, unknown>) => ({ ...TIMM_CONFIG, pretrained_cfg: { ...TIMM_CONFIG.pretrained_cfg, ...patch } });

describe('config.json of a pretrained model', () => {
  it("reads timm's layout", () => {
    const c = parsePretrainedConfig(JSON.stringify(TIMM_CONFIG), 'hf-hub:timm/x config.json');
    expect(c).toMatchObject({
      architecture: 'vit_small_patch16_224',
      numClasses: 1000,
      numFeatures: 384,
      globalPool: 'token',
      modelArgs: {},
    });
    expect(c.pretrainedCfg).toEqual({
      inputSize: [3, 224, 224],
      interpolation: 'bicubic',
      cropPct: 0.9,
      cropMode: 'center',
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      firstConv: 'patch_embed.proj',
      classifier: 'head',
      extra: { tag: 'augreg_in21k_ft_in1k', custom_load: true, fixed_input_size: true, pool_size: null },
    });
    expect(c.labelNames).toBeNull();
  });

  it('writes the same layout back, unchanged on a second round', () => {
    const c = parsePretrainedConfig({ ...TIMM_CONFIG, label_names: Array.from({ length: 1000 }, (_, i) => `n${i}`) });
    const text = pretrainedConfigJson(c);
    expect(JSON.parse(text).pretrained_cfg).toEqual(TIMM_CONFIG.pretrained_cfg);
    expect(pretrainedConfigJson(parsePretrainedConfig(text))).toBe(text);
  });

  it('names the file and the key of what is wrong', () => {
    const src = 'hf-hub:org/repo config.json';
    const bad: [unknown, string][] = [
      ['{', `${src}: is not JSON`],
      [{ ...TIMM_CONFIG, architecture: 3 }, `${src}: 'architecture' must name a model (got 3)`],
      [{ ...TIMM_CONFIG, model_args: [1] }, `${src}: 'model_args' must be an object`],
      [{ ...TIMM_CONFIG, pretrained_cfg: undefined }, `${src}: 'pretrained_cfg' is missing or not an object`],
      [{ ...TIMM_CONFIG, num_classes: -1 }, `${src}: 'num_classes' must be a whole number >= 0 (got -1)`],
      [withCfg({ input_size: [224, 224] }), `${src}: 'pretrained_cfg.input_size' must be [channels, height, width]`],
      [withCfg({ crop_pct: 1.5 }), `${src}: 'pretrained_cfg.crop_pct' must be a number in (0, 1] (got 1.5)`],
      [withCfg({ interpolation: 'cubic' }), `${src}: 'pretrained_cfg.interpolation' must be one of nearest, bilinear, bicubic`],
      [withCfg({ crop_mode: 'middle' }), `${src}: 'pretrained_cfg.crop_mode' must be one of center, squash, border`],
      [withCfg({ mean: [0.5, 0.5] }), `${src}: 'pretrained_cfg.mean' must be 3 numbers, one per input channel`],
      [withCfg({ std: [0.5, 0, 0.5] }), `${src}: 'pretrained_cfg.std' must be 3 positive numbers`],
      [withCfg({ classifier: 7 }), `${src}: 'pretrained_cfg.classifier' must be a parameter name or a list of them`],
      [{ ...TIMM_CONFIG, label_names: ['a'] }, `${src}: 'label_names' has 1 names for 1000 classes`],
      [{ ...TIMM_CONFIG, label_descriptions: { a: 1 } }, `${src}: 'label_descriptions' must map label names to strings`],
    ];
    for (const [input, message] of bad) expect(() => parsePretrainedConfig(input, src)).toThrow(message);
  });

  it("translates timm's model_args through the family's table; unknown or unsupported ones are errors naming them", () => {
    registerTimmArgs('test-timm', { embed_dim: 'embedDim', img_size: 'imgSize', init_values: { fixed: null } });
    registerLookupOnly('test_timm_model', 'test-timm');
    registerLookupOnly('test_vitkit_model', 'test-vitkit');
    const c = (architecture: string, model_args: Record<string, unknown>) =>
      parsePretrainedConfig({ ...TIMM_CONFIG, architecture, num_classes: 10, model_args });
    const timm = (args: Record<string, unknown>) => c('test_timm_model', args);
    expect(modelOptionsFromConfig(timm({ embed_dim: 64, init_values: null }))).toEqual({ numClasses: 10, embedDim: 64 });
    expect(() => modelOptionsFromConfig(timm({ embed_dim: 64, qk_norm: true }), 'repo config.json')).toThrow(
      "repo config.json: 'model_args.qk_norm' is not a timm argument vitkit's test-timm models take (they take: embed_dim, img_size, init_values)",
    );
    expect(() => modelOptionsFromConfig(timm({ init_values: 1e-5 }))).toThrow(
      "'model_args.init_values' is supported only at null by vitkit's test-timm models (got 0.00001)",
    );
    expect(() => modelOptionsFromConfig(c('vit_nonexistent_224', {}), 'hf-hub:org/x config.json')).toThrow(
      "hf-hub:org/x config.json: 'architecture' names no model vitkit has: unknown model 'vit_nonexistent_224'",
    );
    // Families timm does not publish keep vitkit's option names.
    expect(modelOptionsFromConfig(c('test_vitkit_model', { splitSize: [1, 2, 7, 7] }))).toEqual({
      numClasses: 10,
      splitSize: [1, 2, 7, 7],
    });
    expect(modelArgsFromOptions({ numClasses: 10, embedDim: 64, imgSize: 32 }, 'test-timm')).toEqual({ embed_dim: 64, img_size: 32 });
    expect(modelArgsFromOptions({ splitSize: [1, 2, 7, 7] }, 'test-vitkit')).toEqual({ splitSize: [1, 2, 7, 7] });
    expect(() => modelArgsFromOptions({ eps: 1e-5 }, 'test-timm')).toThrow("option 'eps' of a test-timm model has no timm argument");
    expect(() => modelArgsFromOptions({ embedLayer: () => null }, 'test-vitkit')).toThrow("option 'embedLayer' is not a JSON value");
  });
});

describe('model names that point at weights', () => {
  it('splits hf-hub:, local-dir: and NAME.TAG', () => {
    expect(parsePretrainedSource('hf-hub:timm/vit_small_patch16_224.augreg_in21k_ft_in1k')).toEqual({
      kind: 'hf-hub',
      repo: 'timm/vit_small_patch16_224.augreg_in21k_ft_in1k',
      revision: 'main',
    });
    expect(parsePretrainedSource('hf-hub:org/repo@v1.0')).toEqual({ kind: 'hf-hub', repo: 'org/repo', revision: 'v1.0' });
    expect(parsePretrainedSource('local-dir:./out/model')).toEqual({ kind: 'local-dir', path: './out/model' });
    expect(parsePretrainedSource('deit_tiny_patch16_224.fb_in1k')).toEqual({
      kind: 'registry',
      name: 'deit_tiny_patch16_224',
      tag: 'fb_in1k',
    });
    expect(parsePretrainedSource('cswin_tiny_224')).toEqual({ kind: 'registry', name: 'cswin_tiny_224', tag: null });
    expect(() => parsePretrainedSource('hf-hub:justrepo')).toThrow("model name 'hf-hub:justrepo': expected hf-hub:ORG/REPO");
    expect(() => parsePretrainedSource('hf-hub:org/../x')).toThrow('expected hf-hub:ORG/REPO');
    expect(() => parsePretrainedSource('hf-hub:org/repo@')).toThrow("empty revision after '@'");
  });

  it("resolves timm's tags to their Hub repository and preprocessing; a bare name to its default tag", () => {
    const t = resolvePretrainedTag('vit_small_patch16_224.augreg_in21k_ft_in1k');
    expect(t.hfHubId).toBe('timm/vit_small_patch16_224.augreg_in21k_ft_in1k');
    expect(t.pretrainedCfg).toMatchObject({ inputSize: [3, 224, 224], cropPct: 0.9, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5] });
    expect(resolvePretrainedTag('vit_base_patch16_384.augreg_in21k_ft_in1k').pretrainedCfg).toMatchObject({
      inputSize: [3, 384, 384],
      cropPct: 1,
    });
    expect(resolvePretrainedTag('vit_base_patch16_224').tag).toBe('augreg2_in21k_ft_in1k');
    expect(resolvePretrainedTag('deit_small_patch16_224').pretrainedCfg.mean).toEqual([0.485, 0.456, 0.406]);
    expect(resolvePretrainedTag('vit_small_patch16_224.augreg_in21k').numClasses).toBe(21843);
    expect(resolvePretrainedTag('vit_base_patch16_224.mae').pretrainedCfg.extra).toEqual({ license: 'cc-by-nc-4.0' });
    const dagger = resolvePretrainedTag('crossvit_15_dagger_240.in1k');
    expect(dagger.pretrainedCfg).toMatchObject({ inputSize: [3, 240, 240], cropPct: 0.875, classifier: ['head.0', 'head.1'] });
    expect(dagger.pretrainedCfg.firstConv).toEqual(['patch_embed.0.proj.0', 'patch_embed.1.proj.0']);
    expect(resolvePretrainedTag('vit_base_r50_s16_384').hfHubId).toBe('timm/vit_base_r50_s16_384.orig_in21k_ft_in1k');
    expect(() => resolvePretrainedTag('vit_small_patch16_224.nope')).toThrow(
      "no pretrained tag 'nope' for vit_small_patch16_224 (its tags: augreg_in21k_ft_in1k, augreg_in1k, augreg_in21k, dino)",
    );
    expect(() => resolvePretrainedTag('cswin_tiny_224.x')).toThrow("no pretrained weights are known for 'cswin_tiny_224'");
    expect(new Set(listPretrainedTags().map((x) => x.name)).size).toBe(listPretrainedTags().length);
  });
});
