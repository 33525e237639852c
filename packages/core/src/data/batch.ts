/**
 * A ready batch on the host: produced ahead of the training step (decoded,
 * augmented, normalised), turned into tensors only when the step runs.
 */
export interface Batch {
  /** NHWC float32 images, normalised. */
  images: Float32Array;
  shape: [number, number, number, number];
  /** The class of each image (for mixed batches, the dominant one). */
  labels: Int32Array;
  /** Soft targets [B, numClasses] when mixup or cutmix mixed the batch. */
  targets?: Float32Array;
}

export function batchSize(batch: Batch): number {
  return batch.shape[0];
}
