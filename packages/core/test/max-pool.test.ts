import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { maxPool2d, type SidePadding } from '../src/index.js';
import { expectArraysClose, expectFiniteDifferences, onCpu, randomArr, toArr, variableOf, weightedGrads } from './gradient-check.js';

// maxPool2d's gradient on WebAssembly (whose own MaxPoolGrad misroutes with
// several channels) against tfjs's maxPool gradient on the CPU backend, and
// against finite differences.

interface PoolCase {
  name: string;
  input: [number, number, number, number];
  padding: SidePadding;
  /** tfjs's own padding giving the same windows, on the CPU backend. */
  tfjsPad: 'same' | 'valid' | number;
}

const cases: PoolCase[] = [
  {
    name: '3x3/2 "SAME" on 9x7 (pads [1, 1] and [1, 1])',
    input: [2, 9, 7, 4],
    padding: [
      [1, 1],
      [1, 1],
    ],
    tfjsPad: 'same',
  },
  {
    name: '3x3/2 "SAME" on 8x6 (pads [0, 1]: the extra pixel after)',
    input: [2, 8, 6, 3],
    padding: [
      [0, 1],
      [0, 1],
    ],
    tfjsPad: 'same',
  },
  {
    name: '3x3/2 padding 1 (PyTorch MaxPool2d)',
    input: [1, 8, 9, 5],
    padding: [
      [1, 1],
      [1, 1],
    ],
    tfjsPad: 1,
  },
  {
    name: '3x3/2 unpadded',
    input: [1, 7, 7, 2],
    padding: [
      [0, 0],
      [0, 0],
    ],
    tfjsPad: 'valid',
  },
];

describe('maxPool2d', () => {
  it.each(cases)('$name: forward and gradient agree with tfjs on CPU and with finite differences', async (c) => {
    const x = variableOf(randomArr(c.input, 5));
    try {
      const forward = () => maxPool2d(x as tf.Tensor4D, [3, 3], [2, 2], c.padding);
      const y = tf.tidy(() => toArr(forward()));
      const r = randomArr(y.shape, 6);
      const [got] = weightedGrads(forward, [x], r);
      const inputs = toArr(x);
      const want = await onCpu(() => {
        const xc = variableOf(inputs);
        try {
          const reference = () => tf.maxPool(xc as tf.Tensor4D, 3, 2, c.tfjsPad);
          expectArraysClose(
            tf.tidy(() => toArr(reference())),
            y,
            0,
            'forward',
          );
          return weightedGrads(reference, [xc], r)[0]!;
        } finally {
          xc.dispose();
        }
      });
      expectArraysClose(got!, want, 1e-6, 'd input');
      // Random inputs have no ties, so a small step does not change which element wins.
      expectFiniteDifferences(forward, x, got!, r, { eps: 1e-3, points: 6, what: 'd input' });
    } finally {
      x.dispose();
    }
  });

  it('sends each window gradient to its first maximum only (ties after a ReLU)', () => {
    const x = tf.variable(tf.zeros([1, 3, 3, 2]));
    try {
      const [g] = weightedGrads(
        () =>
          maxPool2d(
            x as tf.Tensor4D,
            [3, 3],
            [2, 2],
            [
              [0, 0],
              [0, 0],
            ],
          ),
        [x],
        {
          values: Float32Array.of(1, 2),
          shape: [1, 1, 1, 2],
        },
      );
      expect(Array.from(g!.values)).toEqual([1, 2, ...new Array<number>(16).fill(0)]);
    } finally {
      x.dispose();
    }
  });

  it('never lets the padding win, even where every real value is negative', () => {
    const y = tf.tidy(() =>
      maxPool2d(
        tf.fill([1, 2, 2, 1], -5) as tf.Tensor4D,
        [3, 3],
        [2, 2],
        [
          [1, 1],
          [1, 1],
        ],
      ).arraySync(),
    );
    expect(y).toEqual([[[[-5]]]]);
  });
});
