import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '@vitkit/core';
import type { VisionTransformer } from '@vitkit/vit';
import { afterAll, describe, expect, it } from 'vitest';
import { hasOnnxRuntime } from '../src/onnx/runtime.js';
import { cachedOnnxFile } from '../src/onnx/session.js';
import type { ThroughputCase } from '../src/commands/throughput.js';
import { vitkit } from './cli-helpers.js';

describe('vitkit throughput', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vitkit-throughput-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('times inference of one model and names the backend', async () => {
    const r = await vitkit(
      'throughput',
      '--model',
      'vit_micro_32',
      '--batch-size',
      '4',
      '--runs',
      '2',
      '--warmup',
      '1',
      '--workers',
      '2',
      '--csv',
      join(dir, 'infer.csv'),
      '--json',
    );
    expect(r.code).toBe(0);
    const c = r.json() as ThroughputCase;
    expect(c).toMatchObject({
      model: 'vit_micro_32',
      mode: 'infer',
      batch: 4,
      img_size: 32,
      backend: process.env['VITKIT_BACKEND'] ?? 'wasm',
    });
    expect(c.images_per_s).toBeGreaterThan(0);
    expect(c.images_per_s).toBeCloseTo(4 / c.median_s, 6);
    expect(c.replicas).toBe(2);
    expect(c.tensor_growth).toBe(0);
    const [header, row, end] = readFileSync(join(dir, 'infer.csv'), 'utf8').split('\n');
    expect(header).toBe(
      'model,infer_samples_per_sec,infer_step_time,infer_batch_size,infer_img_size,infer_gmacs,param_count,backend,replicas',
    );
    expect(row).toMatch(/^vit_micro_32,[\d.]+,[\d.]+,4,32,0\.0122,0\.17,\w+,2$/);
    expect(end).toBe('');
    if (c.backend === 'wasm') {
      expect(c.heap_bytes).toBeGreaterThan(0);
      expect(c.heap_bytes).toBeGreaterThanOrEqual(c.heap_bytes_after_warmup!);
    }
  });

  it('times training steps with shape overrides, and compares several models in one table', async () => {
    const r = await vitkit(
      'throughput',
      '--compare',
      'vit_micro_32,vit_tiny_patch16_224',
      '--train',
      '--img-size',
      '32',
      '--patch-size',
      '4',
      '--num-classes',
      '10',
      '--batch-size',
      '2',
      '--runs',
      '1',
      '--warmup',
      '0',
      '--workers',
      '1',
      '--csv',
      join(dir, 'train.csv'),
      '--json',
    );
    expect(r.code).toBe(0);
    const cases = r.json() as ThroughputCase[];
    const csv = readFileSync(join(dir, 'train.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe(
      'model,train_samples_per_sec,train_step_time,train_batch_size,train_img_size,train_gmacs,param_count,backend,replicas',
    );
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(['vit_micro_32', 'vit_tiny_patch16_224']);
    expect(cases.map((c) => [c.model, c.mode, c.img_size])).toEqual([
      ['vit_micro_32', 'train', 32],
      ['vit_tiny_patch16_224', 'train', 32],
    ]);
    expect(r.stderr.join('\n')).toMatch(/vit_tiny_patch16_224\s+train\s+2\s+32/);
  });

  it('rejects a missing model (exit 2) and an unknown one (exit 1)', async () => {
    expect((await vitkit('throughput')).code).toBe(2);
    const unknown = await vitkit('throughput', '--model', 'vit_nonexistent');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.join('\n')).toContain("unknown model 'vit_nonexistent'");
  });
});

describe.skipIf(!hasOnnxRuntime())('vitkit throughput --runtime onnx', () => {
  it('exports the model once into the cache and times it in ONNX Runtime', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitkit-onnx-cache-'));
    try {
      const args = ['--model', 'vit_tiny_patch16_224', '--img-size', '64', '--batch-size', '2', '--runs', '2', '--warmup', '1'];
      const r = await vitkit('throughput', ...args, '--runtime', 'onnx', '--cache-dir', dir, '--json');
      expect(r.code, r.stderr.join('\n')).toBe(0);
      const c = r.json() as ThroughputCase;
      expect(c).toMatchObject({ model: 'vit_tiny_patch16_224', mode: 'infer', batch: 2, img_size: 64, runtime: 'onnx', replicas: 1 });
      expect(c.backend).toMatch(/^onnxruntime-node 1\.30\.0 cpu, \d+ threads$/);
      expect(c.images_per_s).toBeGreaterThan(0);
      expect(await readdir(dir)).toHaveLength(1);
      process.env['VITKIT_RUNTIME'] = 'onnx';
      try {
        const again = await vitkit('throughput', ...args, '--cache-dir', dir, '--json');
        expect((again.json() as ThroughputCase).runtime).toBe('onnx');
      } finally {
        delete process.env['VITKIT_RUNTIME'];
      }
      const model = createModel('vit_tiny_patch16_224', { imgSize: 32, depth: 1 }).eval() as VisionTransformer;
      try {
        const first = await cachedOnnxFile('vit_tiny_patch16_224', model, dir);
        expect(first.cached).toBe(false);
        expect(await cachedOnnxFile('vit_tiny_patch16_224', model, dir)).toEqual({ file: first.file, cached: true });
        model.blocks.items[0]!.norm1.bias.assign(tf.onesLike(model.blocks.items[0]!.norm1.bias));
        expect((await cachedOnnxFile('vit_tiny_patch16_224', model, dir)).cached).toBe(false);
      } finally {
        model.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses training and an unknown runtime', async () => {
    const train = await vitkit('throughput', '--model', 'vit_micro_32', '--train', '--runtime', 'onnx');
    expect(train.code).toBe(2);
    expect(train.stderr.join('\n')).toMatch(/training runs on TensorFlow\.js/);
    const bad = await vitkit('throughput', '--model', 'vit_micro_32', '--runtime', 'torch');
    expect(bad.stderr.join('\n')).toMatch(/--runtime must be tfjs or onnx \(got 'torch'\)/);
  });
});
