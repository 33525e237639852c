// The file side of safetensors: loading names the path, saving is atomic.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensorsHeader } from '@vitkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftSafetensors } from '../../../test-utils/index.js';
import { loadSafetensors, readSafetensorsFile, saveSafetensors, writeFileAtomic } from '../src/index.js';

describe('loadSafetensors', () => {
  const one = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const f32 = (n: number) => new Uint8Array(4 * n);

  it('loadSafetensors names the path; a missing file is a clear error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitkit-st-'));
    try {
      const path = join(dir, 'broken.safetensors');
      await writeFile(path, craftSafetensors(one, f32(1)));
      await expect(loadSafetensors(path)).rejects.toThrow(`${path}: not a valid safetensors file`);
      await expect(loadSafetensors(join(dir, 'absent.safetensors'))).rejects.toThrow(/absent\.safetensors: cannot read \(ENOENT\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('saveSafetensors writes atomically', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vitkit-st-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a readable file and nothing else', async () => {
    const path = join(dir, 'ok.safetensors');
    const t = tf.tensor2d([[1, 2, 3]]);
    await saveSafetensors(path, { t }, { metadata: { step: '3' } });
    expect(await readdir(dir)).toEqual(['ok.safetensors']);
    const back = await loadSafetensors(path);
    expect(Array.from(back['t']!.dataSync())).toEqual([1, 2, 3]);
    expect(readSafetensorsHeader(await readSafetensorsFile(path)).metadata).toEqual({ step: '3' });
    tf.dispose([t, ...Object.values(back)]);
  });

  it('keeps an existing file when encoding fails (unsupported dtype), leaving no partial file', async () => {
    const path = join(dir, 'keep.safetensors');
    await writeFile(path, 'previous checkpoint');
    const good = tf.tensor1d([1]);
    const text = tf.tensor1d(['not a number'], 'string');
    await expect(saveSafetensors(path, { good, text })).rejects.toThrow(/tensor 'text' has dtype string/);
    expect(await readFile(path, 'utf8')).toBe('previous checkpoint');
    expect((await readdir(dir)).filter((f) => f.startsWith('keep'))).toEqual(['keep.safetensors']);
    tf.dispose([good, text]);
  });

  it('removes its temporary file when the final rename fails', async () => {
    const target = join(dir, 'is-a-directory');
    await mkdir(target);
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.startsWith('is-a-directory'))).toEqual(['is-a-directory']);
  });
});
