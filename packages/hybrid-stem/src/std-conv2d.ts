// Weight-standardised convolution (Qiao et al. 2019, "Micro-Batch Training
// with Batch-Channel Normalization and Weight Standardization"), as BiT and
// timm's ResNetV2 use it under GroupNorm: each output filter is shifted to
// mean 0 and scaled to variance 1 (biased, over in x kh x kw, eps inside the
// square root) before an ordinary convolution without bias.
import * as tf from '@tensorflow/tfjs-core';
import {
  Conv2d,
  type Cost,
  conv2d,
  kaimingNormalFanOut,
  Layer,
  type OnnxScope,
  onnxAttr,
  type Pair,
  readFloats,
  toTorchLayout,
} from '@vitkit/core';
import { type OnnxMap, onnxPads, paddedOutputSize, windowPadding } from './same-padding.js';

export interface StdConv2dOptions {
  stride?: number;
  /** TensorFlow's "SAME" padding for each input size (default true), or timm's symmetric get_padding. */
  paddingSame?: boolean;
  /** Added to each filter's variance (timm's hybrids: 1e-8). */
  eps?: number;
}

/** Filters [kh, kw, in, out] standardised over everything but the output axis. */
function standardize(weight: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(weight, [0, 1, 2]);
  return tf.mul(tf.sub(weight, mean), tf.rsqrt(tf.add(variance, eps)));
}

/**
 * timm's StdConv2d / StdConv2dSame on NHWC tensors (weights stored
 * [kh, kw, in, out], PyTorch's [out, in, kh, kw] in the state dict). In
 * training the standardisation is part of the graph, so gradients flow through
 * it. In eval mode the weights are frozen: the standardised filters are
 * computed once and kept until the weight variable changes (a checkpoint load
 * or an optimizer step assigns it new data), so inference costs one plain
 * convolution; gradients with respect to the weight are then not tracked.
 */
export class StdConv2d extends Layer {
  readonly weight: tf.Variable;
  readonly stride: number;
  readonly paddingSame: boolean;
  readonly eps: number;
  /** The standardised filters and the weight data they were computed from. */
  private frozen: { source: object; filters: tf.Tensor } | null = null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: StdConv2dOptions = {},
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.paddingSame = options.paddingSame ?? true;
    this.eps = options.eps ?? 1e-8;
    // timm's ResNetV2 init (He normal, fan out); the standardisation discards its scale, keeping the random directions.
    this.weight = this.addParameter(
      'weight',
      kaimingNormalFanOut([kernel, kernel, inChannels, outChannels], outChannels * kernel * kernel),
      'conv2d',
    );
  }

  /** The filters the convolution uses: standardised in the graph in training, cached in eval mode. */
  standardizedWeight(): tf.Tensor {
    if (this.training) {
      this.releaseFrozen();
      return standardize(this.weight, this.eps);
    }
    const source = this.weight.dataId;
    if (this.frozen?.source !== source) {
      this.releaseFrozen();
      this.frozen = { source, filters: tf.keep(tf.tidy(() => standardize(this.weight, this.eps))) };
    }
    return this.frozen.filters;
  }

  private releaseFrozen(): void {
    this.frozen?.filters.dispose();
    this.frozen = null;
  }

  /** x: [B, H, W, Cin] -> [B, H', W', Cout]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [, h, w] = x.shape as number[];
      const [ph, pw] = windowPadding(this.paddingSame, h!, w!, this.kernel, this.stride);
      const padded = ph[0] + ph[1] + pw[0] + pw[1] > 0 ? tf.pad(x, [[0, 0], ph, pw, [0, 0]]) : x;
      const stride: Pair = [this.stride, this.stride];
      return conv2d(padded as tf.Tensor4D, this.standardizedWeight() as tf.Tensor4D, stride, [0, 0]);
    });
  }

  /** ONNX Conv without bias on the eval-mode standardised filters, padded for this map's size. */
  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    const padding = windowPadding(this.paddingSame, x.h, x.w, this.kernel, this.stride);
    const torch = toTorchLayout(this.standardizedWeight(), 'conv2d');
    const weight = g.initializer('weight', readFloats(torch), [...torch.shape]);
    torch.dispose();
    const value = g.op('Conv', [x.value, weight], {
      kernel_shape: onnxAttr.ints([this.kernel, this.kernel]),
      strides: onnxAttr.ints([this.stride, this.stride]),
      pads: onnxAttr.ints(onnxPads(padding)),
    });
    return {
      value,
      h: paddedOutputSize(x.h, this.kernel, this.stride, padding[0]),
      w: paddedOutputSize(x.w, this.kernel, this.stride, padding[1]),
    };
  }

  override dispose(): void {
    this.releaseFrozen();
    super.dispose();
  }

  /** Cost of one h x w image, and the output size: an unpadded convolution of the padded map. */
  static cost(
    inChannels: number,
    outChannels: number,
    kernel: number,
    h: number,
    w: number,
    options: StdConv2dOptions = {},
  ): Cost & { outH: number; outW: number } {
    const stride = options.stride ?? 1;
    const [ph, pw] = windowPadding(options.paddingSame ?? true, h, w, kernel, stride);
    return Conv2d.cost(inChannels, outChannels, kernel, h + ph[0] + ph[1], w + pw[0] + pw[1], { stride, bias: false });
  }
}
