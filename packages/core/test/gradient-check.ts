// Helpers for the gradient tests: every check differentiates the scalar
// loss sum(y * r) with a fixed random r (so no gradient is trivially uniform),
// compares the WebAssembly backend with the CPU backend (where tfjs's own
// kernels and gradients are the ground truth) and with central finite differences.
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { Rng } from '../src/index.js';

/** Plain values that can be recreated on any backend (a type, not an interface, so tf.tidy may return it). */
export type Arr = {
  values: Float32Array;
  shape: number[];
};

/** Uniform(-1, 1) values from a seeded stream. */
export function randomArr(shape: number[], seed: number): Arr {
  const rng = new Rng(seed);
  const values = new Float32Array(shape.reduce((a, d) => a * d, 1));
  for (let i = 0; i < values.length; i++) values[i] = 2 * rng.next() - 1;
  return { values, shape };
}

export function toArr(t: tf.Tensor): Arr {
  return { values: Float32Array.from(t.dataSync()), shape: [...t.shape] };
}

export function variableOf(a: Arr): tf.Variable {
  return tf.variable(tf.tensor(a.values, a.shape, 'float32'));
}

/** Runs `fn` on the CPU backend and comes back to WebAssembly; `fn` must not touch WebAssembly tensors. */
export async function onCpu<T>(fn: () => T): Promise<T> {
  expect(tf.getBackend()).toBe('wasm');
  await tf.setBackend('cpu');
  try {
    return fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

/** The loss sum(y * r), summed in float64 so finite differences are not lost in float32 rounding. */
export function weightedLoss(y: tf.Tensor, r: Arr): number {
  expect(y.shape).toEqual(r.shape);
  const v = y.dataSync();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * r.values[i]!;
  return s;
}

/** Gradients of sum(f() * r) with respect to `vars`, as arrays, in the order of `vars`. */
export function weightedGrads(f: () => tf.Tensor, vars: tf.Variable[], r: Arr): Arr[] {
  return tf.tidy(() => {
    const rt = tf.tensor(r.values, r.shape, 'float32');
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(f(), rt)) as tf.Scalar, vars);
    return vars.map((v) => {
      const g = grads[v.name];
      if (!g) throw new Error(`no gradient for variable ${v.name}`);
      return toArr(g);
    });
  });
}

/** Central difference of sum(f() * r) in coordinate `index` of `v` (v is restored afterwards). */
export function finiteDifference(f: () => tf.Tensor, v: tf.Variable, index: number, r: Arr, eps: number): number {
  const original = Float32Array.from(v.dataSync());
  const lossWith = (delta: number) => {
    const values = Float32Array.from(original);
    values[index] = original[index]! + delta;
    tf.tidy(() => v.assign(tf.tensor(values, v.shape, v.dtype)));
    return tf.tidy(() => weightedLoss(f(), r));
  };
  const plus = lossWith(eps);
  const minus = lossWith(-eps);
  tf.tidy(() => v.assign(tf.tensor(original, v.shape, v.dtype)));
  return (plus - minus) / (2 * eps);
}

/** max |a - b| <= tol * max(1, max |b|): relative to the gradient's scale. */
export function expectArraysClose(got: Arr, want: Arr, tol: number, what: string): void {
  expect(got.shape, what).toEqual(want.shape);
  let maxDiff = 0;
  let scale = 1;
  for (let i = 0; i < want.values.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got.values[i]! - want.values[i]!));
    scale = Math.max(scale, Math.abs(want.values[i]!));
  }
  expect(maxDiff, `${what}: max abs difference (scale ${scale})`).toBeLessThanOrEqual(tol * scale);
}

/**
 * Checks the analytic gradient `grad` of `v` at a few spread-out coordinates
 * against central differences of the same computation on the current backend.
 */
export function expectFiniteDifferences(
  f: () => tf.Tensor,
  v: tf.Variable,
  grad: Arr,
  r: Arr,
  options: { eps?: number; tol?: number; points?: number; what: string },
): void {
  const points = Math.min(options.points ?? 4, v.size);
  for (let p = 0; p < points; p++) {
    const index = Math.floor(((p + 0.5) * v.size) / points);
    const numeric = finiteDifference(f, v, index, r, options.eps ?? 1e-2);
    const analytic = grad.values[index]!;
    expect(
      Math.abs(numeric - analytic),
      `${options.what}[${index}]: analytic ${analytic}, finite difference ${numeric}`,
    ).toBeLessThanOrEqual((options.tol ?? 2e-3) * Math.max(1, Math.abs(numeric)));
  }
}
