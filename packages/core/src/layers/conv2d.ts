import * as tf from '@tensorflow/tfjs-core';
import type { Cost } from '../complexity.js';
import { uniform } from '../init.js';
import { conv2d, convOutSize, depthwiseConv2d, type Pair } from '../ops/conv.js';
import { Layer } from './layer.js';
import { toTorchLayout } from '../layout.js';
import { onnxAttr, type OnnxScope, readFloats } from '../onnx/graph.js';

export interface Conv2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  groups?: number;
  bias?: boolean;
}

const pair = (v: number | Pair): Pair => (typeof v === 'number' ? [v, v] : v);

/**
 * torch.nn.Conv2d on NHWC tensors: symmetric zero padding then a valid
 * convolution, groups (1, depthwise, or any divisor), optional bias.
 * Weights are stored [kh, kw, in/groups, out] (depthwise: [kh, kw, in, out/in]).
 */
export class Conv2d extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number | Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    this.kernel = pair(kernel);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: groups=${this.groups} must divide in=${inChannels} and out=${outChannels}`);
    }
    const [kh, kw] = this.kernel;
    // PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
    const bound = 1 / Math.sqrt((inChannels / this.groups) * kh * kw);
    const depthwise = this.isDepthwise();
    const shape = depthwise ? [kh, kw, inChannels, outChannels / inChannels] : [kh, kw, inChannels / this.groups, outChannels];
    this.weight = this.addParameter('weight', uniform(shape, bound), depthwise ? 'depthwise' : 'conv2d');
    this.bias = (options.bias ?? true) ? this.addParameter('bias', uniform([outChannels], bound)) : null;
  }

  private isDepthwise(): boolean {
    return this.groups > 1 && this.groups === this.inChannels;
  }

  /** x: [B, H, W, Cin] -> [B, H', W', Cout]. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x4 = x as tf.Tensor4D;
      const w = this.weight as tf.Tensor4D;
      let y: tf.Tensor4D;
      if (this.groups === 1) {
        y = conv2d(x4, w, this.stride, this.padding);
      } else if (this.isDepthwise()) {
        y = depthwiseConv2d(x4, w, this.stride, this.padding);
      } else {
        const xs = tf.split(x4, this.groups, 3);
        const ws = tf.split(w, this.groups, 3);
        y = tf.concat(
          xs.map((xg, g) => conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, this.stride, this.padding)),
          3,
        );
      }
      return this.bias ? tf.add(y, this.bias) : y;
    });
  }

  /** ONNX Conv on NCHW: the weight in PyTorch's layout, which is ONNX's, symmetric pads. */
  toOnnx(g: OnnxScope, x: string): string {
    const torch = toTorchLayout(this.weight, this.isDepthwise() ? 'depthwise' : 'conv2d');
    const weight = g.initializer('weight', readFloats(torch), [...torch.shape]);
    torch.dispose();
    const [ph, pw] = this.padding;
    return g.op('Conv', this.bias ? [x, weight, g.parameter('bias', this.bias)] : [x, weight], {
      kernel_shape: onnxAttr.ints([...this.kernel]),
      strides: onnxAttr.ints([...this.stride]),
      pads: onnxAttr.ints([ph, pw, ph, pw]),
      group: onnxAttr.int(this.groups),
    });
  }

  outputSize(h: number, w: number): Pair {
    return [
      convOutSize(h, this.kernel[0], this.stride[0], this.padding[0]),
      convOutSize(w, this.kernel[1], this.stride[1], this.padding[1]),
    ];
  }

  /** Cost of one image of h x w; also returns the output size. */
  static cost(
    inChannels: number,
    outChannels: number,
    kernel: number,
    h: number,
    w: number,
    options: { stride?: number; padding?: number; groups?: number; bias?: boolean } = {},
  ): Cost & { outH: number; outW: number } {
    const stride = options.stride ?? 1;
    const padding = options.padding ?? 0;
    const groups = options.groups ?? 1;
    const outH = convOutSize(h, kernel, stride, padding);
    const outW = convOutSize(w, kernel, stride, padding);
    const perOut = (inChannels / groups) * kernel * kernel;
    return {
      params: perOut * outChannels + ((options.bias ?? true) ? outChannels : 0),
      macs: outH * outW * outChannels * perOut,
      outH,
      outW,
    };
  }
}
