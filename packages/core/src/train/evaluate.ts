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

/** Logits [B, classes] of a batch of NHWC images, in eval mode (e.g. split over data-parallel replicas). */
export type BatchForward = (images: Float32Array, shape: [number, number, number, number]) => Promise<tf.Tensor2D>;

export interface EvaluateOptions {
  onBatch?: (done: number, total: number) => void;
  /** How logits are computed (default: `model.forward` on this thread). */
  forward?: BatchForward;
}

/** Top-1/top-5 accuracy and mean loss over one pass of `source`, in eval mode (restores the previous mode). */
export async function evaluate(model: Layer, source: BatchSource, options: EvaluateOptions = {}): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  const start = performance.now();
  const acc = new Accuracy();
  let done = 0;
  try {
    for await (const batch of source.batches(0)) {
      const logits = options.forward
        ? await options.forward(batch.images, batch.shape)
        : tf.tidy(() => model.forward(tf.tensor4d(batch.images, batch.shape)));
      const lossTensor = tf.tidy(() => crossEntropy(logits, tf.tensor1d(batch.labels, 'int32')));
      const loss = (await lossTensor.data())[0]!;
      lossTensor.dispose();
      await acc.update(logits, batch.labels, loss);
      logits.dispose();
      options.onBatch?.(++done, source.batchesPerEpoch);
    }
  } finally {
    model.train(wasTraining);
  }
  return { top1: acc.top1, top5: acc.top5, loss: acc.loss, images: acc.images, seconds: (performance.now() - start) / 1000 };
}
