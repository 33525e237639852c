import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointDirectory, loadCheckpoint, loadMnist, loadSafetensors, restoreCheckpoint } from '../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Batch,
  type BatchSource,
  createOptimizer,
  DataLoader,
  dropRng,
  evalTransform,
  fit,
  type ImageDataset,
  INCEPTION_MEAN,
  INCEPTION_STD,
  ModelEma,
  NonFiniteLossError,
  type ProgressReporter,
  seedInit,
  silentProgress,
  subset,
  trainTransform,
  warmupCosine,
} from '@vitkit/core';
import { TinyVit } from './train-tiny-vit.js';

const input = { imgSize: 32, inChannels: 3, cropPct: 1, interpolation: 'bilinear' as const };

function loader(ds: ImageDataset, options: { batchSize: number; shuffle: boolean; augment?: boolean; seed?: number }): DataLoader {
  return new DataLoader(ds, {
    batchSize: options.batchSize,
    imageShape: [32, 32, 3],
    mean: INCEPTION_MEAN,
    std: INCEPTION_STD,
    transform: options.augment ? trainTransform(ds.imageShape, input, { randomCropPad: 2 }) : evalTransform(ds.imageShape, input),
    shuffle: options.shuffle,
    seed: options.seed ?? 7,
    dropLast: options.shuffle,
  });
}

/** A fresh, seeded run: same seed, same initial weights and dropout stream. */
function setup(seed: number, options: { dropPath?: number; ema?: boolean } = {}) {
  seedInit(seed);
  dropRng.seed(seed);
  const model = new TinyVit(10, { dropPath: options.dropPath ?? 0 });
  const optimizer = createOptimizer('adamw', model, { weightDecay: 0.05 });
  const ema = options.ema ? new ModelEma(model, 0.9) : undefined;
  return { model, optimizer, ema };
}

function weights(model: TinyVit): Float32Array[] {
  return model.parameters().map((v) => v.dataSync() as Float32Array);
}

let mnist64: ImageDataset;
let dir: string;
beforeAll(async () => {
  mnist64 = subset(await loadMnist('train'), 64);
  dir = await mkdtemp(join(tmpdir(), 'vitkit-fit-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fit', () => {
  it('overfits 64 MNIST images to 100% training accuracy with a flat tensor count', async () => {
    const { model, optimizer } = setup(1);
    const counts: number[] = [];
    const progress: ProgressReporter = { ...silentProgress, step: () => counts.push(tf.memory().numTensors) };
    const train = loader(mnist64, { batchSize: 16, shuffle: true });
    const epochs = 80;
    const result = await fit({
      model,
      optimizer,
      schedule: warmupCosine({ baseLr: 3e-3, totalSteps: epochs * train.batchesPerEpoch, warmupSteps: 8 }),
      train,
      eval: loader(mnist64, { batchSize: 64, shuffle: false }),
      epochs,
      progress,
    });
    expect(result.last?.top1).toBe(1);
    expect(result.progress.step).toBe(epochs * 4);
    // The optimizer's moments appear at the first step; after that nothing may accumulate.
    expect(new Set(counts.slice(1))).toEqual(new Set([counts[1]]));
    model.dispose();
    optimizer.dispose();
  });

  it('ends an interrupted-and-resumed run with the same weights as an uninterrupted one', async () => {
    const run = async (sinkDir: string, stopAt?: number) => {
      const { model, optimizer, ema } = setup(2, { dropPath: 0.2, ema: true });
      const controller = new AbortController();
      const train = loader(mnist64, { batchSize: 16, shuffle: true, augment: true });
      const options = {
        model,
        optimizer,
        ema,
        schedule: warmupCosine({ baseLr: 2e-3, totalSteps: 12, warmupSteps: 3 }),
        train,
        epochs: 3,
        labelSmoothing: 0.1,
        clipGradNorm: 1,
        sink: new CheckpointDirectory(sinkDir),
        signal: controller.signal,
        progress: { ...silentProgress, step: (p: { step: number }) => p.step === stopAt && controller.abort() },
      };
      const first = await fit(options);
      return { first, model, optimizer, ema, options };
    };
    const straight = await run(join(dir, 'straight'));
    expect(straight.first.interrupted).toBe(false);

    const cut = await run(join(dir, 'cut'), 6);
    expect(cut.first.interrupted).toBe(true);
    expect(cut.first.progress).toMatchObject({ step: 6, epoch: 1, batch: 2 });
    // A new process: other initial weights and RNG state, then the checkpoint.
    const resumed = setup(99, { dropPath: 0.2, ema: true });
    const ckpt = await loadCheckpoint(join(dir, 'cut'));
    const progress = await restoreCheckpoint(ckpt, resumed);
    const done = await fit({ ...cut.options, ...resumed, resume: progress, signal: undefined, progress: silentProgress });
    expect(done.progress.step).toBe(12);
    expect(weights(resumed.model)).toEqual(weights(straight.model));
    const emaA = await straight.ema!.stateDict();
    const emaB = await resumed.ema!.stateDict();
    expect(emaB['head.weight']!.dataSync()).toEqual(emaA['head.weight']!.dataSync());
    // The final weights file holds the model's weights in PyTorch layout.
    const saved = await loadSafetensors(done.checkpoint!);
    expect(saved['head.weight']!.shape).toEqual([10, 32]);
    tf.dispose([...Object.values(emaA), ...Object.values(emaB), ...Object.values(saved)]);
  });

  it('stops with an error naming the step when the loss is not finite, keeping the last checkpoint', async () => {
    const { model, optimizer } = setup(3);
    const good = loader(mnist64, { batchSize: 16, shuffle: true });
    const poisoned: BatchSource = {
      batchesPerEpoch: good.batchesPerEpoch,
      imagesPerEpoch: good.imagesPerEpoch,
      async *batches(epoch, start = 0) {
        let i = start;
        for await (const b of good.batches(epoch, start)) {
          yield i++ === 2 ? ({ ...b, images: b.images.map(() => Number.NaN) } as Batch) : b;
        }
      },
    };
    const sinkDir = join(dir, 'nan');
    const attempt = fit({
      model,
      optimizer,
      schedule: () => 1e-3,
      train: poisoned,
      epochs: 1,
      sink: new CheckpointDirectory(sinkDir),
      checkpointEverySteps: 1,
    });
    await expect(attempt).rejects.toThrow(NonFiniteLossError);
    await expect(attempt).rejects.toThrow(/step 2/);
    const ckpt = await loadCheckpoint(sinkDir);
    expect(ckpt.json.progress.step).toBe(2);
    // Neither the model nor the checkpoint took the bad step.
    expect(weights(model).every((w) => w.every(Number.isFinite))).toBe(true);
    expect(ckpt.model['head.weight']!.dataSync()).toEqual(model.stateDict()['head.weight']!.dataSync());
    tf.dispose([...Object.values(ckpt.model), ...Object.values(ckpt.optimizer.tensors)]);
  });
});
