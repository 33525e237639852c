// Data-parallel gradients over worker threads. The WebAssembly backend runs on
// one thread under Node, so a second core sits idle; each worker holds its own
// backend and a replica of the model, computes the gradients of its share of
// the batch, and the shares are averaged (weighted by size) on the main thread,
// where the optimizer runs. Weights go out through shared memory before every
// step, so replicas never drift. Each replica draws its dropout masks from a
// stream derived from the main one, so runs stay reproducible and resumable
// (for the same number of replicas).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from '../data/batch.js';
import type { Layer } from '../layers/layer.js';
import { dropRng } from '../random.js';
import type { CreateOptions } from '../registry.js';
import { type GradientFn, type Gradients, localGradients } from '../train/train-step.js';

export interface ReplicaSpec {
  /** Registered model name and options: each worker builds the same model. */
  model: string;
  options: CreateOptions;
  /** Modules each worker imports first so the model is registered (e.g. '@vitkit/vit'). */
  imports: string[];
}

/** Layout of the flat shared buffers: every parameter and buffer, in order. */
export type FlatLayout = [name: string, offset: number, size: number][];

export interface WorkerInit {
  spec: ReplicaSpec;
  layout: FlatLayout;
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export interface WorkerStep {
  batch: Batch;
  labelSmoothing: number;
  dropRngState: number;
}

export type WorkerReply = { ready: true } | { loss: number } | { error: string };

export class DataParallel {
  private constructor(
    private readonly model: Layer,
    private readonly workers: Worker[],
    private readonly layout: FlatLayout,
    private readonly weights: Float32Array,
    private readonly grads: Float32Array[],
    private readonly local: GradientFn,
  ) {}

  /** Starts `replicas - 1` workers (the main thread is the first replica). */
  static async start(model: Layer, spec: ReplicaSpec, replicas: number): Promise<DataParallel> {
    const tensors = [...model.namedParameters(), ...model.namedBuffers()];
    let offset = 0;
    const layout: FlatLayout = tensors.map(([name, v]) => {
      const entry: FlatLayout[number] = [name, offset, v.size];
      offset += v.size;
      return entry;
    });
    const weights = new SharedArrayBuffer(offset * 4);
    const workers: Worker[] = [];
    const grads: Float32Array[] = [];
    try {
      for (let i = 1; i < replicas; i++) {
        const g = new SharedArrayBuffer(offset * 4);
        const worker = new Worker(workerUrl());
        workers.push(worker);
        grads.push(new Float32Array(g));
        const init: WorkerInit = { spec, layout, weights, grads: g };
        worker.postMessage(init);
        await reply(worker);
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new DataParallel(model, workers, layout, new Float32Array(weights), grads, localGradients(model));
  }

  get replicas(): number {
    return this.workers.length + 1;
  }

  /** The GradientFn for fit: the batch split into contiguous shares, one per replica. */
  readonly gradients: GradientFn = async (batch, labelSmoothing) => {
    this.publishWeights();
    const shares = splitBatch(batch, this.replicas);
    const replies = shares.slice(1).map((share, i) => {
      const worker = this.workers[i]!;
      const step: WorkerStep = { batch: share, labelSmoothing, dropRngState: (dropRng.getState() ^ (0x9e3779b9 * (i + 1))) >>> 0 };
      worker.postMessage(step);
      return reply(worker) as Promise<{ loss: number }>;
    });
    const mine = await this.local(shares[0]!, labelSmoothing);
    const theirs = await Promise.all(replies);
    const total = batch.shape[0];
    const w0 = shares[0]!.shape[0] / total;
    const grads = new Map<string, tf.Tensor>();
    let loss = mine.loss * w0;
    theirs.forEach((r, i) => {
      loss += (r.loss * shares[i + 1]!.shape[0]) / total;
    });
    for (const [name, g] of mine.grads) {
      const [, offset, size] = this.layout.find(([n]) => n === name)!;
      const summed = tf.tidy(() => {
        let acc = tf.mul(g, w0);
        this.grads.forEach((buf, i) => {
          const wi = shares[i + 1]!.shape[0] / total;
          acc = tf.add(acc, tf.mul(tf.tensor(buf.slice(offset, offset + size), g.shape), wi));
        });
        return acc;
      });
      g.dispose();
      grads.set(name, summed);
    }
    return { loss, grads } satisfies Gradients;
  };

  private publishWeights(): void {
    const byName = new Map([...this.model.namedParameters(), ...this.model.namedBuffers()]);
    for (const [name, offset] of this.layout) this.weights.set(byName.get(name)!.dataSync() as Float32Array, offset);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * The worker script beside this file; when this file runs from its TypeScript
 * source (the tests), the built one in dist/, as a worker cannot load .ts.
 */
export function workerUrl(): URL {
  const beside = new URL('./data-parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/node/data-parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('data-parallel worker script not found: build @vitkit/core first (npx nx run @vitkit/core:build)');
}

/** Contiguous shares of a batch, as even as possible (the first gets any remainder). */
export function splitBatch(batch: Batch, parts: number): Batch[] {
  const [b, h, w, c] = batch.shape;
  const n = Math.min(parts, b);
  const base = Math.floor(b / n);
  const sizes = Array.from({ length: n }, (_, i) => base + (i < b % n ? 1 : 0));
  const k = batch.targets ? batch.targets.length / b : 0;
  let at = 0;
  return sizes.map((s) => {
    const share: Batch = {
      images: batch.images.slice(at * h * w * c, (at + s) * h * w * c),
      shape: [s, h, w, c],
      labels: batch.labels.slice(at, at + s),
    };
    if (batch.targets) share.targets = batch.targets.slice(at * k, (at + s) * k);
    at += s;
    return share;
  });
}

function reply(worker: Worker): Promise<WorkerReply> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
    };
    const onMessage = (m: WorkerReply) => {
      cleanup();
      if ('error' in m) reject(new Error(`data-parallel worker: ${m.error}`));
      else resolve(m);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
  });
}
