import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, type Cost, Layer, type OnnxScope, onnxMapToTokens, sumCosts, type TokenEmbedder } from '@vitkit/core';

/**
 * A convolutional stem as pycls describes one (c_stem_kernels, c_stem_strides,
 * c_stem_dims): every layer but the last is a k x k convolution without bias,
 * BatchNorm and ReLU; the last is a convolution with bias to the model width
 * (1x1 in the paper). Padding is k // 2, as pycls' conv2d.
 */
export interface ConvStemConfig {
  kernels: number[];
  strides: number[];
  /** Output channels of each layer; the last one is the token width. */
  dims: number[];
}

/** The BatchNorm of the stem: PyTorch's defaults, which pycls keeps (cfg.BN.EPS, cfg.BN.MOM). */
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

/**
 * Early convolutions (Xiao et al. 2021, "Early Convolutions Help Transformers
 * See Better", https://arxiv.org/abs/2106.14881): replaces the patchify stem of
 * a ViT, producing one token per cell of its output grid. Children are named as
 * pycls' ViTStemConv (`cstem{i}_conv`, `cstem{i}_bn`, `cstem_last_conv`), the only
 * reference for this stem. Implements TokenEmbedder, so it can front any ViT.
 */
export class ConvStem extends Layer implements TokenEmbedder {
  readonly embedDim: number;
  /** The image side must be a multiple of this: the product of the strides. */
  readonly totalStride: number;
  private readonly convs: Conv2d[] = [];
  private readonly norms: BatchNorm2d[] = [];
  private readonly lastConv: Conv2d;

  constructor(
    readonly inChannels: number,
    readonly config: ConvStemConfig,
  ) {
    super();
    validateStemConfig(config);
    const { kernels, strides, dims } = config;
    const last = kernels.length - 1;
    let channels = inChannels;
    for (let i = 0; i < last; i++) {
      const k = kernels[i]!;
      const conv = new Conv2d(channels, dims[i]!, k, { stride: strides[i]!, padding: k >> 1, bias: false });
      this.convs.push(this.addModule(`cstem${i}_conv`, conv));
      this.norms.push(this.addModule(`cstem${i}_bn`, new BatchNorm2d(dims[i]!, BN_EPS, BN_MOMENTUM)));
      channels = dims[i]!;
    }
    const k = kernels[last]!;
    this.lastConv = this.addModule(
      'cstem_last_conv',
      new Conv2d(channels, dims[last]!, k, { stride: strides[last]!, padding: k >> 1, bias: true }),
    );
    this.embedDim = dims[last]!;
    this.totalStride = strides.reduce((a, s) => a * s, 1);
  }

  /** Token grid of an h x w image; throws if the image does not fit (see convStemGrid). */
  gridSize(h: number, w: number): [number, number] {
    return convStemGrid(this.config, h, w);
  }

  /** x: [B, H, W, Cin] -> the stem's feature map [B, H/s, W/s, embedDim]. */
  forwardGrid(x: tf.Tensor): tf.Tensor {
    const [, h, w] = x.shape as number[];
    this.gridSize(h!, w!);
    let y = x;
    for (let i = 0; i < this.convs.length; i++) {
      y = tf.relu(this.norms[i]!.forward(this.convs[i]!.forward(y)));
    }
    return this.lastConv.forward(y);
  }

  /** x: [B, H, W, Cin] NHWC -> tokens [B, (H/s)*(W/s), embedDim], row-major over the grid. */
  forward(x: tf.Tensor): tf.Tensor {
    const grid = this.forwardGrid(x);
    return tf.reshape(grid, [grid.shape[0]!, -1, this.embedDim]);
  }

  /** x: the NCHW image -> tokens; Conv, BatchNormalization, Relu per layer (ONNX Runtime folds each BatchNorm into its Conv). */
  toOnnx(g: OnnxScope, x: string): string {
    let y = x;
    this.convs.forEach((conv, i) => {
      y = g.op('Relu', [g.lower(`cstem${i}_bn`, this.norms[i]!, g.lower(`cstem${i}_conv`, conv, y))]);
    });
    return onnxMapToTokens(g, g.lower('cstem_last_conv', this.lastConv, y), this.embedDim);
  }

  embedCost(h: number, w: number): Cost {
    return ConvStem.cost(this.inChannels, this.config, h, w);
  }

  /** Parameters (BatchNorm affine included, running statistics not) and MACs for one h x w image. */
  static cost(inChannels: number, config: ConvStemConfig, h: number, w: number): Cost {
    validateStemConfig(config);
    const { kernels, strides, dims } = config;
    const last = kernels.length - 1;
    const costs: Cost[] = [];
    let [ch, cw, channels] = [h, w, inChannels];
    for (let i = 0; i <= last; i++) {
      const k = kernels[i]!;
      const c = Conv2d.cost(channels, dims[i]!, k, ch, cw, { stride: strides[i]!, padding: k >> 1, bias: i === last });
      costs.push(c);
      if (i < last) costs.push(BatchNorm2d.cost(dims[i]!));
      [ch, cw, channels] = [c.outH, c.outW, dims[i]!];
    }
    return sumCosts(...costs);
  }
}

