// Seeded random streams. Initialisation and training randomness (dropout,
// DropPath, shuffling, augmentation) draw from separate streams whose state can
// be saved in a checkpoint, so a resumed run continues exactly.

/** mulberry32: small, fast, and its whole state is one 32-bit integer. */
export class Rng {
  private state: number;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  seed(seed: number): void {
    this.state = seed >>> 0;
  }

  getState(): number {
    return this.state;
  }

  setState(state: number): void {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer seed for a tfjs random op. */
  nextSeed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher-Yates shuffle of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p;
  }
}

/** Stream for weight initialisation. */
export const initRng = new Rng(0x1234);
/** Stream for dropout and DropPath masks during training. */
export const dropRng = new Rng(0x5678);
