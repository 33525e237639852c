import { describe, expect, it } from 'vitest';
import { estimate, pairedDifference, regularizedBeta, studentTCdf, studentTQuantile } from '../src/sweep/statistics.js';

describe('Student t quantile', () => {
  // Two-sided 95% (the 0.975 quantile) and 99% (0.995) critical values from published t tables.
  const table: [number, number, number][] = [
    [1, 12.706, 63.657],
    [2, 4.303, 9.925],
    [3, 3.182, 5.841],
    [4, 2.776, 4.604],
    [5, 2.571, 4.032],
    [9, 2.262, 3.25],
    [10, 2.228, 3.169],
    [20, 2.086, 2.845],
    [30, 2.042, 2.75],
    [120, 1.98, 2.617],
  ];
  it.each(table)('df %i: 0.975 -> %f, 0.995 -> %f', (df, q975, q995) => {
    expect(studentTQuantile(0.975, df)).toBeCloseTo(q975, 3);
    expect(studentTQuantile(0.995, df)).toBeCloseTo(q995, 3);
  });

  it('has closed forms at 1 and 2 degrees of freedom, tends to the normal, and is odd', () => {
    // df 1 is Cauchy: t = tan(pi (p - 1/2)); df 2: t = (2p - 1) sqrt(2 / (4p (1 - p))).
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      expect(studentTQuantile(p, 1)).toBeCloseTo(Math.tan(Math.PI * (p - 0.5)), 8);
      expect(studentTQuantile(p, 2)).toBeCloseTo((2 * p - 1) * Math.sqrt(2 / (4 * p * (1 - p))), 8);
    }
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.959964, 5);
    expect(studentTQuantile(0.025, 7)).toBeCloseTo(-studentTQuantile(0.975, 7), 12);
    expect(studentTQuantile(0.5, 3)).toBeCloseTo(0, 12);
    expect(studentTCdf(studentTQuantile(0.9, 6.5), 6.5)).toBeCloseTo(0.9, 12);
  });

  it('rests on a regularized incomplete beta with the known values', () => {
    expect(regularizedBeta(0.5, 2, 2)).toBeCloseTo(0.5, 14);
    // I_x(a, 1) = x^a and I_x(1, b) = 1 - (1 - x)^b.
    expect(regularizedBeta(0.3, 3.5, 1)).toBeCloseTo(0.3 ** 3.5, 13);
    expect(regularizedBeta(0.3, 1, 4)).toBeCloseTo(1 - 0.7 ** 4, 13);
    expect(() => studentTQuantile(1, 3)).toThrow(/p must be in/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/df must be positive/);
  });
});

describe('estimates over seeds', () => {
  it('gives n, mean, the sample sd and the t interval for n >= 2', () => {
    const e = estimate([0.9, 0.8, 0.85]);
    expect(e.n).toBe(3);
    expect(e.mean).toBeCloseTo(0.85, 12);
    expect(e.sd).toBeCloseTo(0.05, 12);
    const half = 4.302653 * (0.05 / Math.sqrt(3));
    expect(e.ci![0]).toBeCloseTo(0.85 - half, 6);
    expect(e.ci![1]).toBeCloseTo(0.85 + half, 6);
  });

  it('gives one value and no spread for one seed', () => {
    expect(estimate([0.97])).toEqual({ n: 1, mean: 0.97 });
  });

  it('pairs differences by seed and says when they are within noise', () => {
    const a = new Map([
      [0, 0.9],
      [1, 0.92],
      [2, 0.91],
      [3, 0.5],
    ]);
    const b = new Map([
      [0, 0.88],
      [1, 0.9],
      [2, 0.895],
    ]);
    const d = pairedDifference(a, b)!;
    expect(d.seeds).toEqual([0, 1, 2]);
    expect(d.mean).toBeCloseTo(0.055 / 3, 12);
    expect(d.withinNoise).toBe(false);
    const noisy = pairedDifference(
      new Map([
        [0, 0.9],
        [1, 0.8],
      ]),
      new Map([
        [0, 0.85],
        [1, 0.84],
      ]),
    )!;
    expect(noisy.withinNoise).toBe(true);
    const single = pairedDifference(new Map([[0, 0.9]]), new Map([[0, 0.8]]))!;
    expect(single.ci).toBeUndefined();
    expect(single.withinNoise).toBe(true);
    expect(pairedDifference(new Map([[0, 1]]), new Map([[1, 1]]))).toBeNull();
  });
});
