import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { getReferenceAdapter, loadWeights, type StateDict, StateDictError } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose, fixtureDir } from '../../../test-utils/index.js';
import { type CrossViT, configFromReferenceArgs, convertCrossViTStateDict } from '../src/index.js';

const adapter = getReferenceAdapter('crossvit');

/** timm's CrossVit keeps the per-branch tokens as attributes: cls_token.0 -> cls_token_0, pos_embed.1 -> pos_embed_1. */
function toTimmNames(sd: StateDict): StateDict {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [/^(cls_token|pos_embed)\./.test(k) ? k.replace('.', '_') : k, v]));
}

describe('CrossViT checkpoints', () => {
  let weights: StateDict;
  let io: StateDict;
  let args: Record<string, unknown>;
  beforeAll(async () => {
    weights = await loadSafetensors(`${fixtureDir('crossvit_tiny')}/weights.safetensors`);
    io = await loadSafetensors(`${fixtureDir('crossvit_tiny')}/io.safetensors`);
    args = JSON.parse(readFileSync(`${fixtureDir('crossvit_tiny')}/config.json`, 'utf8')).reference_args;
  });
  afterAll(() => tf.dispose([...Object.values(weights), ...Object.values(io)]));

  it('uses the official names exactly, so an official checkpoint loads strictly as it is', () => {
    const model = adapter.fromReferenceConfig(args);
    try {
      expect(Object.keys(model.stateShapes()).sort()).toEqual(Object.keys(weights).sort());
      model.loadStateDict(weights);
      const converted = convertCrossViTStateDict(weights);
      expect(Object.keys(converted).sort()).toEqual(Object.keys(weights).sort());
      expect(Object.entries(converted).every(([k, t]) => t === weights[k])).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('loads timm names through convertStateDict, with the same logits', () => {
    const timm = toTimmNames(weights);
    expect(Object.keys(timm)).toContain('pos_embed_0');
    expect(Object.keys(timm)).toContain('cls_token_1');
    const official = adapter.fromReferenceConfig(args);
    const fromTimm = adapter.fromReferenceConfig(args);
    try {
      expect(() => fromTimm.loadStateDict(timm)).toThrow(StateDictError);
      official.loadStateDict(weights);
      fromTimm.loadStateDict(adapter.convertStateDict(timm));
      official.eval();
      fromTimm.eval();
      tf.tidy(() => {
        const x = tf.transpose(io['input']!, [0, 2, 3, 1]);
        const y = fromTimm.forward(x);
        expectClose(y, official.forward(x), 0);
        expectClose(y, io['logits']!, 1e-4);
      });
    } finally {
      official.dispose();
      fromTimm.dispose();
    }
  });
});

describe('loading CrossViT weights through loadWeights', () => {
  let weights: StateDict;
  let args: Record<string, unknown>;
  beforeAll(async () => {
    weights = await loadSafetensors(`${fixtureDir('crossvit_tiny')}/weights.safetensors`);
    args = JSON.parse(readFileSync(`${fixtureDir('crossvit_tiny')}/config.json`, 'utf8')).reference_args;
  });
  afterAll(() => tf.dispose(Object.values(weights)));

  it("resamples each branch's position embedding to a larger input and, fine-tuning, drops only the classifier of both branches", () => {
    // The fixture is 48 px (branch grids 4x4 and 2x2); this model is 96 px (8x8 and 4x4) with 3 classes.
    const model = adapter.fromReferenceConfig({ ...args, img_size: [96, 64], num_classes: 3 }) as CrossViT;
    const before = tf.memory().numTensors;
    try {
      const report = loadWeights(model, toTimmNames(weights), { family: 'crossvit', source: 'timm.safetensors', dropClassifier: true });
      expect(report.resampled).toEqual([
        { key: 'pos_embed.0', from: [4, 4], to: [8, 8] },
        { key: 'pos_embed.1', from: [2, 2], to: [4, 4] },
      ]);
      expect([...report.dropped].sort()).toEqual([
        'head.0.bias [10]',
        'head.0.weight [10, 32]',
        'head.1.bias [10]',
        'head.1.weight [10, 64]',
      ]);
      expect(report).toMatchObject({ missing: [], unexpected: [], mismatched: [] });
      expect(report.notes.join('\n')).toMatch(/pos_embed.1 resampled bicubically from a 2x2 to a 4x4 token grid/);
      const loaded = model.stateDict();
      expect(Array.from(loaded['blocks.0.fusion.0.attn.wq.weight']!.dataSync())).toEqual(
        Array.from(weights['blocks.0.fusion.0.attn.wq.weight']!.dataSync()),
      );
      expect(loaded['head.1.weight']!.shape).toEqual([3, 64]);
      tf.dispose(Object.values(loaded));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('without dropClassifier, a classifier for another class count is a strict error naming the file', () => {
    const model = adapter.fromReferenceConfig({ ...args, num_classes: 3 });
    try {
      expect(() => loadWeights(model, weights, { family: 'crossvit', source: 'official.safetensors' })).toThrow(
        /^official.safetensors does not match the model:\n {2}mis-shaped keys \(4\): head.0.weight: got \[10, 32\], expected \[3, 32\]/,
      );
    } finally {
      model.dispose();
    }
  });
});

describe('fromReferenceConfig', () => {
  it('builds the reference constructor defaults, including a fusion depth of 1 (a Sequential) and no qkv bias', () => {
    const model = adapter.fromReferenceConfig({}) as CrossViT;
    try {
      const keys = Object.keys(model.stateShapes());
      expect(model.config.imgSize).toEqual([224, 224]);
      expect(model.config.eps).toBe(1e-6);
      expect(keys).toContain('blocks.2.fusion.1.0.attn.wq.weight');
      expect(keys).not.toContain('blocks.0.fusion.0.attn.wq.weight');
      expect(keys.filter((k) => /attn\.(wq|wk|wv|qkv)\.bias$/.test(k))).toEqual([]);
      expect(model.numParams()).toBe(model.complexity().params);
    } finally {
      model.dispose();
    }
  });

  it('takes an int img_size as to_2tuple does, qk_scale and norm_eps', () => {
    const c = configFromReferenceArgs({ img_size: 32, patch_size: [8, 16], qk_scale: 0.125, norm_eps: 1e-5 });
    expect(c.imgSize).toEqual([32, 32]);
    expect(c.qkScale).toBe(0.125);
    expect(c.eps).toBe(1e-5);
  });

  it('runs a fusion of two cross-attention layers (the second sees only the class token)', () => {
    const model = adapter.fromReferenceConfig({
      img_size: [24, 32],
      patch_size: [12, 16],
      embed_dim: [16, 32],
      depth: [[1, 1, 2]],
      num_heads: [2, 4],
      mlp_ratio: [2, 2, 1],
      num_classes: 3,
    });
    try {
      model.eval();
      const y = tf.tidy(() => model.forward(tf.randomNormal([2, 24, 24, 3], 0, 1, 'float32', 1)));
      expect(y.shape).toEqual([2, 3]);
      y.dispose();
      expect(model.numParams()).toBe(model.complexity().params);
    } finally {
      model.dispose();
    }
  });

  it.each([
    [{ patch_sizes: [12, 16] }, "'patch_sizes' is not an argument"],
    [{ hybrid_backbone: 't2t' }, "'hybrid_backbone' is not supported"],
    [{ norm_layer: 'LayerNorm' }, "'norm_layer' is a Python callable"],
    [{ qkv_bias: 1 }, "'qkv_bias' must be true or false"],
    [{ depth: [1, 2, 0] }, "'depth' must be a list of per-encoder lists"],
  ])('rejects %j', (bad, message) => {
    expect(() => adapter.fromReferenceConfig(bad)).toThrow(message);
  });

  it.each([
    [{ multi_conv: true }, 'CrossViT multi_conv'],
    [{ img_size: [240, 224], patch_size: [12, 16], depth: [[1, 0, 0]] }, 'CrossViT depth'],
    [{ img_size: [50, 48], patch_size: [12, 16] }, 'CrossViT img_size'],
    [{ embed_dim: [192, 384], num_heads: [5, 12] }, 'CrossViT num_heads'],
  ])('rejects the configuration %j the reference cannot run or this port does not support', (bad, message) => {
    expect(() => adapter.fromReferenceConfig(bad)).toThrow(message);
  });
});
