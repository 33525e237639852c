// The token embedder of the ViT paper's hybrid (Dosovitskiy et al. 2021,
// section 3.1: "the input sequence can be formed from feature maps of a CNN"),
// timm's HybridEmbed: a ResNetV2 turns the image into a feature map, and a
// convolution with kernel = stride = patch size projects it to the model
// width, one token per patch (timm's hybrids use patch 1: one token per
// feature-map cell).
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  type Cost,
  type IntermediateRecorder,
  Layer,
  type OnnxScope,
  onnxMapToTokens,
  sumCosts,
  type TokenEmbedder,
} from '@vitkit/core';
import { ResNetV2Stem } from './resnet-stem.js';
import { planResNetV2, ResNetV2, type ResNetV2Config } from './resnet-v2.js';
import type { OnnxMap } from './same-padding.js';

export interface HybridEmbedConfig {
  /** The backbone; with `layers: []` it is the stem alone, as timm's `_resnetv2` builds it. */
  backbone: ResNetV2Config;
  /** Side of the square patches cut from the feature map (default 1, timm's hybrid default). */
  patchSize?: number;
}

/** Children `backbone` (a ResNetV2, or for `layers: []` its stem with `conv` and `norm`) and `proj`, as timm's. */
export class HybridEmbed extends Layer implements TokenEmbedder {
  readonly backbone: ResNetV2 | ResNetV2Stem;
  readonly proj: Conv2d;
  readonly patchSize: number;
  readonly featureChannels: number;

  constructor(
    readonly inChannels: number,
    readonly embedDim: number,
    readonly config: HybridEmbedConfig,
    /** The model's image size: an exported graph is fixed at it, its "SAME" pads computed for it. */
    readonly imgSize: [number, number],
  ) {
    super();
    this.patchSize = patchSizeOf(config);
    const backbone = { ...config.backbone, inChannels };
    const plan = planResNetV2(backbone);
    this.featureChannels = plan.outChannels;
    this.backbone = this.addModule(
      'backbone',
      plan.stages.length > 0 ? new ResNetV2(backbone) : new ResNetV2Stem(inChannels, plan.stemChannels, plan.paddingSame),
    );
    this.proj = this.addModule('proj', new Conv2d(plan.outChannels, embedDim, this.patchSize, { stride: this.patchSize }));
  }

  /** Token grid of an h x w image; throws unless the patches tile the backbone's feature map. */
  gridSize(h: number, w: number): [number, number] {
    return HybridEmbed.grid(this.inChannels, this.config, h, w);
  }

  /**
   * x: [B, H, W, Cin] NHWC -> tokens [B, gh*gw, embedDim], row-major over the grid.
   * `record` receives the backbone's maps under timm's names (`backbone.stem`,
   * `backbone.stages.0`, ... or, for a stem alone, `backbone.conv`, `backbone.norm`,
   * `backbone.pool`), its output (`backbone`) and the projected map (`proj`), NHWC.
   */
  forward(x: tf.Tensor, record?: IntermediateRecorder): tf.Tensor {
    const [b, h, w] = x.shape as number[];
    this.gridSize(h!, w!);
    const features = this.backbone.forward(x, record && ((name, t) => record(`backbone.${name}`, t)));
    record?.('backbone', features);
    const projected = this.proj.forward(features);
    record?.('proj', projected);
    return tf.reshape(projected, [b!, -1, this.embedDim]);
  }

  /** x: the NCHW image of the model's size -> tokens: the backbone with static pads, `proj`, then the map as tokens. */
  toOnnx(g: OnnxScope, x: string): string {
    const [h, w] = this.imgSize;
    const features = g.lower<OnnxMap, OnnxMap>('backbone', this.backbone, { value: x, h, w });
    return onnxMapToTokens(g, g.lower('proj', this.proj, features.value), this.embedDim);
  }

  embedCost(h: number, w: number): Cost {
    return HybridEmbed.cost(this.inChannels, this.embedDim, this.config, h, w);
  }

  /** Token grid of an h x w image, without building anything. */
  static grid(inChannels: number, config: HybridEmbedConfig, h: number, w: number): [number, number] {
    const p = patchSizeOf(config);
    const { outH, outW } = ResNetV2.cost({ ...config.backbone, inChannels }, h, w);
    if (outH % p !== 0 || outW % p !== 0) {
      throw new Error(
        `HybridEmbed: the backbone turns a ${h}x${w} image into a ${outH}x${outW} feature map, which ${p}x${p} patches do not tile`,
      );
    }
    return [outH / p, outW / p];
  }

  /** Parameters and MACs of backbone and projection for one h x w image. */
  static cost(inChannels: number, embedDim: number, config: HybridEmbedConfig, h: number, w: number): Cost {
    const p = patchSizeOf(config);
    const backbone = ResNetV2.cost({ ...config.backbone, inChannels }, h, w);
    HybridEmbed.grid(inChannels, config, h, w);
    return sumCosts(backbone, Conv2d.cost(backbone.outChannels, embedDim, p, backbone.outH, backbone.outW, { stride: p }));
  }
}

function patchSizeOf(config: HybridEmbedConfig): number {
  const p = config.patchSize ?? 1;
  if (!Number.isInteger(p) || p < 1) throw new Error(`HybridEmbed: patchSize must be a positive whole number (got ${JSON.stringify(p)})`);
  return p;
}

/**
 * An `embedLayer` for @vitkit/vit's VisionTransformer: a HybridEmbed of the
 * model's input channels and width, refused before any weight is made when
 * its patches do not tile the feature map of the model's image size.
 */
export function hybridEmbedLayer(
  config: HybridEmbedConfig,
): (imgSize: [number, number], inChannels: number, embedDim: number) => HybridEmbed {
  return ([h, w], inChannels, embedDim) => {
    HybridEmbed.grid(inChannels, config, h, w);
    return new HybridEmbed(inChannels, embedDim, config, [h, w]);
  };
}
