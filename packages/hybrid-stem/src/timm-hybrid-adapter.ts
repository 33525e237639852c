// The bridge to timm 0.6.13's hybrid ViT (vision_transformer_hybrid.py): the
// model that VisionTransformer's keyword arguments plus a `backbone` (ResNetV2's
// layers, channels, stem_chs, padding_same) describe, timm's checkpoint names
// (ours already, position embeddings as any ViT's), and the sub-module outputs laid out as PyTorch emits them
// (feature maps NCHW, tokens [B, N, C]).
import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier, ReferenceAdapter } from '@vitkit/core';
import { optionsFromTimmKwargs, VisionTransformer, vitReferenceAdapter } from '@vitkit/vit';
import { HybridEmbed } from './hybrid-embed.js';
import { createResNetHybrid } from './resnet-hybrid.js';
import type { ResNetV2Config } from './resnet-v2.js';

const BACKBONE_KEYS = ['layers', 'channels', 'stem_chs', 'padding_same'];

function fail(key: string, why: string): never {
  throw new Error(`timm hybrid reference config: ${key} ${why}`);
}

function intList(v: unknown, key: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
    fail(key, `must be a list of positive whole numbers (got ${JSON.stringify(v)})`);
  }
  return v as number[];
}

/** ResNetV2's arguments as `_resnetv2` and ResNetV2 take them. */
export function backboneFromTimmArgs(args: unknown): ResNetV2Config {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    fail('backbone', `must be an object with ${BACKBONE_KEYS.join(', ')} (got ${JSON.stringify(args)})`);
  }
  const a = args as Record<string, unknown>;
  const unknown = Object.keys(a).filter((k) => !BACKBONE_KEYS.includes(k));
  if (unknown.length) fail('backbone', `has unknown key(s) ${unknown.join(', ')} (accepted: ${BACKBONE_KEYS.join(', ')})`);
  if (a['layers'] === undefined) fail('backbone.layers', 'is required (blocks per stage; [] for the stem alone)');
  const config: ResNetV2Config = { layers: intList(a['layers'], 'backbone.layers') };
  if (a['channels'] !== undefined) config.channels = intList(a['channels'], 'backbone.channels');
  if (a['stem_chs'] !== undefined) {
    const v = a['stem_chs'];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      fail('backbone.stem_chs', `must be a positive whole number (got ${JSON.stringify(v)})`);
    config.stemChannels = v;
  }
  if (a['padding_same'] !== undefined) {
    if (typeof a['padding_same'] !== 'boolean')
      fail('backbone.padding_same', `must be true or false (got ${JSON.stringify(a['padding_same'])})`);
    config.paddingSame = a['padding_same'];
  }
  return config;
}

/** The model timm's hybrid builds from these arguments (patch_size defaults to 1 there). */
export function fromTimmHybridArgs(args: Record<string, unknown>): VisionTransformer {
  const { backbone, ...vitArgs } = args;
  if (backbone === undefined) fail('backbone', "is required (ResNetV2's layers, channels, stem_chs, padding_same)");
  const config = backboneFromTimmArgs(backbone);
  const { patchSize, ...options } = optionsFromTimmKwargs(vitArgs);
  return createResNetHybrid({ ...options, backbone: config, patchSize: patchSize ?? 1 });
}

/** NHWC maps to PyTorch's NCHW; tokens and logits stay as they are. */
const asReference = (t: tf.Tensor) => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t);

export const timmHybridReferenceAdapter: ReferenceAdapter = {
  family: 'hybrid-stem',
  reference: 'timm',
  fromReferenceConfig: fromTimmHybridArgs,
  convertStateDict: vitReferenceAdapter.convertStateDict,
  positionEmbeddings: vitReferenceAdapter.positionEmbeddings,
  forwardWithIntermediates(model: ImageClassifier, x: tf.Tensor4D) {
    if (!(model instanceof VisionTransformer) || !(model.patchEmbed instanceof HybridEmbed)) {
      throw new Error(`timm hybrid adapter: expected a VisionTransformer with a HybridEmbed, got ${model.constructor.name}`);
    }
    const intermediates: Record<string, tf.Tensor> = {};
    // The embedder runs once more on its own: the VisionTransformer records only its tokens.
    model.patchEmbed.forward(x, (name, t) => {
      intermediates[`patch_embed.${name}`] = asReference(t);
    });
    const record = (name: string, t: tf.Tensor) => {
      intermediates[name] = asReference(t);
    };
    const logits = model.forwardHead(model.forwardFeatures(x, record), { record });
    intermediates['head'] = logits;
    return { logits, intermediates };
  },
};
