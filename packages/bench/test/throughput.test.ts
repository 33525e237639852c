import { describe, expect, it } from 'vitest';
import type { ThroughputCase } from '../src/commands/throughput.js';
import { vitkit } from './cli-helpers.js';

describe('vitkit throughput', () => {
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
      '--json',
    );
    expect(r.code).toBe(0);
    const cases = r.json() as ThroughputCase[];
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
