// R+ViT, the hybrid of Dosovitskiy et al. 2021 (https://arxiv.org/abs/2010.11929):
// @vitkit/vit's VisionTransformer with a HybridEmbed in front, as timm's
// _create_vision_transformer_hybrid builds it, so timm checkpoints load by name
// (`patch_embed.backbone.stem.conv.weight`, `patch_embed.proj.weight`, `blocks.0...`).
import type { Cost } from '@vitkit/core';
import { resolveConfig, VisionTransformer, type VisionTransformerOptions } from '@vitkit/vit';
import { HybridEmbed, type HybridEmbedConfig, hybridEmbedLayer } from './hybrid-embed.js';
import type { ResNetV2Config } from './resnet-v2.js';

export interface ResNetHybridOptions extends Omit<VisionTransformerOptions, 'patchSize' | 'embedLayer' | 'shiftedPatches'> {
  backbone: ResNetV2Config;
  /** Patches cut from the backbone's feature map (default 1, timm's hybrid default). */
  patchSize?: number;
}

function split(options: ResNetHybridOptions): { vit: VisionTransformerOptions; embed: HybridEmbedConfig } {
  const { backbone, patchSize, ...vit } = options;
  return { vit, embed: patchSize === undefined ? { backbone } : { backbone, patchSize } };
}

export function createResNetHybrid(options: ResNetHybridOptions): VisionTransformer {
  const { vit, embed } = split(options);
  return new VisionTransformer({ ...vit, embedLayer: hybridEmbedLayer(embed) });
}

/** Parameters and MACs of the model `createResNetHybrid(options)` builds, without building it. */
export function resNetHybridCost(options: ResNetHybridOptions): Cost {
  const { vit, embed } = split(options);
  const c = resolveConfig(vit);
  const [h, w] = c.imgSize;
  return VisionTransformer.cost(vit, {
    cost: HybridEmbed.cost(c.inChannels, c.embedDim, embed, h, w),
    grid: HybridEmbed.grid(c.inChannels, embed, h, w),
  });
}