/**
 * Token grid of an h x w image through a stem. The stem only lines up with a
 * patch grid (and a position embedding made for it) when both sides are
 * multiples of the total stride; anything else is refused rather than silently
 * rounded up.
 */
export function convStemGrid(config: ConvStemConfig, h: number, w: number): [number, number] {
  const s = config.strides.reduce((a, x) => a * x, 1);
  if (!(h % s === 0 && w % s === 0 && h > 0 && w > 0)) {
    const [gh, gw] = stemOutputSize(config, h, w);
    throw new Error(
      `ConvStem: a ${h}x${w} image does not fit a stem of strides [${config.strides.join(', ')}] ` +
        `(total stride ${s}): both sides must be positive multiples of ${s} (this image would give a ${gh}x${gw} grid ` +
        `whose last cells see zero padding; resize or crop to ${Math.max(s, Math.round(h / s) * s)}x${Math.max(s, Math.round(w / s) * s)})`,
    );
  }
  return [h / s, w / s];
}

/** Output size of the stem for any h x w (each layer: floor((n + 2*(k//2) - k) / s) + 1). */
export function stemOutputSize(config: ConvStemConfig, h: number, w: number): [number, number] {
  let [gh, gw] = [h, w];
  config.kernels.forEach((k, i) => {
    const s = config.strides[i]!;
    gh = Math.floor((gh + 2 * (k >> 1) - k) / s) + 1;
    gw = Math.floor((gw + 2 * (k >> 1) - k) / s) + 1;
  });
  return [gh, gw];
}

function validateStemConfig({ kernels, strides, dims }: ConvStemConfig): void {
  if (kernels.length === 0) throw new Error('ConvStem: needs at least one layer (kernels is empty)');
  if (kernels.length !== strides.length || strides.length !== dims.length) {
    throw new Error(
      `ConvStem: kernels (${kernels.length}), strides (${strides.length}) and dims (${dims.length}) must have one entry per layer`,
    );
  }
  kernels.forEach((k, i) => {
    // Padding k // 2 keeps the grid centred only for odd kernels (pycls asserts the same).
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0)
      throw new Error(`ConvStem: kernel ${i} is ${k}; kernels must be odd positive integers`);
    if (!Number.isInteger(strides[i]) || strides[i]! < 1)
      throw new Error(`ConvStem: stride ${i} is ${strides[i]}; strides must be positive integers`);
    if (!Number.isInteger(dims[i]) || dims[i]! < 1) throw new Error(`ConvStem: dim ${i} is ${dims[i]}; dims must be positive integers`);
  });
}

/** A VisionTransformer `embedLayer`: builds the stem and counts it without building it. */
export interface ConvStemLayer {
  (imgSize: [number, number], inChannels: number, embedDim: number): ConvStem;
  cost(imgSize: [number, number], inChannels: number, embedDim: number): { cost: Cost; grid: [number, number] };
}

function stemLayer(configFor: (embedDim: number) => ConvStemConfig): ConvStemLayer {
  const create = (_imgSize: [number, number], inChannels: number, embedDim: number) => new ConvStem(inChannels, configFor(embedDim));
  const cost = ([h, w]: [number, number], inChannels: number, embedDim: number) => {
    const config = configFor(embedDim);
    return { cost: ConvStem.cost(inChannels, config, h, w), grid: convStemGrid(config, h, w) };
  };
  return Object.assign(create, { cost });
}

/**
 * The `embedLayer` of a stem given in full, as pycls gives it: its last dim
 * is the token width, so it must equal the ViT's embedDim.
 */
export function convStemLayer(config: ConvStemConfig): ConvStemLayer {
  validateStemConfig(config);
  return stemLayer((embedDim) => {
    const last = config.dims[config.dims.length - 1];
    if (last !== embedDim) throw new Error(`ConvStem: the stem ends at ${last} channels, but the model's embedDim is ${embedDim}`);
    return config;
  });
}

/**
 * An `embedLayer` for a ViT built elsewhere (e.g. @vitkit/vit's
 * VisionTransformer): the given 3x3 layers, then the 1x1 convolution with bias
 * to whatever width the ViT asks for, as in the paper's ViTC stems.
 */
export function convStemEmbedLayer(layers: ConvStemConfig): ConvStemLayer {
  return stemLayer((embedDim) => ({
    kernels: [...layers.kernels, 1],
    strides: [...layers.strides, 1],
    dims: [...layers.dims, embedDim],
  }));
}
