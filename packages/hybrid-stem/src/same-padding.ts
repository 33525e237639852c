// How timm's ResNetV2 pads its windows. With `padding_same` (the default for
// the ViT hybrids, whose weights come from TensorFlow) it is TensorFlow's
// "SAME": computed for each input size, the output is ceil(size / stride), and
// an odd total puts the extra pixel after (bottom, right). Without it, a fixed
// symmetric padding as PyTorch layers take it.
import type { Pair, SidePadding } from '@vitkit/core';

/** An NCHW value of an exported graph and its fixed spatial size (the lowerings compute static pads from it). */
export interface OnnxMap {
  value: string;
  h: number;
  w: number;
}

/** ONNX's `pads` of a window op: [top, left, bottom, right]. */
export function onnxPads([[top, bottom], [left, right]]: SidePadding): number[] {
  return [top, left, bottom, right];
}

/** TensorFlow's "SAME" padding of one axis: [before, after], the extra pixel after. */
export function samePadding(size: number, kernel: number, stride: number): Pair {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** timm's get_padding: the symmetric padding of a k x k window at `stride` (3 for 7x7/2, 1 for 3x3, 0 for 1x1). */
export function symmetricPadding(kernel: number, stride: number): number {
  return Math.floor((stride - 1 + kernel - 1) / 2);
}

/** Padding of an h x w map for a square window: "SAME" for this size, or symmetric. */
export function windowPadding(same: boolean, h: number, w: number, kernel: number, stride: number): SidePadding {
  if (same) return [samePadding(h, kernel, stride), samePadding(w, kernel, stride)];
  const p = symmetricPadding(kernel, stride);
  return [
    [p, p],
    [p, p],
  ];
}

/** Output size of one axis after padding it by [before, after]. */
export function paddedOutputSize(size: number, kernel: number, stride: number, [before, after]: Pair): number {
  return Math.floor((size + before + after - kernel) / stride) + 1;
}
