// RandAugment (Cubuk et al. 2020) as timm's `rand-m{M}-n{N}-mstd{S}`: N ops
// drawn uniformly from timm's list, each applied with probability 0.5 at
// magnitude M (0..10, with Gaussian noise of std S). Images on the 0..255
// scale, any channel count (colour ops treat 1-channel images as grey).
import type { Rng } from '../random.js';
import { newImage, type RawImage } from './image.js';

export interface RandAugmentOptions {
  /** Ops per image (timm: 2). */
  n?: number;
  /** Magnitude 0..10 (timm: 9). */
  magnitude?: number;
  /** Std of the per-op magnitude noise (timm: 0.5). */
  magnitudeStd?: number;
  /** Probability of applying each drawn op (timm: 0.5). */
  p?: number;
  /** Fill for pixels that geometric ops uncover. */
  fill?: number;
}

type Op = (img: RawImage, level: number, rng: Rng, fill: number) => RawImage;

const signed = (x: number, rng: Rng) => (rng.next() < 0.5 ? -x : x);
const clamp255 = (v: number) => Math.max(0, Math.min(v, 255));
/** Enhance factor as the original RandAugment: level/10 * 1.8 + 0.1. */
const enhanceFactor = (level: number) => (level / 10) * 1.8 + 0.1;

function mapPixels(img: RawImage, f: (v: number, ch: number) => number): RawImage {
  const out = newImage(img.height, img.width, img.channels);
  for (let i = 0; i < out.data.length; i++) out.data[i] = clamp255(f(img.data[i]!, i % img.channels));
  return out;
}

/** out = degenerate + factor * (img - degenerate), as PIL's ImageEnhance. */
function blend(img: RawImage, degenerate: Float32Array | number, factor: number): RawImage {
  const out = newImage(img.height, img.width, img.channels);
  for (let i = 0; i < out.data.length; i++) {
    const d = typeof degenerate === 'number' ? degenerate : degenerate[i]!;
    out.data[i] = clamp255(d + factor * (img.data[i]! - d));
  }
  return out;
}

function grey(img: RawImage): Float32Array {
  const c = img.channels;
  const n = img.height * img.width;
  const g = new Float32Array(n * c);
  for (let p = 0; p < n; p++) {
    const l = c >= 3 ? 0.299 * img.data[p * c]! + 0.587 * img.data[p * c + 1]! + 0.114 * img.data[p * c + 2]! : img.data[p * c]!;
    for (let ch = 0; ch < c; ch++) g[p * c + ch] = l;
  }
  return g;
}

/** Inverse-maps every output pixel through the 2x3 affine `m` (output -> input), bilinear. */
function affine(img: RawImage, m: [number, number, number, number, number, number], fill: number): RawImage {
  const { height: h, width: w, channels: c } = img;
  const out = newImage(h, w, c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sx = m[0] * x + m[1] * y + m[2];
      const sy = m[3] * x + m[4] * y + m[5];
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const tx = sx - x0;
      const ty = sy - y0;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (const [dy, wy] of [
          [0, 1 - ty],
          [1, ty],
        ] as const) {
          for (const [dx, wx] of [
            [0, 1 - tx],
            [1, tx],
          ] as const) {
            const px = x0 + dx;
            const py = y0 + dy;
            const inside = px >= 0 && px < w && py >= 0 && py < h;
            acc += wx * wy * (inside ? img.data[(py * w + px) * c + ch]! : fill);
          }
        }
        out.data[(y * w + x) * c + ch] = acc;
      }
    }
  }
  return out;
}

function equalizeChannel(img: RawImage, ch: number, out: Float32Array): void {
  const c = img.channels;
  const n = img.height * img.width;
  const hist = new Int32Array(256);
  for (let p = 0; p < n; p++) hist[Math.round(clamp255(img.data[p * c + ch]!))]! += 1;
  // PIL: step from all but the last non-zero bin; an image of one level is left alone.
  let last = 255;
  while (last > 0 && hist[last] === 0) last--;
  const step = Math.floor((n - hist[last]!) / 255);
  if (step === 0) {
    for (let p = 0; p < n; p++) out[p * c + ch] = img.data[p * c + ch]!;
    return;
  }
  const lut = new Float32Array(256);
  let acc = Math.floor(step / 2);
  for (let i = 0; i < 256; i++) {
    lut[i] = Math.min(255, Math.floor(acc / step));
    acc += hist[i]!;
  }
  for (let p = 0; p < n; p++) out[p * c + ch] = lut[Math.round(clamp255(img.data[p * c + ch]!))]!;
}

