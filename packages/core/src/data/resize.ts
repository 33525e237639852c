// Host-side image resizing exactly as Pillow resamples an 8-bit image, because
// that is what torchvision's Resize does to the PIL images timm feeds its
// models: the filter support widens by the downscale factor (antialiasing),
// each axis has its own table of fixed-point weights, and the horizontal pass
// is stored as uint8 before the vertical pass reads it. Pretrained weights
// only see their training statistics when the pixels agree to the level.
// (The tensor resize in ops/resize.ts is PyTorch's F.interpolate for
// position embeddings and in-model resizing, a different operation.)
import { type RawImage, toUint8Pixels } from './image.js';

export type Interpolation = 'nearest' | 'bilinear' | 'bicubic';

export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear', 'bicubic'];

/** Pillow's fixed point: 32 bits less 8 for the pixel and 2 for headroom. */
const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

interface Filter {
  support: number;
  weight(x: number): number;
}

const BICUBIC_A = -0.5;

const FILTERS: Record<'bilinear' | 'bicubic', Filter> = {
  bilinear: {
    support: 1,
    weight: (x) => {
      const t = Math.abs(x);
      return t < 1 ? 1 - t : 0;
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const t = Math.abs(x);
      if (t < 1) return ((BICUBIC_A + 2) * t - (BICUBIC_A + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * BICUBIC_A;
      return 0;
    },
  },
};

/** One axis's taps: output i reads `count[i]` inputs from `first[i]`, weights at `weights[i * taps]`. */
export interface AxisCoefficients {
  first: Int32Array;
  count: Int32Array;
  /** Fixed-point weights (2^22 is 1), `taps` slots per output. */
  weights: Int32Array;
  taps: number;
}

/** Pillow's coefficients for resampling `inSize` samples to `outSize` on one axis. */
export function axisCoefficients(inSize: number, outSize: number, mode: 'bilinear' | 'bicubic'): AxisCoefficients {
  const filter = FILTERS[mode];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const w = new Float64Array(taps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    // Math.trunc, as C's cast: the bounds round towards zero before clamping.
    const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
    const n = Math.min(Math.trunc(centre + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      w[k] = filter.weight((k + xmin - centre + 0.5) / filterScale);
      sum += w[k]!;
    }
    first[i] = xmin;
    count[i] = n;
    for (let k = 0; k < n; k++) {
      const v = sum === 0 ? w[k]! : w[k]! / sum;
      // Half away from zero, as Pillow's conversion of the normalised weights.
      weights[i * taps + k] = v < 0 ? Math.trunc(v * (1 << PRECISION_BITS) - 0.5) : Math.trunc(v * (1 << PRECISION_BITS) + 0.5);
    }
  }
  return { first, count, weights, taps };
}

// The passes accumulate in int32 (Math.imul and `| 0`) as Pillow does: every
// partial sum is below 2^31 in magnitude (255 times the weights' absolute sum).

/** Rows `y0 .. y0 + rows` of `src` (width `inW`) resampled along x to width `outW`. */
function horizontal(src: Uint8Array, inW: number, c: number, y0: number, rows: number, outW: number, k: AxisCoefficients): Uint8Array {
  if (c === 3) return horizontalRgb(src, inW, y0, rows, outW, k);
  const out = new Uint8Array(rows * outW * c);
  const { first, count, weights, taps } = k;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y0 + y) * inW * c;
    const rowOut = y * outW * c;
    for (let x = 0; x < outW; x++) {
      const w0 = x * taps;
      const n = count[x]!;
      const p0 = rowIn + first[x]! * c;
      for (let ch = 0; ch < c; ch++) {
        let acc = HALF;
        for (let t = 0, p = p0 + ch; t < n; t++, p += c) acc = (acc + Math.imul(src[p]!, weights[w0 + t]!)) | 0;
        out[rowOut + x * c + ch] = clip8(acc);
      }
    }
  }
  return out;
}

/** The horizontal pass for RGB, the decoder's output, with the three sums in registers. */
function horizontalRgb(src: Uint8Array, inW: number, y0: number, rows: number, outW: number, k: AxisCoefficients): Uint8Array {
  const out = new Uint8Array(rows * outW * 3);
  const { first, count, weights, taps } = k;
  for (let y = 0; y < rows; y++) {
    const rowIn = (y0 + y) * inW * 3;
    let o = y * outW * 3;
    for (let x = 0; x < outW; x++) {
      const w0 = x * taps;
      const n = count[x]!;
      let p = rowIn + first[x]! * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let t = 0; t < n; t++, p += 3) {
        const wt = weights[w0 + t]!;
        r = (r + Math.imul(src[p]!, wt)) | 0;
        g = (g + Math.imul(src[p + 1]!, wt)) | 0;
        b = (b + Math.imul(src[p + 2]!, wt)) | 0;
      }
      out[o++] = clip8(r);
      out[o++] = clip8(g);
      out[o++] = clip8(b);
    }
  }
  return out;
}

