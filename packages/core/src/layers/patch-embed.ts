import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { Conv2d } from './conv2d.js';
import { Layer } from './layer.js';
import type { OnnxScope } from '../onnx/graph.js';

/**
 * Anything that turns an NHWC image into a grid of tokens [B, gh*gw, embedDim]:
 * the patchify convolution below, or a convolutional stem (@vitkit/hybrid-stem),
 * so any ViT can be fronted by either.
 */
export interface TokenEmbedder extends Layer {
  readonly embedDim: number;
  /** Token grid [gh, gw] of an h x w image; throws if the image does not fit. */
  gridSize(h: number, w: number): [number, number];
  /** Parameters and MACs for one h x w image. */
  embedCost(h: number, w: number): Cost;
}

/** A feature map [B, C, gh, gw] (NCHW, as an exported graph computes) to tokens [B, gh*gw, C], row-major over the grid. */
export function onnxMapToTokens(g: OnnxScope, map: string, channels: number): string {
  return g.transpose(g.reshape(map, [0, channels, -1]), [0, 2, 1]);
}

/** Patch grid [gh, gw] of an h x w image cut into patchSize x patchSize patches (a partial last row or column is dropped). */
export function patchGrid(patchSize: number, h: number, w: number): [number, number] {
  return [Math.floor(h / patchSize), Math.floor(w / patchSize)];
}

/** Throws, naming `layer`, unless patchSize x patchSize patches tile the h x w image exactly. */
export function assertPatchesTile(layer: string, patchSize: number, h: number, w: number): void {
  if (h % patchSize !== 0 || w % patchSize !== 0) throw new Error(`${layer}: image ${h}x${w} is not divisible by patch size ${patchSize}`);
}

/** Image to patch tokens: a patch-size convolution (`proj`), then [B, H', W', C] -> [B, H'*W', C]. */
export class PatchEmbed extends Layer implements TokenEmbedder {
  readonly proj: Conv2d;

  constructor(
    readonly patchSize: number,
    readonly inChannels: number,
    readonly embedDim: number,
  ) {
    super();
    this.proj = this.addModule('proj', new Conv2d(inChannels, embedDim, patchSize, { stride: patchSize }));
  }

  /** Patch grid of an h x w image. */
  gridSize(h: number, w: number): [number, number] {
    return patchGrid(this.patchSize, h, w);
  }

  /** x: [B, H, W, Cin] NHWC -> [B, N, C]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [b, h, w] = x.shape as [number, number, number, number];
    assertPatchesTile('PatchEmbed', this.patchSize, h, w);
    const y = this.proj.forward(x);
    return tf.reshape(y, [b, -1, this.embedDim]);
  }

  /** x: the NCHW image -> [B, N, C]. */
  toOnnx(g: OnnxScope, x: string): string {
    return onnxMapToTokens(g, g.lower('proj', this.proj, x), this.embedDim);
  }

  embedCost(h: number, w: number): Cost {
    return PatchEmbed.cost(this.patchSize, this.inChannels, this.embedDim, h, w);
  }

  static cost(patchSize: number, inChannels: number, embedDim: number, h: number, w: number): Cost {
    return Conv2d.cost(inChannels, embedDim, patchSize, h, w, { stride: patchSize });
  }
}
