// GroupNorm (Wu & He 2018) followed by ReLU, timm's GroupNormAct: the norm of
// BiT's ResNetV2, which does not depend on the batch (the hybrids train at any
// batch size and standardise their convolution weights instead of using BatchNorm).
import * as tf from '@tensorflow/tfjs-core';
import { type Cost, Layer, type OnnxScope, onnxAttr, readFloats } from '@vitkit/core';
import type { OnnxMap } from './same-padding.js';

export interface GroupNormActOptions {
  /** Groups of consecutive channels normalised together (timm's ResNetV2: 32). */
  groups?: number;
  eps?: number;
  /** ReLU after the norm (default true; false on a bottleneck's last norm and the projection shortcut). */
  act?: boolean;
}

/** torch.nn.GroupNorm (+ ReLU) on NHWC tensors: statistics per image and group over H, W and the group's channels. */
export class GroupNormAct extends Layer {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly groups: number;
  readonly eps: number;
  readonly act: boolean;

  constructor(
    readonly channels: number,
    options: GroupNormActOptions = {},
  ) {
    super();
    this.groups = options.groups ?? 32;
    this.eps = options.eps ?? 1e-5;
    this.act = options.act ?? true;
    if (!Number.isInteger(this.groups) || this.groups < 1 || channels % this.groups !== 0) {
      throw new Error(`GroupNormAct: ${channels} channels do not split into ${this.groups} groups of equal size`);
    }
    this.weight = this.addParameter('weight', tf.ones([channels]));
    this.bias = this.addParameter('bias', tf.zeros([channels]));
  }

  /** x: [B, H, W, C] -> the same shape. */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape as number[];
      // Channel c belongs to group floor(c / (C / G)), as in PyTorch's NCHW layout.
      const grouped = tf.reshape(x, [b!, h! * w!, this.groups, c! / this.groups]);
      const { mean, variance } = tf.moments(grouped, [1, 3], true);
      const normalized = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.eps))), [b!, h!, w!, c!]);
      const y = tf.add(tf.mul(normalized, this.weight), this.bias);
      return this.act ? tf.relu(y) : y;
    });
  }

  /**
   * Without GroupNormalization (its semantics changed in opset 21): Reshape to
   * [B, G, -1], LayerNormalization over the last axis with unit scale and no
   * bias (an optional input, zero when absent), Reshape back to [B, C, H, W],
   * the per-channel affine, then Relu. The scale is a graph constant, one for
   * all the norms whose groups hold as many values.
   */
  toOnnx(g: OnnxScope, x: OnnxMap): OnnxMap {
    const groupSize = (this.channels / this.groups) * x.h * x.w;
    const grouped = g.reshape(x.value, [0, this.groups, -1]);
    const unitScale = g.constant(`const_f32_ones_${groupSize}`, new Float32Array(groupSize).fill(1), [groupSize]);
    const normalized = g.op('LayerNormalization', [grouped, unitScale], {
      axis: onnxAttr.int(-1),
      epsilon: onnxAttr.float(this.eps),
    });
    const perChannel = (name: string, t: tf.Tensor) => g.initializer(name, readFloats(t), [this.channels, 1, 1]);
    const map = g.reshape(normalized, [0, this.channels, x.h, x.w]);
    const y = g.op('Add', [g.op('Mul', [map, perChannel('weight', this.weight)]), perChannel('bias', this.bias)]);
    return { value: this.act ? g.op('Relu', [y]) : y, h: x.h, w: x.w };
  }

  static cost(channels: number): Cost {
    return { params: 2 * channels, macs: 0 };
  }
}
