import { describe, expect, it } from 'vitest';
import { OnnxGraph } from '../src/index.js';

describe('OnnxGraph.constant', () => {
  it('adds a constant once: equal dtype, dims and values get the first name, whatever name they ask for', () => {
    const g = new OnnxGraph(17);
    const a = g.constant('ones_4', new Float32Array(4).fill(1), [4]);
    expect(g.constant('other', new Float32Array(4).fill(1), [4])).toBe(a);
    expect(g.initializers.map((t) => t.name)).toEqual(['ones_4']);
  });

  it('keeps apart constants that differ in values, dims or dtype (-0 and 0 too)', () => {
    const g = new OnnxGraph(17);
    const names = [
      g.constant('c', Float32Array.of(1, 1, 1, 1), [4]),
      g.constant('c', Float32Array.of(1, 1, 1, 2), [4]),
      g.constant('c', Float32Array.of(1, 1, 1, 1), [2, 2]),
      g.constant('c', BigInt64Array.of(1n, 1n, 1n, 1n), [4]),
      g.scalar(0),
      g.scalar(-0),
    ];
    expect(new Set(names).size).toBe(names.length);
    expect(g.initializers).toHaveLength(names.length);
  });

  it('shares shapes, axes and scalars through the same constants, and never a parameter', () => {
    const g = new OnnxGraph(17);
    expect(g.int64s([0, -1])).toBe(g.int64s([0, -1]));
    expect(g.int64s([1])).not.toBe(g.int64Scalar(1));
    expect(g.scalar(0.5)).toBe(g.scalar(0.5));
    expect(g.constant('minus_one', BigInt64Array.of(0n, -1n), [2])).toBe(g.int64s([0, -1]));
    const weight = g.addInitializer('w', Float32Array.of(0.5), []);
    expect(weight).not.toBe(g.scalar(0.5));
    expect(g.initializers.map((t) => t.name)).toEqual(['const_i64_0_m1', 'const_i64_1', 'const_i64_scalar_1', 'const_f32_3', 'w']);
  });
});
