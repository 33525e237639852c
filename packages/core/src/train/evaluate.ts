import * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '../layers/layer.js';
import type { BatchSource } from './batch-source.js';
import { crossEntropy } from './losses.js';
import { Accuracy } from './metrics.js';

export interface EvalResult {
  top1: number;
  top5: number;
  loss: number;
  images: number;
  seconds: number;
}

/** Top-1/top-5 accuracy and mean loss over one pass of `source`, in eval mode (restores the previous mode). */
export async function evaluate(
  model: Layer,
  source: BatchSource,
  onBatch?: (done: number, total: number) => void,
): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  const start = performance.now();
  const acc = new Accuracy();
  let done = 0;
  try {
    for await (const batch of source.batches(0)) {
      const logits = tf.tidy(() => model.forward(tf.tensor4d(batch.images, batch.shape)));
      const loss = tf.tidy(() => crossEntropy(logits, tf.tensor1d(batch.labels, 'int32')).dataSync()[0]!);
      acc.update(logits, batch.labels, loss);
      logits.dispose();
      onBatch?.(++done, source.batchesPerEpoch);
    }
  } finally {
    model.train(wasTraining);
  }
  return { top1: acc.top1, top5: acc.top5, loss: acc.loss, images: acc.images, seconds: (performance.now() - start) / 1000 };
}
