import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { mergeHeads, splitHeads, windowMerge, windowPartition } from '../src/index.js';

// The reference's img2windows on a [B, H, W, C] map, spelled out window by
// window with slices: windows in row-major order of position, tokens row-major inside.
function slicedWindows(x: tf.Tensor4D, hSp: number, wSp: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const out: tf.Tensor[] = [];
  for (let n = 0; n < b; n++)
    for (let i = 0; i < h / hSp; i++) for (let j = 0; j < w / wSp; j++) out.push(tf.slice(x, [n, i * hSp, j * wSp, 0], [1, hSp, wSp, c]));
  return tf.concat(out, 0) as tf.Tensor4D;
}

describe('stripe windows', () => {
  const x = tf.reshape(tf.range(0, 2 * 6 * 4 * 3), [2, 6, 4, 3]) as tf.Tensor4D;

  it.each([
    ['column stripes', 6, 2],
    ['row stripes', 2, 4],
    ['one-token columns', 6, 1],
    ['one-token rows', 1, 4],
    ['blocks', 3, 2],
    ['whole map', 6, 4],
  ])('%s (%i x %i) partition like img2windows and merge back exactly', (_, hSp, wSp) => {
    tf.tidy(() => {
      const windows = windowPartition(x, hSp, wSp);
      expect(windows.shape).toEqual([(2 * 6 * 4) / (hSp * wSp), hSp, wSp, 3]);
      expect(windows.arraySync()).toEqual(slicedWindows(x, hSp, wSp).arraySync());
      expect(windowMerge(windows, 2, 6, 4).arraySync()).toEqual(x.arraySync());
    });
  });

  it('splits heads as contiguous channel groups and merges them back', () => {
    tf.tidy(() => {
      const w = tf.reshape(tf.range(0, 2 * 2 * 3 * 6), [2, 2, 3, 6]);
      const heads = splitHeads(w, 3);
      expect(heads.shape).toEqual([6, 6, 2]);
      // window 1, head 2, token 4 (row 1, col 1) = channels 4..5 of w[1, 1, 1].
      expect(tf.slice(heads, [1 * 3 + 2, 4, 0], [1, 1, 2]).dataSync()).toEqual(tf.slice(w, [1, 1, 1, 4], [1, 1, 1, 2]).dataSync());
      expect(mergeHeads(heads, 3, 2, 3).arraySync()).toEqual(w.arraySync());
    });
  });
});
