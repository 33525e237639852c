// Convolutions with PyTorch semantics (explicit symmetric zero padding, then a
// `valid` convolution: TensorFlow's `same` is asymmetric for stride 2) and
// gradients that every backend can run. The WebAssembly backend has no kernel
// for Conv2DBackpropFilter nor for either depthwise backprop, so those
// gradients are written here as forward convolutions and shifted sums, which it
// runs on fast paths; the forward passes stay on the backends' native kernels.
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.js';

export type Pair = [number, number];

/** Zero-pads H and W of an NHWC tensor by (ph, pw) on both sides. */
export function padHW(x: tf.Tensor4D, [ph, pw]: Pair): tf.Tensor4D {
  if (ph === 0 && pw === 0) return x;
  return tf.pad(x, [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ]);
}

export function convOutSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}

/**
 * x[:, i + s*t, j + s*u, :] for t < outH, u < outW: a strided window taken with
 * slice and reshape only, as stridedSlice has no gradient in tfjs.
 */
export function stridedWindow(x: tf.Tensor4D, i: number, j: number, [sh, sw]: Pair, outH: number, outW: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const needH = i + sh * outH;
  const needW = j + sw * outW;
  const padded =
    needH > h || needW > w
      ? tf.pad(x, [
          [0, 0],
          [0, Math.max(0, needH - h)],
          [0, Math.max(0, needW - w)],
          [0, 0],
        ])
      : x;
  const win = tf.slice(padded, [0, i, j, 0], [b, sh * outH, sw * outW, c]);
  if (sh === 1 && sw === 1) return win;
  // The first row of every sh rows, then the first column of every sw columns, as
  // rank-3/2 slices: a rank-6 slice runs ~50x slower on the WebAssembly backend.
  const rows = tf.slice(tf.reshape(win, [b * outH, sh, sw * outW * c]), [0, 0, 0], [b * outH, 1, sw * outW * c]);
  const cols = tf.slice(tf.reshape(rows, [b * outH * outW, sw * c]), [0, 0], [b * outH * outW, c]);
  return tf.reshape(cols, [b, outH, outW, c]);
}

/** Inverse of stridedWindow: places y [B, outH, outW, C] at rows i + s*t, cols j + s*u of an H x W zero map. */
export function scatterWindow(y: tf.Tensor4D, i: number, j: number, [sh, sw]: Pair, h: number, w: number): tf.Tensor4D {
  const [b, outH, outW, c] = y.shape;
  let up: tf.Tensor4D = y;
  if (sh > 1 || sw > 1) {
    // Zeros after every column, then after every row, with rank-2/3 pads (see stridedWindow).
    const cols = tf.pad(tf.reshape(y, [b * outH * outW, c]), [
      [0, 0],
      [0, (sw - 1) * c],
    ]);
    const rows = tf.pad(tf.reshape(cols, [b * outH, 1, outW * sw * c]), [
      [0, 0],
      [0, sh - 1],
      [0, 0],
    ]);
    up = tf.reshape(rows, [b, outH * sh, outW * sw, c]);
  }
  const fitH = Math.min(up.shape[1], h - i);
  const fitW = Math.min(up.shape[2], w - j);
  up = tf.slice(up, [0, 0, 0, 0], [b, fitH, fitW, c]);
  return tf.pad(up, [
    [0, 0],
    [i, h - i - fitH],
    [j, w - j - fitW],
    [0, 0],
  ]);
}

/**
 * The filter gradient dw[i, j, ci, co] = sum over b, t, u of x[b, i + s*t, j + s*u, ci] * dy[b, t, u, co],
 * as one stride-1 forward convolution: the input with images as channels
 * [Cin, H, W, B], filtered by dy [outH, outW, B, Cout] dilated by the stride.
 * Every backend runs that natively (WebAssembly on XNNPACK). A one-off A/B at
 * batch 64 on WebAssembly (2 shared cores) against strided-window patches and a
 * matmul: 43 vs 442 ms for a 7x7/2 convolution of RGB, 32 vs 164 ms for a 3x3
 * 64 -> 64 one at 8x8, and 10% slower in the one case where the patches won
 * (3x3/2, 32 -> 64 at 16x16).
 */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, stride: Pair): tf.Tensor4D {
  const ci = x.shape[3];
  const co = dy.shape[3];
  const imagesAsChannels = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
  const dyAsFilter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  // Rows and columns the forward pass left unused give extra outputs past kh x kw.
  const full = tf.conv2d(imagesAsChannels, dyAsFilter, 1, 'valid', 'NHWC', stride);
  return tf.transpose(tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]);
}

