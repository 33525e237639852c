import type { Rng } from '../random.js';
import { newImage, type RawImage } from './image.js';

export function hflip(img: RawImage): RawImage {
  const { height: h, width: w, channels: c } = img;
  const out = newImage(h, w, c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const src = (y * w + x) * c;
      const dst = (y * w + (w - 1 - x)) * c;
      for (let ch = 0; ch < c; ch++) out.data[dst + ch] = img.data[src + ch]!;
    }
  }
  return out;
}

/** Mirrors left-right with probability p. */
export function randomHflip(img: RawImage, rng: Rng, p = 0.5): RawImage {
  return rng.next() < p ? hflip(img) : img;
}
