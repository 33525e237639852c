// Data parallelism over worker threads. The WebAssembly backend runs on one
// thread under Node, so a second core sits idle; each worker holds its own
// backend and a replica of the model and takes a contiguous share of every
// batch. Training: each share's gradients are averaged (weighted by size) on
// the main thread, where the optimizer runs. Inference: the shares' logits are
// joined in order. Weights go out through shared memory whenever they changed
// (before every training step), so replicas never drift. Each replica draws its dropout masks from a
// stream derived from the main one, so runs stay reproducible and resumable
// (for the same number of replicas).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { type Batch, type Layer, dropRng, type CreateOptions, type GradientFn, type Gradients, localGradients } from '@vitkit/core';

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

/** A training share: the worker returns its loss and writes its gradients. */
export interface WorkerStep {
  kind: 'gradients';
  weightsVersion: number;
  batch: Batch;
  labelSmoothing: number;
  dropRngState: number;
}

/** An inference share: the worker returns its logits, in eval mode. */
export interface WorkerForward {
  kind: 'forward';
  weightsVersion: number;
  images: Float32Array;
  shape: [number, number, number, number];
}

/** Every answer after `ready` carries the worker's WebAssembly heap size (null on other backends). */
export type WorkerReply =
  | { ready: true }
  | { loss: number; heapBytes: number | null }
  | { logits: Float32Array; shape: number[]; heapBytes: number | null }
  | { error: string };

export class DataParallel {
  private constructor(
    private readonly model: Layer,
    private readonly workers: Worker[],
    private readonly layout: FlatLayout,
    private readonly weights: Float32Array,
    private readonly grads: Float32Array[],
    private readonly local: GradientFn,
  ) {}

  /** Bumped by syncWeights; a worker reloads the shared weights when its copy is older. */
  private weightsVersion = 0;
  private workerHeap = 0;

  /** The largest WebAssembly heap of the worker replicas so far, in bytes (0 when unknown). */
  get workerHeapBytes(): number {
    return this.workerHeap;
  }

  private noteHeap(r: { heapBytes: number | null }): void {
    this.workerHeap = Math.max(this.workerHeap, r.heapBytes ?? 0);
  }

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
    const parallel = new DataParallel(model, workers, layout, new Float32Array(weights), grads, localGradients(model));
    parallel.syncWeights();
    return parallel;
  }

  get replicas(): number {
    return this.workers.length + 1;
  }

  /** The GradientFn for fit: the batch split into contiguous shares, one per replica. */
  readonly gradients: GradientFn = async (batch, labelSmoothing) => {
    this.syncWeights();
    const shares = splitBatch(batch, this.replicas);
    const replies = shares.slice(1).map((share, i) => {
      const worker = this.workers[i]!;
      const step: WorkerStep = {
        kind: 'gradients',
        weightsVersion: this.weightsVersion,
        batch: share,
        labelSmoothing,
        dropRngState: (dropRng.getState() ^ (0x9e3779b9 * (i + 1))) >>> 0,
      };
      worker.postMessage(step);
      return reply(worker) as Promise<{ loss: number; heapBytes: number | null }>;
    });
    const mine = await this.local(shares[0]!, labelSmoothing);
    const theirs = await Promise.all(replies);
    for (const r of theirs) this.noteHeap(r);
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

  /**
   * Logits [B, classes] of a batch in eval mode, each replica taking a share, with
   * the weights of the last syncWeights (call it after loading or changing weights
   * outside training). The main thread's model is switched to eval and back.
   */
  async predict(images: Float32Array, shape: [number, number, number, number]): Promise<tf.Tensor2D> {
    const shares = splitBatch({ images, shape, labels: new Int32Array(shape[0]) }, this.replicas);
    const replies = shares.slice(1).map((share, i) => {
      const worker = this.workers[i]!;
      const message: WorkerForward = { kind: 'forward', weightsVersion: this.weightsVersion, images: share.images, shape: share.shape };
      worker.postMessage(message, [message.images.buffer as ArrayBuffer]);
      return reply(worker) as Promise<{ logits: Float32Array; shape: number[]; heapBytes: number | null }>;
    });
    const wasTraining = this.model.training;
    this.model.eval();
    let mine: tf.Tensor;
    try {
      mine = tf.tidy(() => this.model.forward(tf.tensor4d(shares[0]!.images, shares[0]!.shape)));
    } finally {
      this.model.train(wasTraining);
    }
    const theirs = await Promise.all(replies).catch((e) => {
      mine.dispose();
      throw e;
    });
    for (const r of theirs) this.noteHeap(r);
    return tf.tidy(() => {
      const joined = tf.concat([mine, ...theirs.map((r) => tf.tensor(r.logits, r.shape))], 0);
      mine.dispose();
      return joined;
    }) as tf.Tensor2D;
  }

  /** Copies the main model's weights to the shared buffer the workers load from. */
  syncWeights(): void {
    const byName = new Map([...this.model.namedParameters(), ...this.model.namedBuffers()]);
    for (const [name, offset] of this.layout) this.weights.set(byName.get(name)!.dataSync() as Float32Array, offset);
    this.weightsVersion++;
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
  const built = new URL('../dist/data-parallel-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('data-parallel worker script not found: build @vitkit/node first (npx nx run @vitkit/node:build)');
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