const conv2dValid = (stride: Pair) =>
  tf.customGrad((x, w, save) => {
    const xi = x as tf.Tensor4D;
    const wi = w as tf.Tensor4D;
    (save as tf.GradSaveFunc)([xi, wi]);
    const value = tf.conv2d(xi, wi, stride, 'valid');
    return {
      value,
      // In a tidy: tfjs calls custom gradients in the scope of the whole backward pass.
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
          const g = dy as tf.Tensor4D;
          const [kh, kw] = ws.shape;
          const dx = tf.conv2dTranspose(g, ws, xs.shape, stride, 'valid');
          return [dx, filterGradient(xs, g, kh, kw, stride)];
        }),
    };
  });

/**
 * Gradients of a stride-1 'valid' depthwise convolution with one filter per
 * channel (CSWin's LePE, CrossViT's and ViTC's none): dx is the forward kernel
 * again, on dy padded by the kernel size less one with the filter turned 180
 * degrees; dw sums each tap's window of x times dy. About 30 kernel calls
 * instead of the general path's 90 for a 3x3 filter.
 */
function depthwiseGradientsUnitStride(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const [kh, kw, c] = w.shape;
  const [b, outH, outW] = dy.shape;
  const flipped = tf.reverse(w, [0, 1]);
  const dx = tf.depthwiseConv2d(padHW(dy, [kh - 1, kw - 1]), flipped, 1, 'valid');
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) taps.push(tf.sum(tf.mul(tf.slice(x, [0, i, j, 0], [b, outH, outW, c]), dy), [0, 1, 2]));
  }
  return [dx, tf.reshape(tf.stack(taps), [kh, kw, c, 1])];
}

const depthwiseValid = (stride: Pair) =>
  tf.customGrad((x, w, save) => {
    const xi = x as tf.Tensor4D;
    const wi = w as tf.Tensor4D;
    (save as tf.GradSaveFunc)([xi, wi]);
    const value = tf.depthwiseConv2d(xi, wi, stride, 'valid');
    return {
      value,
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
          const [kh, kw, c, m] = ws.shape;
          const [b, outH, outW] = dy.shape as number[];
          const [, h, w] = xs.shape;
          if (stride[0] === 1 && stride[1] === 1 && m === 1) return depthwiseGradientsUnitStride(xs, ws, dy as tf.Tensor4D);
          // dy per input channel and multiplier: [B, outH, outW, C, M].
          const g = tf.reshape(dy, [b!, outH!, outW!, c, m]);
          const dws: tf.Tensor[] = [];
          let dx: tf.Tensor4D | null = null;
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              const win = tf.expandDims(stridedWindow(xs, i, j, stride, outH!, outW!), 4);
              dws.push(tf.sum(tf.mul(win, g), [0, 1, 2]));
              const wij = tf.reshape(tf.slice(ws, [i, j, 0, 0], [1, 1, c, m]), [c, m]);
              const contrib = tf.sum(tf.mul(g, wij), 4) as tf.Tensor4D;
              const placed = scatterWindow(contrib, i, j, stride, h, w);
              dx = dx ? tf.add(dx, placed) : placed;
            }
          }
          return [dx!, tf.reshape(tf.stack(dws), [kh, kw, c, m])];
        }),
    };
  });

const cache = new Map<string, ReturnType<typeof conv2dValid>>();
function cached(kind: string, stride: Pair, make: (s: Pair) => ReturnType<typeof conv2dValid>) {
  const key = `${kind}:${stride[0]}x${stride[1]}`;
  let f = cache.get(key);
  if (!f) {
    f = make(stride);
    cache.set(key, f);
  }
  return f;
}

/** PyTorch Conv2d (groups = 1) on NHWC: x [B,H,W,Cin], w [kh,kw,Cin,Cout]. */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: Pair, padding: Pair): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const [b, h, wd] = x.shape;
  if (padding[0] === 0 && padding[1] === 0 && kh === stride[0] && kw === stride[1] && h % kh === 0 && wd % kw === 0) {
    // Patchify: non-overlapping patches are a reshape and one 2-D matmul.
    const oh = h / kh;
    const ow = wd / kw;
    const grid = tf.transpose(tf.reshape(x, [b, oh, kh, ow, kw, ci]), [0, 1, 3, 2, 4, 5]);
    const patches = tf.reshape(grid, [b * oh * ow, kh * kw * ci]);
    return tf.reshape(dense(patches, tf.reshape(w, [kh * kw * ci, co])), [b, oh, ow, co]);
  }
  return cached('conv', stride, conv2dValid)(padHW(x, padding), w) as tf.Tensor4D;
}

/** Depthwise convolution (groups = Cin): w [kh, kw, Cin, multiplier]; output channel c*M + m. */
export function depthwiseConv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: Pair, padding: Pair): tf.Tensor4D {
  return cached('depthwise', stride, depthwiseValid)(padHW(x, padding), w) as tf.Tensor4D;
}
