// The stripe partition of cross-shaped window attention, the hot path of
// CSWin. Every layout change here is a reshape (free) or a rank-4 transpose
// that swaps the two middle axes and keeps the innermost one: on the
// WebAssembly backend that form runs near memory speed (about 12 ms for 4.8 M
// floats), while rank-5 to rank-7 transposes of the same data take 10 to 20
// times longer (measured, tfjs 4.22). Windows are stacked in the batch
// dimension, so attention and LePE run once over all of them.
import * as tf from '@tensorflow/tfjs-core';
import type { OnnxScope } from '@vitkit/core';

/**
 * [B, H, W, C] -> [B * H/hSp * W/wSp, hSp, wSp, C], windows in row-major
 * order of their position and tokens in row-major order inside each window,
 * as the reference's img2windows.
 */
export function windowPartition(x: tf.Tensor, hSp: number, wSp: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const nH = h / hSp;
  const nW = w / wSp;
  const grid = tf.reshape(x, [b * nH, hSp, nW, wSp * c]);
  // With one window per row band, or bands one token high, the order is already right.
  const windows = hSp === 1 || nW === 1 ? grid : tf.transpose(grid, [0, 2, 1, 3]);
  return tf.reshape(windows, [b * nH * nW, hSp, wSp, c]);
}

/** Inverse of windowPartition: [B * nH * nW, hSp, wSp, C] -> [B, H, W, C]. */
export function windowMerge(windows: tf.Tensor, b: number, h: number, w: number): tf.Tensor4D {
  const [, hSp, wSp, c] = windows.shape as [number, number, number, number];
  const nH = h / hSp;
  const nW = w / wSp;
  const grid = tf.reshape(windows, [b * nH, nW, hSp, wSp * c]);
  const rows = hSp === 1 || nW === 1 ? grid : tf.transpose(grid, [0, 2, 1, 3]);
  return tf.reshape(rows, [b, h, w, c]);
}

/**
 * Window images [Bw, hSp, wSp, heads * headDim] -> [Bw * heads, hSp * wSp, headDim]
 * for batched attention; heads take contiguous channel groups, as the reference's
 * reshape(-1, N, heads, C // heads).
 */
export function splitHeads(windows: tf.Tensor, heads: number): tf.Tensor3D {
  const [bw, hSp, wSp, c] = windows.shape as [number, number, number, number];
  const n = hSp * wSp;
  const hd = c / heads;
  const tokens = tf.reshape(windows, [bw, n, heads, hd]);
  const perHead = heads === 1 ? tokens : tf.transpose(tokens, [0, 2, 1, 3]);
  return tf.reshape(perHead, [bw * heads, n, hd]);
}

/** Inverse of splitHeads: [Bw * heads, hSp * wSp, headDim] -> [Bw, hSp, wSp, heads * headDim]. */
export function mergeHeads(x: tf.Tensor, heads: number, hSp: number, wSp: number): tf.Tensor4D {
  const [bh, n, hd] = x.shape as [number, number, number];
  const bw = bh / heads;
  const perHead = tf.reshape(x, [bw, heads, n, hd]);
  const tokens = heads === 1 ? perHead : tf.transpose(perHead, [0, 2, 1, 3]);
  return tf.reshape(tokens, [bw, hSp, wSp, heads * hd]);
}

/**
 * The same partitions in an exported graph, batch-agnostic (-1 takes up the
 * batch): windowPartition, windowMerge, and splitHeads for q and v or, for k,
 * straight to [Bw * heads, headDim, n] (k transposed for q k^T).
 */
export const onnxWindows = {
  partition(g: OnnxScope, x: string, [, w, c]: [number, number, number], hSp: number, wSp: number): string {
    const nW = w / wSp;
    const grid = g.reshape(x, [-1, hSp, nW, wSp * c]);
    const windows = hSp === 1 || nW === 1 ? grid : g.transpose(grid, [0, 2, 1, 3]);
    return g.reshape(windows, [-1, hSp, wSp, c]);
  },
  merge(g: OnnxScope, windows: string, [h, w, c]: [number, number, number], hSp: number, wSp: number): string {
    const nW = w / wSp;
    const grid = g.reshape(windows, [-1, nW, hSp, wSp * c]);
    const rows = hSp === 1 || nW === 1 ? grid : g.transpose(grid, [0, 2, 1, 3]);
    return g.reshape(rows, [-1, h, w, c]);
  },
  splitHeads(g: OnnxScope, windows: string, n: number, heads: number, hd: number, transposed = false): string {
    const tokens = g.reshape(windows, [-1, n, heads, hd]);
    if (transposed) return g.reshape(g.transpose(tokens, [0, 2, 3, 1]), [-1, hd, n]);
    return g.reshape(heads === 1 ? tokens : g.transpose(tokens, [0, 2, 1, 3]), [-1, n, hd]);
  },
  mergeHeads(g: OnnxScope, x: string, heads: number, n: number, hd: number, hSp: number, wSp: number): string {
    const perHead = g.reshape(x, [-1, heads, n, hd]);
    return g.reshape(heads === 1 ? perHead : g.transpose(perHead, [0, 2, 1, 3]), [-1, hSp, wSp, heads * hd]);
  },
};