const OPS: Record<string, Op> = {
  AutoContrast: (img) => {
    const c = img.channels;
    const lo = new Array(c).fill(255);
    const hi = new Array(c).fill(0);
    for (let i = 0; i < img.data.length; i++) {
      lo[i % c] = Math.min(lo[i % c], img.data[i]!);
      hi[i % c] = Math.max(hi[i % c], img.data[i]!);
    }
    return mapPixels(img, (v, ch) => (hi[ch] > lo[ch] ? ((v - lo[ch]) * 255) / (hi[ch] - lo[ch]) : v));
  },
  Equalize: (img) => {
    const out = newImage(img.height, img.width, img.channels);
    for (let ch = 0; ch < img.channels; ch++) equalizeChannel(img, ch, out.data);
    return out;
  },
  Invert: (img) => mapPixels(img, (v) => 255 - v),
  Rotate: (img, level, rng, fill) => {
    const a = (signed((level / 10) * 30, rng) * Math.PI) / 180;
    const cx = (img.width - 1) / 2;
    const cy = (img.height - 1) / 2;
    const cos = Math.cos(a);
    const sin = Math.sin(a);
    return affine(img, [cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy], fill);
  },
  Posterize: (img, level) => {
    const shift = 2 ** (8 - Math.max(1, 8 - Math.floor((level / 10) * 4)));
    return mapPixels(img, (v) => Math.floor(v / shift) * shift);
  },
  Solarize: (img, level) => {
    const threshold = 256 - (level / 10) * 256;
    return mapPixels(img, (v) => (v >= threshold ? 255 - v : v));
  },
  SolarizeAdd: (img, level) => {
    const add = (level / 10) * 110;
    return mapPixels(img, (v) => (v < 128 ? v + add : v));
  },
  Color: (img, level) => blend(img, grey(img), enhanceFactor(level)),
  Contrast: (img, level) => {
    const g = grey(img);
    let mean = 0;
    for (let i = 0; i < g.length; i++) mean += g[i]!;
    return blend(img, mean / g.length, enhanceFactor(level));
  },
  Brightness: (img, level) => blend(img, 0, enhanceFactor(level)),
  Sharpness: (img, level) => {
    // PIL's SMOOTH filter ([1 1 1; 1 5 1; 1 1 1] / 13) on the interior; the border stays.
    const { height: h, width: w, channels: c } = img;
    const smooth = Float32Array.from(img.data);
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        for (let ch = 0; ch < c; ch++) {
          let s = 4 * img.data[(y * w + x) * c + ch]!;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += img.data[((y + dy) * w + x + dx) * c + ch]!;
          smooth[(y * w + x) * c + ch] = s / 13;
        }
      }
    }
    return blend(img, smooth, enhanceFactor(level));
  },
  ShearX: (img, level, rng, fill) => affine(img, [1, signed((level / 10) * 0.3, rng), 0, 0, 1, 0], fill),
  ShearY: (img, level, rng, fill) => affine(img, [1, 0, 0, signed((level / 10) * 0.3, rng), 1, 0], fill),
  TranslateXRel: (img, level, rng, fill) => affine(img, [1, 0, signed((level / 10) * 0.45, rng) * img.width, 0, 1, 0], fill),
  TranslateYRel: (img, level, rng, fill) => affine(img, [1, 0, 0, 0, 1, signed((level / 10) * 0.45, rng) * img.height], fill),
};

export const RAND_AUGMENT_OPS = Object.keys(OPS);

/** Applies one named op at magnitude `level` (0..10). */
export function applyAugmentOp(name: string, img: RawImage, level: number, rng: Rng, fill = 128): RawImage {
  const op = OPS[name];
  if (!op) throw new Error(`unknown augmentation op '${name}' (${RAND_AUGMENT_OPS.join(', ')})`);
  return op(img, level, rng, fill);
}

export function randAugment(img: RawImage, rng: Rng, options: RandAugmentOptions = {}): RawImage {
  const n = options.n ?? 2;
  const m = options.magnitude ?? 9;
  const mstd = options.magnitudeStd ?? 0.5;
  const p = options.p ?? 0.5;
  let out = img;
  for (let i = 0; i < n; i++) {
    const name = RAND_AUGMENT_OPS[rng.int(RAND_AUGMENT_OPS.length)]!;
    if (rng.next() >= p) continue;
    // Box-Muller noise on the magnitude, clipped to 0..10 as timm does.
    const noise = mstd > 0 ? mstd * Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()) : 0;
    out = applyAugmentOp(name, out, Math.min(10, Math.max(0, m + noise)), rng, options.fill ?? 128);
  }
  return out;
}
