import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { Conv2d, type Pair, padHW } from '../src/index.js';
import {
  type Arr,
  expectArraysClose,
  expectFiniteDifferences,
  onCpu,
  randomArr,
  toArr,
  variableOf,
  weightedGrads,
} from './gradient-check.js';

// Conv2d's gradients on WebAssembly (which lacks Conv2DBackpropFilter and both
// depthwise backprops, so vitkit writes them itself) against tfjs's own
// conv2d / depthwiseConv2d gradients on the CPU backend, and against finite
// differences of the WebAssembly forward.

interface ConvCase {
  name: string;
  input: [number, number, number, number];
  out: number;
  kernel: number;
  stride: number;
  padding: number;
  groups?: number;
}

const cases: ConvCase[] = [
  { name: 'groups=1, 3x3, stride 1, pad 0', input: [2, 7, 7, 3], out: 5, kernel: 3, stride: 1, padding: 0 },
  { name: 'groups=1, 3x3, stride 1, pad 1', input: [2, 6, 5, 3], out: 4, kernel: 3, stride: 1, padding: 1 },
  { name: 'groups=1, 3x3, stride 2, pad 1 (ViTC stem)', input: [2, 8, 8, 3], out: 6, kernel: 3, stride: 2, padding: 1 },
  { name: 'groups=1, 3x3, stride 2, pad 0, last row unused', input: [1, 8, 7, 2], out: 4, kernel: 3, stride: 2, padding: 0 },
  { name: 'groups=1, 7x7, stride 2, pad 3', input: [1, 9, 9, 2], out: 4, kernel: 7, stride: 2, padding: 3 },
  { name: 'groups=1, patchify 4x4 stride 4 (fast path)', input: [2, 8, 12, 3], out: 5, kernel: 4, stride: 4, padding: 0 },
  { name: 'groups=1, 4x4 stride 4 on 10x10 (not divisible)', input: [1, 10, 10, 2], out: 3, kernel: 4, stride: 4, padding: 0 },
  { name: 'depthwise 3x3 stride 1 pad 1 (LePE)', input: [2, 6, 6, 4], out: 4, kernel: 3, stride: 1, padding: 1, groups: 4 },
  {
    name: 'depthwise 5x5 stride 1 pad 1 on 7x6 (unit-stride path, output smaller than input)',
    input: [2, 7, 6, 3],
    out: 3,
    kernel: 5,
    stride: 1,
    padding: 1,
    groups: 3,
  },
  { name: 'depthwise 3x3 stride 2 pad 1', input: [2, 7, 7, 4], out: 4, kernel: 3, stride: 2, padding: 1, groups: 4 },
  { name: 'depthwise multiplier 2, 3x3 stride 1 pad 1', input: [1, 5, 6, 3], out: 6, kernel: 3, stride: 1, padding: 1, groups: 3 },
  { name: 'depthwise multiplier 3, 5x5 stride 2 pad 0', input: [1, 9, 8, 2], out: 6, kernel: 5, stride: 2, padding: 0, groups: 2 },
  { name: 'grouped (groups 2), 3x3 stride 1 pad 1', input: [2, 5, 5, 4], out: 6, kernel: 3, stride: 1, padding: 1, groups: 2 },
  { name: 'grouped (groups 2), 3x3 stride 2 pad 1', input: [1, 6, 6, 6], out: 4, kernel: 3, stride: 2, padding: 1, groups: 2 },
];

/** The same convolution from tfjs's own ops (their gradients are the ground truth on CPU). */
function tfjsConv(c: ConvCase, x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const groups = c.groups ?? 1;
  const stride: Pair = [c.stride, c.stride];
  const xp = padHW(x as tf.Tensor4D, [c.padding, c.padding]);
  let y: tf.Tensor;
  if (groups === 1) y = tf.conv2d(xp, w as tf.Tensor4D, stride, 'valid');
  else if (groups === c.input[3]) y = tf.depthwiseConv2d(xp, w as tf.Tensor4D, stride, 'valid');
  else {
    const xs = tf.split(xp, groups, 3);
    const ws = tf.split(w, groups, 3);
    y = tf.concat(
      xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ws[g] as tf.Tensor4D, stride, 'valid')),
      3,
    );
  }
  return tf.add(y, b);
}

describe('Conv2d gradients on WebAssembly', () => {
  it.each(cases)('$name: agree with tfjs on CPU and with finite differences', async (c) => {
    expect(tf.getBackend()).toBe('wasm');
    const conv = new Conv2d(c.input[3], c.out, c.kernel, { stride: c.stride, padding: c.padding, groups: c.groups ?? 1 });
    const x = variableOf(randomArr(c.input, 11));
    const vars = [x, conv.weight, conv.bias!];
    try {
      const forward = () => conv.forward(x);
      const yShape = tf.tidy(() => forward().shape);
      const r = randomArr(yShape, 12);
      const got = weightedGrads(forward, vars, r);

      const inputs: Arr[] = vars.map(toArr);
      const want = await onCpu(() => {
        const [xc, wc, bc] = inputs.map(variableOf) as [tf.Variable, tf.Variable, tf.Variable];
        try {
          const y = tf.tidy(() => toArr(tfjsConv(c, xc, wc, bc)));
          expect(y.shape).toEqual(yShape);
          return weightedGrads(() => tfjsConv(c, xc, wc, bc), [xc, wc, bc], r);
        } finally {
          tf.dispose([xc, wc, bc]);
        }
      });
      const names = ['input', 'weight', 'bias'];
      for (const [i, g] of got.entries()) expectArraysClose(g, want[i]!, 1e-5, `d ${names[i]}`);

      // The loss is linear in x and in w, so central differences are exact up to rounding.
      expectFiniteDifferences(forward, x, got[0]!, r, { eps: 0.05, what: 'd input' });
      expectFiniteDifferences(forward, conv.weight, got[1]!, r, { eps: 0.05, what: 'd weight' });
    } finally {
      x.dispose();
      conv.dispose();
    }
  });
});
