import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensorsHeader } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vitkit } from './cli-helpers.js';

const fixtures = new URL('../../core/test/fixtures/torch-checkpoints/', import.meta.url).pathname;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'vitkit-convert-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('vitkit convert', () => {
  it('writes the state dict of a torch.save checkpoint as safetensors, with the same names and values', async () => {
    const target = join(out, 'ema.safetensors');
    const r = await vitkit('convert', join(fixtures, 'nested-model-ema.pth'), target, '--key', 'model_ema', '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ key: 'model_ema', tensors: 11, dtype: 'F32' });
    const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')).model_ema as Record<
      string,
      { shape: number[]; values: number[] }
    >;
    const header = readSafetensorsHeader(new Uint8Array(readFileSync(target)));
    expect(header.metadata).toEqual({ format: 'pt' });
    expect(header.entries['norm.num_batches_tracked']!.dtype).toBe('I64');
    const sd = await loadSafetensors(target);
    try {
      expect(Object.keys(sd).sort()).toEqual(Object.keys(expected).sort());
      expect(Array.from(sd['blocks.0.attn.qkv.weight']!.dataSync())).toEqual(expected['blocks.0.attn.qkv.weight']!.values.map(Math.fround));
      expect(sd['blocks.0.attn.qkv.weight']!.shape).toEqual([4, 3]);
    } finally {
      tf.dispose(Object.values(sd));
    }
  });

  it('stores floats as f16 when asked', async () => {
    const target = join(out, 'half.safetensors');
    expect((await vitkit('convert', join(fixtures, 'plain.pth'), target, '--dtype', 'f16')).code).toBe(0);
    expect(readSafetensorsHeader(new Uint8Array(readFileSync(target))).entries['pos_embed']!.dtype).toBe('F16');
    expect((await vitkit('convert', join(fixtures, 'plain.pth'), target, '--dtype', 'f8')).code).toBe(2);
  });

  it('converts a timm train.py checkpoint, whose argparse.Namespace args stay inert data', async () => {
    const target = join(out, 'timm-train.safetensors');
    const r = await vitkit('convert', join(fixtures, 'timm-train.pth'), target, '--json');
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.json()).toMatchObject({ key: 'state_dict', tensors: 11 });
    const sd = await loadSafetensors(target);
    expect(sd['pos_embed']!.shape).toEqual([1, 2, 4]);
    tf.dispose(Object.values(sd));
    const hostile = await vitkit('convert', join(fixtures, 'hostile-namespace-payload.pth'), join(out, 'ns.safetensors'));
    expect(hostile.code).toBe(1);
    expect(hostile.stderr.join('\n')).toContain('refuses the Python class or function os.system');
    expect(existsSync(join(out, 'ns.safetensors'))).toBe(false);
  });

  it('refuses a hostile pickle (exit 1, naming the class) and writes nothing', async () => {
    const target = join(out, 'evil.safetensors');
    const r = await vitkit('convert', join(fixtures, 'hostile-os-system.pth'), target);
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain('refuses the Python class or function os.system');
    expect(existsSync(target)).toBe(false);
    expect((await readdir(out)).filter((f) => f.startsWith('evil'))).toEqual([]);
  });
});

describe('vitkit models --pretrained', () => {
  it("lists timm's pretrained tags of the registered models with their Hub repository", async () => {
    const r = await vitkit('models', 'deit_*', '--pretrained', '--json');
    expect(r.code).toBe(0);
    const rows = r.json() as { model: string; hf_hub_id: string; num_classes: number; crop_pct: number }[];
    expect(rows.map((t) => t.model)).toEqual([
      'deit_base_patch16_224.fb_in1k',
      'deit_small_patch16_224.fb_in1k',
      'deit_tiny_patch16_224.fb_in1k',
    ]);
    expect(rows[0]).toMatchObject({ hf_hub_id: 'timm/deit_base_patch16_224.fb_in1k', num_classes: 1000, crop_pct: 0.9 });
    const text = await vitkit('models', 'crossvit_15*', '--pretrained');
    expect(text.stdout.join('\n')).toContain('timm/crossvit_15_dagger_240.in1k');
  });
});
