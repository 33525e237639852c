import type * as tf from '@tensorflow/tfjs-core';
import { Conv2d, type Cost, LayerNorm, Layer, type OnnxScope, sumCosts } from '@vitkit/core';
import { CSWIN_EPS, type OnnxTokenMap } from './cswin-block.js';

/**
 * Between stages (the reference's Merge_Block): a 3x3 stride-2 convolution
 * (padding 1) halves the grid and changes the width, then LayerNorm.
 */
export class MergeBlock extends Layer {
  readonly conv: Conv2d;
  readonly norm: LayerNorm;

  constructor(
    readonly dim: number,
    readonly dimOut: number,
  ) {
    super();
    this.conv = this.addModule('conv', new Conv2d(dim, dimOut, 3, { stride: 2, padding: 1 }));
    this.norm = this.addModule('norm', new LayerNorm(dimOut, CSWIN_EPS));
  }

  /** x: [B, H, W, dim] -> [B, ceil(H/2), ceil(W/2), dimOut]. */
  forward(x: tf.Tensor): tf.Tensor {
    return this.norm.forward(this.conv.forward(x));
  }

  /** The NHWC map through Conv (on NCHW) and LayerNorm. */
  toOnnx(g: OnnxScope, { value, h, w }: OnnxTokenMap): OnnxTokenMap {
    const conv = g.transpose(g.lower('conv', this.conv, g.transpose(value, [0, 3, 1, 2])), [0, 2, 3, 1]);
    const [outH, outW] = this.conv.outputSize(h, w);
    return { value: g.lower('norm', this.norm, conv), h: outH, w: outW };
  }

  /** Cost on an h x w grid, with the output grid. */
  static cost(dim: number, dimOut: number, h: number, w: number): Cost & { outH: number; outW: number } {
    const conv = Conv2d.cost(dim, dimOut, 3, h, w, { stride: 2, padding: 1 });
    return { ...sumCosts(conv, LayerNorm.cost(dimOut)), outH: conv.outH, outW: conv.outW };
  }
}
