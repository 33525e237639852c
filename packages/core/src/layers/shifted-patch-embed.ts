import * as tf from '@tensorflow/tfjs-core';
import { type Cost, sumCosts } from '../complexity.js';
import { LayerNorm } from './layer-norm.js';
import { Layer } from './layer.js';
import { Linear } from './linear.js';
import type { TokenEmbedder } from './patch-embed.js';

/**
 * Shifted patch tokenization (Lee, Lee & Song 2021, "Vision Transformer for
 * Small-Size Datasets"): the image and four copies shifted by half a patch
 * diagonally (zeros fill what shifts in) are stacked on the channel axis, cut
 * into the same non-overlapping patches, and each flattened patch goes through
 * a LayerNorm and a linear projection. A token then also sees the pixels
 * around its patch, which a plain patchify ViT must learn through attention;
 * on small data that is most of what it learns slowly.
 */
export class ShiftedPatchEmbed extends Layer implements TokenEmbedder {
  /** The image and its four diagonal shifts. */
  static readonly copies = 5;
  readonly norm: LayerNorm;
  readonly proj: Linear;
  readonly patchFeatures: number;

  constructor(
    readonly patchSize: number,
    readonly inChannels: number,
    readonly embedDim: number,
  ) {
    super();
    this.patchFeatures = patchSize * patchSize * inChannels * ShiftedPatchEmbed.copies;
    // PyTorch's own defaults, as the paper's code: LayerNorm eps 1e-5, Linear U(+-1/sqrt(fan_in)).
    this.norm = this.addModule('norm', new LayerNorm(this.patchFeatures, 1e-5));
    this.proj = this.addModule('proj', new Linear(this.patchFeatures, embedDim, { init: 'uniform' }));
  }

  gridSize(h: number, w: number): [number, number] {
    return [Math.floor(h / this.patchSize), Math.floor(w / this.patchSize)];
  }

  /** x: [B, H, W, C] NHWC -> [B, N, embedDim]. */
  forward(x: tf.Tensor): tf.Tensor {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const p = this.patchSize;
    if (h % p !== 0 || w % p !== 0) throw new Error(`ShiftedPatchEmbed: image ${h}x${w} is not divisible by patch size ${p}`);
    const s = Math.floor(p / 2);
    const padded = tf.pad(x, [
      [0, 0],
      [s, s],
      [s, s],
      [0, 0],
    ]);
    // Up-left, up-right, down-left, down-right: shifted[i][j] = x[i + dy][j + dx].
    const shifts = [
      [-s, -s],
      [-s, s],
      [s, -s],
      [s, s],
    ].map(([dy, dx]) => tf.slice(padded, [0, s + dy!, s + dx!, 0], [b, h, w, c]));
    const stacked = tf.concat([x, ...shifts], 3);
    // [B, H, W, 5C] -> [B*gh, p, gw, p*5C] -> [B*gh, gw, p, p*5C] -> [B, gh*gw, p*p*5C] (rank-4 transpose: fast on WebAssembly).
    const [gh, gw] = [h / p, w / p];
    const rows = tf.reshape(stacked, [b * gh, p, gw, p * c * ShiftedPatchEmbed.copies]);
    const patches = tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [b, gh * gw, this.patchFeatures]);
    return this.proj.forward(this.norm.forward(patches));
  }

  embedCost(h: number, w: number): Cost {
    return ShiftedPatchEmbed.cost(this.patchSize, this.inChannels, this.embedDim, h, w);
  }

  static cost(patchSize: number, inChannels: number, embedDim: number, h: number, w: number): Cost {
    const features = patchSize * patchSize * inChannels * ShiftedPatchEmbed.copies;
    const patches = Math.floor(h / patchSize) * Math.floor(w / patchSize);
    return sumCosts(LayerNorm.cost(features), Linear.cost(features, embedDim, patches));
  }
}
