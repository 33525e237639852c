import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, type Cost, Layer, type OnnxScope, onnxMapToTokens, ReLU, Sequential, sumCosts, type TokenEmbedder } from '@vitkit/core';

/** The three convolutions of one dagger stem: [kernel, stride, padding]. */
type ConvSpec = [number, number, number];

/**
 * The official code builds the dagger stem only for patch 12 and 16: a 7x7
 * stride-4 convolution, then two 3x3 ones whose strides make up the rest of
 * the patch (3 then 1 for 12, 2 then 2 for 16).
 */
const STEMS: Record<number, [ConvSpec, ConvSpec, ConvSpec]> = {
  12: [
    [7, 4, 3],
    [3, 3, 0],
    [3, 1, 1],
  ],
  16: [
    [7, 4, 3],
    [3, 2, 1],
    [3, 2, 1],
  ],
};

export const MULTI_CONV_PATCH_SIZES = Object.keys(STEMS).map(Number);

function stem(patchSize: number): [ConvSpec, ConvSpec, ConvSpec] {
  const s = STEMS[patchSize];
  if (!s)
    throw new Error(`multi_conv: the reference builds the convolutional patch embedding only for patch size 12 or 16, not ${patchSize}`);
  return s;
}

/** Channel widths of the three convolutions: embedDim/4, embedDim/2, embedDim (floored, as `//`). */
function widths(embedDim: number): [number, number, number] {
  return [Math.floor(embedDim / 4), Math.floor(embedDim / 2), embedDim];
}

/**
 * CrossViT-dagger's patch embedding (`multi_conv=True`): three convolutions
 * with ReLUs between them instead of one patchify convolution, named
 * `proj.0`, `proj.2`, `proj.4` as in the reference's nn.Sequential.
 */
export class MultiConvPatchEmbed extends Layer implements TokenEmbedder {
  readonly proj: Sequential;

  constructor(
    readonly patchSize: number,
    readonly inChannels: number,
    readonly embedDim: number,
  ) {
    super();
    const specs = stem(patchSize);
    const outs = widths(embedDim);
    const ins = [inChannels, outs[0], outs[1]];
    const layers: Layer[] = [];
    specs.forEach(([k, stride, padding], i) => {
      if (i > 0) layers.push(new ReLU());
      layers.push(new Conv2d(ins[i]!, outs[i]!, k, { stride, padding }));
    });
    this.proj = this.addModule('proj', new Sequential(layers));
  }

  gridSize(h: number, w: number): [number, number] {
    const { outH, outW } = MultiConvPatchEmbed.cost(this.patchSize, this.inChannels, this.embedDim, h, w);
    return [outH, outW];
  }

  /** x: [B, H, W, Cin] NHWC -> [B, N, C], tokens in row-major grid order (PyTorch's flatten(2)). */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.reshape(this.proj.forward(x), [x.shape[0]!, -1, this.embedDim]));
  }

  /** x: the NCHW image -> [B, N, C]. */
  toOnnx(g: OnnxScope, x: string): string {
    return onnxMapToTokens(g, g.lower('proj', this.proj, x), this.embedDim);
  }

  embedCost(h: number, w: number): Cost {
    return MultiConvPatchEmbed.cost(this.patchSize, this.inChannels, this.embedDim, h, w);
  }

  static cost(patchSize: number, inChannels: number, embedDim: number, h: number, w: number): Cost & { outH: number; outW: number } {
    const outs = widths(embedDim);
    const ins = [inChannels, outs[0], outs[1]];
    let size = { outH: h, outW: w };
    const costs = stem(patchSize).map(([k, stride, padding], i) => {
      const c = Conv2d.cost(ins[i]!, outs[i]!, k, size.outH, size.outW, { stride, padding });
      size = c;
      return c;
    });
    return { ...sumCosts(...costs), outH: size.outH, outW: size.outW };
  }
}
