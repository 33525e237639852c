// The stem of timm's ResNetV2 without pre-activation (create_resnetv2_stem with
// preact=False): a 7x7 stride-2 weight-standardised convolution, GroupNorm +
// ReLU, and a 3x3 stride-2 max pool, a quarter of the input's resolution.
import type * as tf from '@tensorflow/tfjs-core';
import { type Cost, type IntermediateRecorder, Layer, maxPool2d, type OnnxScope, onnxAttr, sumCosts } from '@vitkit/core';
import { GroupNormAct } from './group-norm-act.js';
import { type OnnxMap, onnxPads, paddedOutputSize, windowPadding } from './same-padding.js';
import { StdConv2d } from './std-conv2d.js';

const CONV_KERNEL = 7;
const POOL_KERNEL = 3;
const STRIDE = 2;

/** Children `conv`, `norm` as timm names them (its `pool` has no parameters). */
export class ResNetV2Stem extends Layer {
  readonly conv: StdConv2d;
  readonly norm: GroupNormAct;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    /** TensorFlow's "SAME" padding (default true), else symmetric padding and a max pool padded by 1. */
    readonly paddingSame = true,
  ) {
    super();
    this.conv = this.addModule('conv', new StdConv2d(inChannels, outChannels, CONV_KERNEL, { stride: STRIDE, paddingSame }));
    this.norm = this.addModule('norm', new GroupNormAct(outChannels));
  }

  /** x: [B, H, W, Cin] -> [B, H/4, W/4, outChannels] (rounded up with "SAME"); `record` receives `conv`, `norm` and `pool`, NHWC. */
  forward(x: tf.Tensor, record?: IntermediateRecorder): tf.Tensor {
    const conv = this.conv.forward(x);
    record?.('conv', conv);
    const y = this.norm.forward(conv) as tf.Tensor4D;
    record?.('norm', y);
    const [, h, w] = y.shape;
    // timm's MaxPool2dSame pads with -inf, as PyTorch's MaxPool2d(3, 2, padding=1) does implicitly.
    const padding = windowPadding(this.paddingSame, h, w, POOL_KERNEL, STRIDE);
    const pooled = maxPool2d(y, [POOL_KERNEL, POOL_KERNEL], [STRIDE, STRIDE], padding);
    record?.('pool', pooled);
    return pooled;
  }

  /** Conv, the norm, and MaxPool with static pads (ONNX's MaxPool ignores padded cells, as the -inf padding does). */
  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    const y = g.lower<OnnxMap, OnnxMap>('norm', this.norm, g.lower<OnnxMap, OnnxMap>('conv', this.conv, x));
    const padding = windowPadding(this.paddingSame, y.h, y.w, POOL_KERNEL, STRIDE);
    const value = g.op('MaxPool', [y.value], {
      kernel_shape: onnxAttr.ints([POOL_KERNEL, POOL_KERNEL]),
      strides: onnxAttr.ints([STRIDE, STRIDE]),
      pads: onnxAttr.ints(onnxPads(padding)),
    });
    return {
      value,
      h: paddedOutputSize(y.h, POOL_KERNEL, STRIDE, padding[0]),
      w: paddedOutputSize(y.w, POOL_KERNEL, STRIDE, padding[1]),
    };
  }

  static cost(inChannels: number, outChannels: number, h: number, w: number, paddingSame = true): Cost & { outH: number; outW: number } {
    const conv = StdConv2d.cost(inChannels, outChannels, CONV_KERNEL, h, w, { stride: STRIDE, paddingSame });
    const [ph, pw] = windowPadding(paddingSame, conv.outH, conv.outW, POOL_KERNEL, STRIDE);
    return {
      ...sumCosts(conv, GroupNormAct.cost(outChannels)),
      outH: paddedOutputSize(conv.outH, POOL_KERNEL, STRIDE, ph),
      outW: paddedOutputSize(conv.outW, POOL_KERNEL, STRIDE, pw),
    };
  }
}
