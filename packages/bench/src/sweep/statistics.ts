// Statistics for a comparison over seeds: mean, sample standard deviation and a
// confidence interval from Student's t distribution, per model and for
// differences between models paired by seed. With a handful of seeds the t
// quantile is far from the normal 1.96 (12.71 for two seeds, 2.78 for five),
// which is the point of using it.

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, nine terms; about 15 digits). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function, evaluated with the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    // Even term, then odd term, of the fraction's coefficients.
    for (const coefficient of [
      (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
      -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
    ]) {
      d = 1 + coefficient * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + coefficient / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= c * d;
    }
    if (Math.abs(c * d - 1) < 1e-15) break;
  }
  return f;
}

/** The regularized incomplete beta function I_x(a, b). */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedBeta: x must be in [0, 1] (got ${x})`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast on this side of the mean; use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) on the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T <= t) for Student's t distribution with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * regularizedBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t distribution with `df` degrees of freedom (df > 0, 0 < p < 1). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1) (got ${p})`);
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be positive (got ${df})`);
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  // The CDF is increasing: bracket the quantile, then bisect to double precision.
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Estimate {
  n: number;
  mean: number;
  /** Sample standard deviation; absent for n = 1, where there is no spread to estimate. */
  sd?: number;
  /** Two-sided confidence interval of the mean from the t distribution; absent for n = 1. */
  ci?: [number, number];
}

export const CONFIDENCE = 0.95;

/** Mean, sample standard deviation and the 95% t interval of the mean of `xs` (at least one value). */
export function estimate(xs: number[]): Estimate {
  if (xs.length === 0) throw new RangeError('estimate: no values');
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean };
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = studentTQuantile(1 - (1 - CONFIDENCE) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, ci: [mean - half, mean + half] };
}

export interface PairedDifference extends Estimate {
  /** The seeds both models ran with, in ascending order. */
  seeds: number[];
  /** True when the interval contains 0, or with one seed, where nothing separates the difference from noise. */
  withinNoise: boolean;
}

/** The difference a - b over the seeds both have (`a` and `b` map seed to value); null when they share no seed. */
export function pairedDifference(a: Map<number, number>, b: Map<number, number>): PairedDifference | null {
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  if (seeds.length === 0) return null;
  const e = estimate(seeds.map((s) => a.get(s)! - b.get(s)!));
  return { ...e, seeds, withinNoise: e.ci === undefined || (e.ci[0] <= 0 && e.ci[1] >= 0) };
}
