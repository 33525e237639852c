import type { Rng } from '../random.js';
import type { RawImage } from './image.js';
import { type Interpolation, resizeImage } from './resize.js';

/** The h x w window at (top, left), in the image's pixel type; pixels outside it are `fill` (one value, or one per channel). */
export function crop(img: RawImage, top: number, left: number, h: number, w: number, fill: number | readonly number[] = 0): RawImage {
  const c = img.channels;
  const data = img.data instanceof Uint8Array ? new Uint8Array(h * w * c) : new Float32Array(h * w * c);
  const out: RawImage = { data, height: h, width: w, channels: c };
  if (typeof fill !== 'number') {
    if (fill.length !== c) throw new Error(`crop: ${fill.length} fill values for a ${c}-channel image`);
    for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) data[p * c + ch] = fill[ch]!;
  } else if (fill !== 0) data.fill(fill);
  for (let y = 0; y < h; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < w; x++) {
      const sx = left + x;
      if (sx < 0 || sx >= img.width) continue;
      const src = (sy * img.width + sx) * c;
      const dst = (y * w + x) * c;
      for (let ch = 0; ch < c; ch++) data[dst + ch] = img.data[src + ch]!;
    }
  }
  return out;
}

/** Pads every side by `pad` pixels of value `fill` (MNIST 28 -> 32 with pad 2). */
export function padImage(img: RawImage, pad: number, fill = 0): RawImage {
  if (pad === 0) return img;
  return crop(img, -pad, -pad, img.height + 2 * pad, img.width + 2 * pad, fill);
}

/**
 * The central size x size window as torchvision's CenterCrop and timm's
 * CenterCropOrPad take it: an axis longer than `size` starts at
 * round((n - size) / 2) (Python's round, halves to even); a shorter one is
 * padded with `fill`, floor((size - n) / 2) pixels before it.
 */
export function centerCrop(img: RawImage, size: number, fill: number | readonly number[] = 0): RawImage {
  if (img.height === size && img.width === size) return img;
  return crop(img, centerOffset(img.height, size), centerOffset(img.width, size), size, size, fill);
}

function centerOffset(n: number, size: number): number {
  return n >= size ? roundHalfEven((n - size) / 2) : -Math.floor((size - n) / 2);
}

/** Python's round(), which torchvision's center_crop uses: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A random crop of size x size after zero-padding by `pad` (the CIFAR recipe). */
export function randomCrop(img: RawImage, size: number, pad: number, rng: Rng): RawImage {
  const top = rng.int(img.height + 2 * pad - size + 1) - pad;
  const left = rng.int(img.width + 2 * pad - size + 1) - pad;
  return crop(img, top, left, size, size);
}

export interface RandomResizedCropOptions {
  /** Range of the crop's area as a fraction of the image (torchvision: 0.08..1). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio, sampled log-uniformly (3/4..4/3). */
  ratio?: [number, number];
  mode?: Interpolation;
}

/** torchvision's RandomResizedCrop: ten tries at a random box, else the central crop of a legal ratio. */
export function randomResizedCrop(img: RawImage, size: number, rng: Rng, options: RandomResizedCropOptions = {}): RawImage {
  const [sMin, sMax] = options.scale ?? [0.08, 1];
  const [rMin, rMax] = options.ratio ?? [3 / 4, 4 / 3];
  const { height: H, width: W } = img;
  const area = H * W;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (sMin + (sMax - sMin) * rng.next());
    const ratio = Math.exp(Math.log(rMin) + (Math.log(rMax) - Math.log(rMin)) * rng.next());
    const w = Math.round(Math.sqrt(target * ratio));
    const h = Math.round(Math.sqrt(target / ratio));
    if (w > 0 && h > 0 && w <= W && h <= H) {
      const top = rng.int(H - h + 1);
      const left = rng.int(W - w + 1);
      return resizeImage(crop(img, top, left, h, w), size, size, options.mode);
    }
  }
  const inRatio = W / H;
  let w = W;
  let h = H;
  if (inRatio < rMin) h = Math.round(w / rMin);
  else if (inRatio > rMax) w = Math.round(h * rMax);
  return resizeImage(crop(img, Math.floor((H - h) / 2), Math.floor((W - w) / 2), h, w), size, size, options.mode);
}
