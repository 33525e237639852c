import type { RawImage } from './image.js';

export interface Example {
  image: RawImage;
  label: number;
}

/** Labelled images addressed by index; `get` may decode lazily (image folders). */
export interface ImageDataset {
  /** For messages, e.g. 'mnist/train'. */
  readonly name: string;
  readonly size: number;
  /** Class names in label order. */
  readonly classes: string[];
  /** [H, W, C] when every image has it (IDX, CIFAR); null when sizes vary (folders). */
  readonly imageShape: [number, number, number] | null;
  get(index: number): Example | Promise<Example>;
}

/** Images held in one uint8 array [N, H, W, C] (IDX and CIFAR files). */
export class ArrayDataset implements ImageDataset {
  readonly size: number;
  readonly imageShape: [number, number, number];

  constructor(
    readonly name: string,
    private readonly pixels: Uint8Array,
    private readonly labels: ArrayLike<number>,
    shape: [number, number, number, number],
    readonly classes: string[],
  ) {
    const [n, h, w, c] = shape;
    if (pixels.length !== n * h * w * c) throw new Error(`${name}: ${pixels.length} bytes of pixels for ${n} images of ${h}x${w}x${c}`);
    if (labels.length !== n) throw new Error(`${name}: ${n} images but ${labels.length} labels`);
    this.size = n;
    this.imageShape = [h, w, c];
  }

  get(index: number): Example {
    const [h, w, c] = this.imageShape;
    const size = h * w * c;
    return {
      image: { data: this.pixels.subarray(index * size, (index + 1) * size), height: h, width: w, channels: c },
      label: this.labels[index]!,
    };
  }
}

/** The first `n` examples, or those at `indices` (quick runs, tests). */
export function subset(ds: ImageDataset, indices: number | number[]): ImageDataset {
  const idx = typeof indices === 'number' ? Array.from({ length: Math.min(indices, ds.size) }, (_, i) => i) : indices;
  return {
    name: `${ds.name}[${idx.length}]`,
    size: idx.length,
    classes: ds.classes,
    imageShape: ds.imageShape,
    get: (i) => ds.get(idx[i]!),
  };
}
