import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, localGradients, seedInit } from '@vitkit/core';
import { DataParallel, loadMnist } from '@vitkit/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prediction } from '../src/commands/predict.js';
import '../src/register-models.js';
import { maxAbsDiff } from '../../../test-utils/index.js';
import { vitkit } from './cli-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitkit-train-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface TrainJson {
  top1: number;
  top5: number;
  images: number;
  seconds: number;
  checkpoint: string;
  steps: number;
  epochs_done: number;
  interrupted: boolean;
}

// One replica keeps these in-process runs deterministic and light; data parallelism has its own test below.
const quick = [
  '--model',
  'vit_micro_32',
  '--dataset',
  'mnist',
  '--limit',
  '96',
  '--eval-limit',
  '100',
  '--batch-size',
  '32',
  '--workers',
  '1',
];

describe('vitkit train / eval / predict', () => {
  let run: TrainJson;
  const out = () => join(dir, 'run');

  it('trains, evaluates every epoch, and ends with the JSON the issue asks for', async () => {
    const r = await vitkit('train', ...quick, '--out', out(), '--json');
    expect(r.code, r.stderr.join('\n')).toBe(0);
    run = r.json() as TrainJson;
    expect(run).toMatchObject({ images: 96, steps: 3, epochs_done: 1, interrupted: false, checkpoint: join(out(), 'model.safetensors') });
    expect(run.top1).toBeGreaterThanOrEqual(0);
    expect(run.top5).toBeGreaterThanOrEqual(run.top1);
    expect(run.seconds).toBeGreaterThan(0);
    expect(existsSync(join(out(), 'checkpoint.json'))).toBe(true);
  });

  it('evaluates the saved weights to the same accuracy as at the end of training', async () => {
    const r = await vitkit(
      'eval',
      '--model',
      'vit_micro_32',
      '--checkpoint',
      run.checkpoint,
      '--dataset',
      'mnist',
      '--limit',
      '100',
      '--json',
    );
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.json()).toMatchObject({ top1: run.top1, top5: run.top5, images: 100 });
  });

  it('resumes a run for a second epoch', async () => {
    const r = await vitkit('train', ...quick, '--epochs', '2', '--out', out(), '--resume', '--json');
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.json()).toMatchObject({ images: 96, steps: 6, epochs_done: 2 });
    expect(r.stderr.some((l) => l.includes('resuming'))).toBe(true);
  });

  it("predicts the top-5 digits of image files with the run's class names", async () => {
    const test = await loadMnist('test');
    const ex = test.get(0);
    const png = join(dir, 'digit.png');
    await sharp(Buffer.from(ex.image.data), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(png);
    const r = await vitkit('predict', '--model', 'vit_micro_32', '--checkpoint', out(), png, '--json');
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const [p] = r.json() as Prediction[];
    expect(p!.top).toHaveLength(5);
    expect(p!.top.map((t) => t.label)).toEqual(p!.top.map((t) => String(t.index)));
    const probs = p!.top.map((t) => t.probability);
    expect([...probs].sort((a, b) => b - a)).toEqual(probs);
    expect(probs.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-6);
  });

  it('reports bad usage with exit 2 and bad input with exit 1', async () => {
    expect((await vitkit('train', '--dataset', 'mnist')).code).toBe(2);
    expect((await vitkit('train', '--model', 'vit_micro_32', '--dataset', 'imagenet')).code).toBe(2);
    expect((await vitkit('train', '--model', 'no_such_model', '--dataset', 'mnist')).code).toBe(1);
    const missing = await vitkit('eval', '--model', 'vit_micro_32', '--checkpoint', join(dir, 'nope.safetensors'), '--dataset', 'mnist');
    expect(missing.code).toBe(1);
    expect(missing.stderr.join('\n')).toMatch(/nope.safetensors: no such file/);
  });
});

describe('data-parallel gradients', () => {
  it('equal the gradients of the whole batch computed on one thread', async () => {
    seedInit(5);
    const model = createModel('vit_micro_32');
    const parallel = await DataParallel.start(model, { model: 'vit_micro_32', options: {}, imports: ['@vitkit/vit'] }, 2);
    try {
      const b = 6;
      const batch = {
        images: Float32Array.from({ length: b * 32 * 32 * 3 }, (_, i) => Math.sin(i)),
        shape: [b, 32, 32, 3] as [number, number, number, number],
        labels: Int32Array.from([1, 2, 3, 4, 5, 6]),
      };
      const whole = await localGradients(model)(batch, 0.1);
      const split = await parallel.gradients(batch, 0.1);
      expect(split.loss).toBeCloseTo(whole.loss, 5);
      for (const [name, g] of whole.grads) {
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, split.grads.get(name)!))).dataSync()[0]!);
        expect(diff, name).toBeLessThan(1e-5);
      }
      tf.dispose([...whole.grads.values(), ...split.grads.values()]);
    } finally {
      await parallel.close();
      model.dispose();
    }
  });

  it('predicts with the replicas: the same logits as one forward pass, in order, with the weights of the last sync', async () => {
    const model = createModel('vit_micro_32');
    const parallel = await DataParallel.start(model, { model: 'vit_micro_32', options: {}, imports: ['@vitkit/vit'] }, 2);
    try {
      const images = Float32Array.from({ length: 5 * 32 * 32 * 3 }, (_, i) => Math.sin(i / 7));
      const shape: [number, number, number, number] = [5, 32, 32, 3];
      const whole = () => tf.tidy(() => model.forward(tf.tensor4d(images, shape)));
      model.train();
      const [expected, got] = [whole(), await parallel.predict(images.slice(), shape)];
      expect(model.training).toBe(true);
      expect(got.shape).toEqual([5, 10]);
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5);
      // Changed weights reach the workers only through syncWeights.
      const bias = model.namedParameters().find(([n]) => n === 'head.bias')![1];
      bias.assign(tf.add(bias, 1));
      const stale = await parallel.predict(images.slice(), shape);
      parallel.syncWeights();
      const fresh = await parallel.predict(images.slice(), shape);
      const shifted = whole();
      expect(maxAbsDiff(fresh, shifted)).toBeLessThan(1e-5);
      // Rows 3..4 come from the worker (the main thread takes the first share, 3 of 5).
      const [staleRows, oldRows] = tf.tidy(() => [tf.slice(stale, [3, 0], [2, 10]), tf.slice(expected, [3, 0], [2, 10])]);
      expect(maxAbsDiff(staleRows!, oldRows!)).toBeLessThan(1e-5);
      tf.dispose([staleRows!, oldRows!]);
      tf.dispose([expected, got, stale, fresh, shifted]);
      expect(parallel.workerHeapBytes).toBeGreaterThan(0);
    } finally {
      await parallel.close();
      model.dispose();
    }
  });

  it('run models with BatchNorm buffers (int32 num_batches_tracked) on the replicas', async () => {
    const model = createModel('vitc_micro_32');
    const parallel = await DataParallel.start(model, { model: 'vitc_micro_32', options: {}, imports: ['@vitkit/hybrid-stem'] }, 2);
    try {
      const batch = {
        images: Float32Array.from({ length: 4 * 32 * 32 * 3 }, (_, i) => Math.cos(i)),
        shape: [4, 32, 32, 3] as [number, number, number, number],
        labels: Int32Array.from([0, 1, 2, 3]),
      };
      const { loss, grads } = await parallel.gradients(batch, 0);
      expect(Number.isFinite(loss)).toBe(true);
      expect(grads.size).toBe(model.namedParameters().length);
      tf.dispose([...grads.values()]);
    } finally {
      await parallel.close();
      model.dispose();
    }
  });
});