/** `src` (rows of `rowLength` values, the first being row `shift`) resampled along y to `outH` rows. */
function vertical(src: Uint8Array, rowLength: number, outH: number, k: AxisCoefficients, shift: number): Uint8Array {
  const out = new Uint8Array(outH * rowLength);
  const acc = new Int32Array(rowLength);
  const { first, count, weights, taps } = k;
  for (let y = 0; y < outH; y++) {
    acc.fill(HALF);
    const w0 = y * taps;
    const n = count[y]!;
    for (let t = 0; t < n; t++) {
      const wt = weights[w0 + t]!;
      const row = (first[y]! - shift + t) * rowLength;
      for (let j = 0; j < rowLength; j++) acc[j] = (acc[j]! + Math.imul(src[row + j]!, wt)) | 0;
    }
    const o = y * rowLength;
    for (let j = 0; j < rowLength; j++) out[o + j] = clip8(acc[j]!);
  }
  return out;
}

/** The integer part of a fixed-point sum (floor, as an arithmetic shift), clamped to a byte. */
function clip8(v: number): number {
  return Math.min(Math.max(v >> PRECISION_BITS, 0), 255);
}

/**
 * Pillow's nearest neighbour: output i takes input floor((i + 0.5) * in / out),
 * the source coordinate stepped by in / out from the first centre.
 */
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const idx = new Int32Array(outSize);
  const step = inSize / outSize;
  let x = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    idx[i] = Math.min(Math.trunc(x), inSize - 1);
    x += step;
  }
  return idx;
}

function nearest(src: Uint8Array, h: number, w: number, c: number, outH: number, outW: number): Uint8Array {
  const out = new Uint8Array(outH * outW * c);
  const ys = nearestIndices(h, outH);
  const xs = nearestIndices(w, outW);
  for (let y = 0; y < outH; y++) {
    const rowIn = ys[y]! * w * c;
    const rowOut = y * outW * c;
    for (let x = 0; x < outW; x++) {
      const p = rowIn + xs[x]! * c;
      const o = rowOut + x * c;
      for (let ch = 0; ch < c; ch++) out[o + ch] = src[p + ch]!;
    }
  }
  return out;
}

/**
 * HWC uint8 pixels (`h` x `w`, `c` channels) resampled to `outH` x `outW` as
 * Pillow's `Image.resize` does; a copy when the size is unchanged.
 */
export function resamplePixels(
  src: Uint8Array,
  h: number,
  w: number,
  c: number,
  outH: number,
  outW: number,
  mode: Interpolation,
): Uint8Array {
  if (src.length !== h * w * c) throw new Error(`resize: ${src.length} values for a ${h}x${w}x${c} image`);
  if (!(Number.isInteger(outH) && Number.isInteger(outW) && outH > 0 && outW > 0)) {
    throw new Error(`resize: output size must be positive integers, got ${outH}x${outW}`);
  }
  if (!INTERPOLATIONS.includes(mode)) throw new Error(`resize: unknown interpolation '${mode}' (expected ${INTERPOLATIONS.join(', ')})`);
  if (h === outH && w === outW) return src.slice();
  if (mode === 'nearest') return nearest(src, h, w, c, outH, outW);
  const ky = h === outH ? null : axisCoefficients(h, outH, mode);
  if (w === outW) return vertical(src, w * c, outH, ky!, 0);
  const kx = axisCoefficients(w, outW, mode);
  if (!ky) return horizontal(src, w, c, 0, h, outW, kx);
  // The horizontal pass covers only the rows some output row reads.
  const top = ky.first[0]!;
  const bottom = ky.first[outH - 1]! + ky.count[outH - 1]!;
  const rows = horizontal(src, w, c, top, bottom - top, outW, kx);
  return vertical(rows, outW * c, outH, ky, top);
}

/** An image resampled to outH x outW as Pillow does (8-bit; float pixels are rounded to bytes first). */
export function resizeImage(img: RawImage, outH: number, outW: number, mode: Interpolation = 'bilinear'): RawImage & { data: Uint8Array } {
  const data = resamplePixels(toUint8Pixels(img.data), img.height, img.width, img.channels, outH, outW, mode);
  return { data, height: outH, width: outW, channels: img.channels };
}

/**
 * torchvision's Resize(size) on a PIL image: the shorter side becomes `size`,
 * the longer side `int(size * long / short)` (truncated).
 */
export function resizeShorter(img: RawImage, size: number, mode: Interpolation = 'bilinear'): RawImage & { data: Uint8Array } {
  const { height: h, width: w } = img;
  if (h <= w) return resizeImage(img, size, Math.trunc((size * w) / h), mode);
  return resizeImage(img, Math.trunc((size * h) / w), size, mode);
}
