import { Rng } from '../random.js';

/**
 * A random stream determined by a few integers (seed, epoch, index...), so the
 * shuffling and augmentation of any example can be replayed without replaying
 * everything before it: what makes a resumed run see the same data.
 */
export function derivedRng(...parts: number[]): Rng {
  let h = 0x811c9dc5;
  for (const p of parts) {
    // FNV-1a over the 4 bytes of each part, then a murmur3 finaliser.
    for (let s = 0; s < 32; s += 8) h = Math.imul(h ^ ((p >>> s) & 0xff), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return new Rng(h >>> 0);
}
