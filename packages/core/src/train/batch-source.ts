import type { Batch } from '../data/batch.js';

/**
 * Where fit and evaluate get their batches. An epoch's batches must depend only
 * on (seed, epoch), so a run resumed at batch `start` sees exactly what the
 * uninterrupted run saw.
 */
export interface BatchSource {
  readonly batchesPerEpoch: number;
  readonly imagesPerEpoch: number;
  batches(epoch: number, start?: number): AsyncIterableIterator<Batch>;
}
