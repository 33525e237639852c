// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) on a whole batch, as
// timm's Mixup in 'batch' mode: each image is mixed with the batch in reverse
// order, and the targets become lam * y + (1 - lam) * y_reversed, label
// smoothing included.
import type { Rng } from '../random.js';
import type { Batch } from './batch.js';

export interface MixupOptions {
  numClasses: number;
  /** Beta(alpha, alpha) for mixup's lam; 0 turns mixup off (timm recipe: 0.8). */
  mixupAlpha?: number;
  /** Beta(alpha, alpha) for cutmix's area; 0 turns cutmix off (timm recipe: 1.0). */
  cutmixAlpha?: number;
  /** Probability of mixing a batch at all. */
  prob?: number;
  /** When both are on, probability of cutmix rather than mixup. */
  switchProb?: number;
  labelSmoothing?: number;
}

/** Mixes `batch` in place and sets its soft targets; returns lam (the weight of the original images). */
export function mixBatch(batch: Batch, rng: Rng, options: MixupOptions): number {
  const mixupAlpha = options.mixupAlpha ?? 0.8;
  const cutmixAlpha = options.cutmixAlpha ?? 1.0;
  let lam = 1;
  if (rng.next() < (options.prob ?? 1) && (mixupAlpha > 0 || cutmixAlpha > 0)) {
    const useCutmix = cutmixAlpha > 0 && (mixupAlpha <= 0 || rng.next() < (options.switchProb ?? 0.5));
    lam = sampleBeta(useCutmix ? cutmixAlpha : mixupAlpha, rng);
    lam = useCutmix ? cutmix(batch, lam, rng) : mixup(batch, lam);
  }
  batch.targets = mixedTargets(batch.labels, lam, options.numClasses, options.labelSmoothing ?? 0);
  return lam;
}

function mixup(batch: Batch, lam: number): number {
  const [b, h, w, c] = batch.shape;
  const size = h * w * c;
  const src = Float32Array.from(batch.images);
  for (let i = 0; i < b; i++) {
    const a = i * size;
    const r = (b - 1 - i) * size;
    for (let j = 0; j < size; j++) batch.images[a + j] = lam * src[a + j]! + (1 - lam) * src[r + j]!;
  }
  return lam;
}

/** Pastes a box of the reversed batch; returns lam corrected to the box's true area. */
function cutmix(batch: Batch, lam: number, rng: Rng): number {
  const [b, h, w, c] = batch.shape;
  const cutRatio = Math.sqrt(1 - lam);
  const cutH = Math.floor(h * cutRatio);
  const cutW = Math.floor(w * cutRatio);
  const cy = rng.int(h);
  const cx = rng.int(w);
  const y0 = clamp(cy - Math.floor(cutH / 2), 0, h);
  const y1 = clamp(cy + Math.floor(cutH / 2), 0, h);
  const x0 = clamp(cx - Math.floor(cutW / 2), 0, w);
  const x1 = clamp(cx + Math.floor(cutW / 2), 0, w);
  const src = Float32Array.from(batch.images);
  const size = h * w * c;
  for (let i = 0; i < b; i++) {
    const r = (b - 1 - i) * size;
    for (let y = y0; y < y1; y++) {
      const start = (y * w + x0) * c;
      batch.images.set(src.subarray(r + start, r + (y * w + x1) * c), i * size + start);
    }
  }
  return 1 - ((y1 - y0) * (x1 - x0)) / (h * w);
}

/** lam * smooth(onehot(y)) + (1 - lam) * smooth(onehot(y reversed)), [B, K]. */
export function mixedTargets(labels: Int32Array, lam: number, k: number, smoothing: number): Float32Array {
  const b = labels.length;
  const off = smoothing / k;
  const on = 1 - smoothing + off;
  const t = new Float32Array(b * k).fill(off);
  for (let i = 0; i < b; i++) {
    t[i * k + labels[i]!]! += lam * (on - off);
    t[i * k + labels[b - 1 - i]!]! += (1 - lam) * (on - off);
  }
  return t;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** Beta(a, a) as X / (X + Y) with X, Y ~ Gamma(a). */
export function sampleBeta(a: number, rng: Rng): number {
  const x = sampleGamma(a, rng);
  const y = sampleGamma(a, rng);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Marsaglia and Tsang's method; shape < 1 through the boost Gamma(a+1) * U^(1/a). */
function sampleGamma(a: number, rng: Rng): number {
  if (a < 1) return sampleGamma(a + 1, rng) * (1 - rng.next()) ** (1 / a);
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
