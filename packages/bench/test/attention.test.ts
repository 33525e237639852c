import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '@vitkit/core';
import { saveSafetensors } from '@vitkit/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { vitkit } from './cli-helpers.js';

let dir: string;
let image: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitkit-attention-'));
  image = join(dir, 'digit.png');
  // A bright square on a dark background, larger than the model input (it is resized).
  const size = 80;
  const pixels = Buffer.alloc(size * size * 3);
  for (let y = 20; y < 60; y++) for (let x = 30; x < 50; x++) pixels.fill(230, (y * size + x) * 3, (y * size + x) * 3 + 3);
  await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(image);
});

async function pngSize(path: string): Promise<[number, number]> {
  const meta = await sharp(path).metadata();
  expect(meta.format).toBe('png');
  return [meta.width!, meta.height!];
}

describe('vitkit attention', () => {
  it('draws the rollout of a ViT next to the image (one 32 px panel each, 4 px apart)', async () => {
    const out = join(dir, 'rollout.png');
    const r = await vitkit('attention', '--model', 'vit_micro_32', '--image', image, '--rollout', '--out', out, '--json');
    expect(r.code).toBe(0);
    expect(await pngSize(out)).toEqual([32 * 2 + 4, 32]);
    const data = r.json() as { groups: { title: string; grid: number[]; maps: string[] }[] };
    expect(data.groups).toEqual([{ title: 'attention rollout through 3 blocks', grid: [8, 8], maps: ['rollout'] }]);
  });

  it('draws each head of a chosen block of a conv-stem ViT loaded from a checkpoint', async () => {
    const checkpoint = join(dir, 'vitc.safetensors');
    const model = createModel('vitc_micro_32');
    const sd = model.stateDict();
    await saveSafetensors(checkpoint, sd);
    tf.dispose(Object.values(sd));
    model.dispose();
    const out = join(dir, 'heads.png');
    const r = await vitkit(
      'attention',
      '--model',
      'vitc_micro_32',
      '--checkpoint',
      checkpoint,
      '--image',
      image,
      '--layer',
      '0',
      '--out',
      out,
      '--json',
    );
    expect(r.code).toBe(0);
    expect(await pngSize(out)).toEqual([32 * 3 + 2 * 4, 32]);
    expect((r.json() as { groups: { maps: string[] }[] }).groups[0]!.maps).toEqual(['head 0', 'head 1']);
  });

  it("draws CrossViT's two class tokens' cross-attention, one row each", async () => {
    const out = join(dir, 'cross.png');
    const r = await vitkit('attention', '--model', 'crossvit_micro_32', '--image', image, '--out', out);
    expect(r.code).toBe(0);
    const [width, height] = await pngSize(out);
    expect(height).toBe(2 * 32 + 4);
    expect(width).toBeGreaterThanOrEqual(32 * 2 + 4);
  });

  it('refuses models without class-token attention, bad images and bad usage', async () => {
    const cswin = await vitkit('attention', '--model', 'cswin_micro_32', '--image', image, '--out', join(dir, 'x.png'));
    expect(cswin.code).toBe(1);
    expect(cswin.stderr.join('\n')).toContain("family 'cswin' has no class-token attention");
    const broken = await vitkit('attention', '--model', 'vit_micro_32', '--image', join(dir, 'missing.png'), '--out', join(dir, 'y.png'));
    expect(broken.code).toBe(1);
    expect(broken.stderr.join('\n')).toContain('missing.png');
    expect((await vitkit('attention', '--model', 'vit_micro_32', '--out', 'z.png')).code).toBe(2);
    expect(
      (await vitkit('attention', '--model', 'vit_micro_32', '--image', image, '--out', 'z.png', '--layer', '1', '--rollout')).code,
    ).toBe(2);
  });
});
