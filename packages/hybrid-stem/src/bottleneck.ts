// The residual block of timm's ResNetV2 without pre-activation (its
// `Bottleneck`, the ResNet v1.5 layout the ViT hybrids use): 1x1 to the mid
// width, 3x3 at the block's stride, 1x1 back out, GroupNorm after each
// convolution (ReLU after the first two), ReLU after the residual sum. The
// first block of a stage projects its shortcut with a 1x1 convolution and a
// GroupNorm without activation (timm's DownsampleConv).
import * as tf from '@tensorflow/tfjs-core';
import { type Cost, Layer, noCost, type OnnxScope, sumCosts } from '@vitkit/core';
import { GroupNormAct } from './group-norm-act.js';
import type { OnnxMap } from './same-padding.js';
import { StdConv2d } from './std-conv2d.js';

/** The projection shortcut: children `conv` and `norm`. */
export class DownsampleConv extends Layer {
  readonly conv: StdConv2d;
  readonly norm: GroupNormAct;

  constructor(inChannels: number, outChannels: number, stride: number, paddingSame: boolean) {
    super();
    this.conv = this.addModule('conv', new StdConv2d(inChannels, outChannels, 1, { stride, paddingSame }));
    this.norm = this.addModule('norm', new GroupNormAct(outChannels, { act: false }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.norm.forward(this.conv.forward(x));
  }

  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    return lowerConvNorm(g, 'conv', this.conv, 'norm', this.norm, x);
  }

  static cost(inChannels: number, outChannels: number, stride: number, h: number, w: number, paddingSame: boolean): Cost {
    return sumCosts(StdConv2d.cost(inChannels, outChannels, 1, h, w, { stride, paddingSame }), GroupNormAct.cost(outChannels));
  }
}

/** A StdConv2d then its GroupNormAct, each lowered in its own scope. */
function lowerConvNorm(g: OnnxScope, convName: string, conv: StdConv2d, normName: string, norm: GroupNormAct, x: OnnxMap): OnnxMap {
  return g.lower<OnnxMap, OnnxMap>(normName, norm, g.lower<OnnxMap, OnnxMap>(convName, conv, x));
}

export interface BottleneckConfig {
  inChannels: number;
  outChannels: number;
  /** Width of the 3x3 convolution (timm: make_div(out / 4)). */
  midChannels: number;
  /** Of the 3x3 convolution and the shortcut's projection. */
  stride: number;
  /** A projection shortcut (each stage's first block). */
  project: boolean;
  paddingSame: boolean;
}

/** Children named as timm's: conv1, norm1, conv2, norm2, conv3, norm3 and, when projecting, downsample. */
export class Bottleneck extends Layer {
  readonly downsample: DownsampleConv | null;
  readonly conv1: StdConv2d;
  readonly norm1: GroupNormAct;
  readonly conv2: StdConv2d;
  readonly norm2: GroupNormAct;
  readonly conv3: StdConv2d;
  readonly norm3: GroupNormAct;

  constructor(readonly config: BottleneckConfig) {
    super();
    const { inChannels, outChannels, midChannels, stride, paddingSame } = config;
    if (!config.project && (stride !== 1 || inChannels !== outChannels)) {
      throw new Error(
        `Bottleneck: without a projection the shortcut needs stride 1 and in = out channels (got stride ${stride}, ${inChannels} -> ${outChannels})`,
      );
    }
    this.downsample = config.project
      ? this.addModule('downsample', new DownsampleConv(inChannels, outChannels, stride, paddingSame))
      : null;
    this.conv1 = this.addModule('conv1', new StdConv2d(inChannels, midChannels, 1, { paddingSame }));
    this.norm1 = this.addModule('norm1', new GroupNormAct(midChannels));
    this.conv2 = this.addModule('conv2', new StdConv2d(midChannels, midChannels, 3, { stride, paddingSame }));
    this.norm2 = this.addModule('norm2', new GroupNormAct(midChannels));
    this.conv3 = this.addModule('conv3', new StdConv2d(midChannels, outChannels, 1, { paddingSame }));
    this.norm3 = this.addModule('norm3', new GroupNormAct(outChannels, { act: false }));
  }

  /** x: [B, H, W, in] -> [B, H / stride, W / stride, out]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const shortcut = this.downsample ? this.downsample.forward(x) : x;
      let y = this.norm1.forward(this.conv1.forward(x));
      y = this.norm2.forward(this.conv2.forward(y));
      y = this.norm3.forward(this.conv3.forward(y));
      return tf.relu(tf.add(y, shortcut));
    });
  }

  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    const shortcut = this.downsample ? g.lower<OnnxMap, OnnxMap>('downsample', this.downsample, x) : x;
    let y = lowerConvNorm(g, 'conv1', this.conv1, 'norm1', this.norm1, x);
    y = lowerConvNorm(g, 'conv2', this.conv2, 'norm2', this.norm2, y);
    y = lowerConvNorm(g, 'conv3', this.conv3, 'norm3', this.norm3, y);
    return { value: g.op('Relu', [g.op('Add', [y.value, shortcut.value])]), h: y.h, w: y.w };
  }

  /** Cost of one h x w input map, and the output size. */
  static cost(config: BottleneckConfig, h: number, w: number): Cost & { outH: number; outW: number } {
    const { inChannels, outChannels, midChannels, stride, paddingSame } = config;
    const conv2 = StdConv2d.cost(midChannels, midChannels, 3, h, w, { stride, paddingSame });
    return {
      ...sumCosts(
        config.project ? DownsampleConv.cost(inChannels, outChannels, stride, h, w, paddingSame) : noCost,
        StdConv2d.cost(inChannels, midChannels, 1, h, w, { paddingSame }),
        GroupNormAct.cost(midChannels),
        conv2,
        GroupNormAct.cost(midChannels),
        StdConv2d.cost(midChannels, outChannels, 1, conv2.outH, conv2.outW, { paddingSame }),
        GroupNormAct.cost(outChannels),
      ),
      outH: conv2.outH,
      outW: conv2.outW,
    };
  }
}
