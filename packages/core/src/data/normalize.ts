import { newImage, type RawImage } from './image.js';

/** Grey (1 channel) to RGB by repeating the channel; other images unchanged. */
export function greyToRgb(img: RawImage): RawImage {
  if (img.channels !== 1) return img;
  const out = newImage(img.height, img.width, 3);
  for (let i = 0; i < img.height * img.width; i++) {
    const v = img.data[i]!;
    out.data[3 * i] = v;
    out.data[3 * i + 1] = v;
    out.data[3 * i + 2] = v;
  }
  return out;
}

/**
 * Pixels on the 0..255 scale to (x / 255 - mean) / std per channel, written
 * into `out` at `offset` when given. Each step is rounded to float32 as
 * torchvision's ToTensor and Normalize compute it, so 8-bit inputs give
 * exactly timm's values.
 */
export function normalize(img: RawImage, mean: readonly number[], std: readonly number[], out?: Float32Array, offset = 0): Float32Array {
  const c = img.channels;
  if (mean.length !== c || std.length !== c) {
    throw new Error(`normalize: image has ${c} channels, mean/std have ${mean.length}/${std.length}`);
  }
  const n = img.height * img.width * c;
  const dst = out ?? new Float32Array(n);
  const m = mean.map(Math.fround);
  const s = std.map(Math.fround);
  const { data } = img;
  for (let i = 0; i < n; i++) {
    const ch = i % c;
    dst[offset + i] = Math.fround(Math.fround(data[i]! / 255) - m[ch]!) / s[ch]!;
  }
  return dst;
}
