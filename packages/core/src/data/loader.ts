// Batches for fit and evaluate, prepared ahead of the step: up to `prefetch`
// batches are being read, decoded (asynchronously for image folders) and
// transformed while the model trains on the current one. Shuffling and
// augmentation are drawn from streams keyed by (seed, epoch, position), so any
// batch can be rebuilt on its own: a resumed run sees the same data.
import type { BatchSource } from '../train/batch-source.js';
import type { Batch } from './batch.js';
import type { ImageDataset } from './dataset.js';
import { type MixupOptions, mixBatch } from './mixup.js';
import { normalize } from './normalize.js';
import { derivedRng } from './seed.js';
import type { ImageTransform } from './transform.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** Output [H, W, C] every transformed image must have. */
  imageShape: [number, number, number];
  mean: readonly number[];
  std: readonly number[];
  transform: ImageTransform;
  shuffle?: boolean;
  seed?: number;
  /** Drop a last, smaller batch (training). */
  dropLast?: boolean;
  mixup?: MixupOptions | null;
  /** Batches prepared ahead (default 3). */
  prefetch?: number;
}

const MIX_STREAM = 0x6d6978;

export class DataLoader implements BatchSource {
  readonly batchesPerEpoch: number;
  readonly imagesPerEpoch: number;

  constructor(
    readonly dataset: ImageDataset,
    private readonly options: DataLoaderOptions,
  ) {
    const { batchSize } = options;
    if (!(batchSize > 0)) throw new Error(`batch size must be positive (got ${batchSize})`);
    this.batchesPerEpoch = options.dropLast ? Math.floor(dataset.size / batchSize) : Math.ceil(dataset.size / batchSize);
    if (this.batchesPerEpoch === 0) throw new Error(`${dataset.name}: ${dataset.size} images are fewer than one batch of ${batchSize}`);
    this.imagesPerEpoch = options.dropLast ? this.batchesPerEpoch * batchSize : dataset.size;
  }

  /** Dataset indices in the order epoch `epoch` visits them. */
  order(epoch: number): Int32Array {
    const n = this.dataset.size;
    if (this.options.shuffle) return derivedRng(this.options.seed ?? 0, epoch).permutation(n);
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  async *batches(epoch: number, start = 0): AsyncIterableIterator<Batch> {
    const order = this.order(epoch);
    const ahead = Math.max(1, this.options.prefetch ?? 3);
    const pending: Promise<Batch>[] = [];
    let next = start;
    const fill = () => {
      while (pending.length < ahead && next < this.batchesPerEpoch) pending.push(this.build(epoch, next++, order));
    };
    fill();
    while (pending.length) {
      const batch = await pending.shift()!;
      fill();
      yield batch;
    }
  }

  private async build(epoch: number, index: number, order: Int32Array): Promise<Batch> {
    const { batchSize, imageShape, mean, std, transform, seed = 0 } = this.options;
    const first = index * batchSize;
    const positions = Array.from({ length: Math.min(batchSize, order.length - first) }, (_, i) => first + i);
    const examples = await Promise.all(positions.map((p) => this.dataset.get(order[p]!)));
    const [h, w, c] = imageShape;
    const size = h * w * c;
    const images = new Float32Array(positions.length * size);
    const labels = new Int32Array(positions.length);
    examples.forEach((ex, i) => {
      const img = transform(ex.image, derivedRng(seed, epoch, positions[i]!));
      if (img.height !== h || img.width !== w || img.channels !== c) {
        throw new Error(`${this.dataset.name}: transformed image is ${img.height}x${img.width}x${img.channels}, expected ${h}x${w}x${c}`);
      }
      normalize(img, mean, std, images, i * size);
      labels[i] = ex.label;
    });
    const batch: Batch = { images, shape: [positions.length, h, w, c], labels };
    if (this.options.mixup) mixBatch(batch, derivedRng(seed, epoch, index, MIX_STREAM), this.options.mixup);
    return batch;
  }
}
