// Data-parallel replicas for the commands that compute on whole batches (train,
// eval, throughput). WebAssembly computes on one thread under Node, so there the
// default is one replica per core: the main thread plus worker threads, each
// with its own backend and copy of the model. Other backends use their own
// threads and get one replica.
import { availableParallelism } from 'node:os';
import type { BatchForward, CreateOptions, ImageClassifier } from '@vitkit/core';
import { DataParallel } from '@vitkit/node';
import { type OptionSpec, UsageError } from './args.js';

/** What each worker imports to find the registered models (as register-models.ts). */
const MODEL_PACKAGES = ['@vitkit/vit', '@vitkit/hybrid-stem', '@vitkit/cswin', '@vitkit/crossvit'];

export const WORKERS_OPTION = {
  name: 'workers',
  type: 'number',
  value: 'N',
  description: 'data-parallel replicas on worker threads (default: one per core on WebAssembly, else 1)',
} as const satisfies OptionSpec;

/** The replica count for `--workers` (absent: the backend's default). */
export function replicaCount(requested: number | undefined, backend: string): number {
  if (requested === undefined) return backend === 'wasm' ? availableParallelism() : 1;
  if (!(Number.isInteger(requested) && requested >= 1)) throw new UsageError(`--workers must be a positive integer (got ${requested})`);
  // Replicas are for WebAssembly's one thread; a GPU is one device, and the weights are shared through synchronous reads.
  if (backend === 'webgpu' && requested > 1)
    throw new UsageError(`--workers ${requested}: data-parallel replicas need the wasm backend, not webgpu`);
  return requested;
}

/**
 * Starts replicas of `model` (built as `createModel(name, options)`) when more than
 * one is asked for, with the model's current weights; null means compute here.
 */
export async function startReplicas(
  model: ImageClassifier,
  name: string,
  options: CreateOptions,
  replicas: number,
): Promise<DataParallel | null> {
  if (replicas <= 1) return null;
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return DataParallel.start(model, { model: name, options: defined, imports: MODEL_PACKAGES }, replicas);
}

/** Evaluation on the replicas: the main model's current weights (EMA ones included) go out first. */
export function evalOnReplicas(parallel: DataParallel): () => BatchForward {
  return () => {
    parallel.syncWeights();
    return (images, shape) => parallel.predict(images, shape);
  };
}
