// One optimisation step: loss and gradients of a batch (inside tf.tidy, so no
// tensor outlives the step), a finite-loss check before anything changes,
// gradient clipping, the optimizer update.
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batch.js';
import type { Layer } from '../layers/layer.js';
import { clipByGlobalNorm } from './clip.js';
import { crossEntropy } from './losses.js';
import type { Optimizer } from './optimizer.js';
import './register-gradients.js';

/** The loss became NaN or infinite; the weights were not updated. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
  ) {
    super(`loss is ${loss} at step ${step}; training stopped before applying that step (lower --lr or enable gradient clipping)`);
    this.name = 'NonFiniteLossError';
  }
}

export interface Gradients {
  loss: number;
  /** Gradient of each parameter by module name; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
}

/** Computes the mean loss and the gradients of one batch (one replica, or several: see data-parallel training). */
export type GradientFn = (batch: Batch, labelSmoothing: number) => Gradients | Promise<Gradients>;

/** Batch tensors: images [B,H,W,C] and integer labels or soft targets. */
export function batchTensors(batch: Batch): { x: tf.Tensor4D; target: tf.Tensor } {
  const x = tf.tensor4d(batch.images, batch.shape);
  const target = batch.targets
    ? tf.tensor2d(batch.targets, [batch.shape[0], batch.targets.length / batch.shape[0]])
    : tf.tensor1d(batch.labels, 'int32');
  return { x, target };
}

/** Throws a clear error when no gradient functions are registered (tfjs-core alone registers none). */
export function assertGradientsRegistered(): void {
  if (tf.getGradient(tf.BatchMatMul) === undefined)
    throw new Error(
      "TensorFlow.js has no gradient functions registered, so nothing can be trained: in Node import '@vitkit/node' (it registers them); in a bundle, @vitkit/core registers them itself",
    );
}

/** Loss and gradients of `model` on `batch`, computed here. */
export function localGradients(model: Layer): GradientFn {
  assertGradientsRegistered();
  const named = model.namedParameters();
  const params = named.map(([, v]) => v);
  return async (batch, labelSmoothing) => {
    const result = tf.tidy(() => {
      const { x, target } = batchTensors(batch);
      const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(x), target, labelSmoothing), params);
      return { value, grads: named.map(([, v]) => grads[v.name]) };
    });
    const loss = (await result.value.data())[0]!;
    result.value.dispose();
    const grads = new Map<string, tf.Tensor>();
    named.forEach(([name], i) => {
      const g = result.grads[i];
      if (g) grads.set(name, g);
    });
    return { loss, grads };
  };
}

export interface StepOptions {
  lr: number;
  /** Global step number, for the error message. */
  step: number;
  labelSmoothing?: number;
  /** Clip gradients to this global L2 norm (none when absent or 0). */
  clipGradNorm?: number;
}

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping, when clipping is on. */
  gradNorm?: number;
}

/** Computes gradients, checks the loss is finite, clips, updates. Throws NonFiniteLossError without touching the weights. */
export async function trainStep(gradientFn: GradientFn, optimizer: Optimizer, batch: Batch, options: StepOptions): Promise<StepResult> {
  const { loss, grads } = await gradientFn(batch, options.labelSmoothing ?? 0);
  try {
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(options.step, loss);
    if (!options.clipGradNorm) {
      optimizer.apply(grads, options.lr);
      return { loss };
    }
    const names = [...grads.keys()];
    const clipped = clipByGlobalNorm([...grads.values()], options.clipGradNorm);
    const gradNorm = (await clipped.norm.data())[0]!;
    try {
      optimizer.apply(new Map(names.map((n, i) => [n, clipped.grads[i]!])), options.lr);
    } finally {
      tf.dispose([clipped.norm, ...clipped.grads]);
    }
    return { loss, gradNorm };
  } finally {
    tf.dispose([...grads.values()]);
  }
}
