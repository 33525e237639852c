import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEntry, evalConfigOf, getModelEntry, hwcToChw, preprocessImage, readSafetensorsHeader } from '@vitkit/core';
import { decodeImage } from '@vitkit/node';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../../test-utils/index.js';
import '../src/register-models.js';
import { vitkit } from './cli-helpers.js';

const images = `${sharedDir}fixtures/preprocess/images`;
const tmp = mkdtempSync(join(tmpdir(), 'vitkit-preprocess-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function read(path: string) {
  const bytes = new Uint8Array(readFileSync(path));
  const header = readSafetensorsHeader(bytes, path);
  return { header, tensor: (name: string) => ({ shape: header.entries[name]!.shape, values: decodeEntry(bytes, header, name) }) };
}

describe('vitkit preprocess', () => {
  it("writes each image's tensor, keyed by file name, equal to the pipeline's", async () => {
    const out = join(tmp, 'explicit.safetensors');
    const r = await vitkit(
      'preprocess',
      `${images}/chelsea.png`,
      `${images}/camera.png`,
      '--img-size',
      '224',
      '--crop-pct',
      '0.875',
      '--interpolation',
      'bicubic',
      '--mean',
      '0.485,0.456,0.406',
      '--std',
      '0.229,0.224,0.225',
      '--out',
      out,
    );
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const file = read(out);
    expect(Object.keys(file.header.entries).sort()).toEqual(['camera.png', 'chelsea.png']);
    const cfg = {
      imgSize: 224,
      cropPct: 0.875,
      interpolation: 'bicubic' as const,
      cropMode: 'center' as const,
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    };
    for (const name of ['camera.png', 'chelsea.png']) {
      const expected = hwcToChw(preprocessImage(await decodeImage(`${images}/${name}`), cfg), 224, 224, 3);
      const got = file.tensor(name);
      expect(got.shape).toEqual([3, 224, 224]);
      expect(got.values).toEqual(expected);
    }
    // timm's own output for this case (deit224 in the fixtures).
    const reference = read(`${sharedDir}fixtures/preprocess/expected.safetensors`).tensor('chelsea.png@deit224');
    expect(file.tensor('chelsea.png').values).toEqual(reference.values);
  });

  it("uses a registered model's config, or a timm config.json's pretrained_cfg", async () => {
    const name = 'deit_tiny_patch16_224';
    const out = join(tmp, 'model.safetensors');
    const r = await vitkit('preprocess', `${images}/palette_color.png`, '--model', name, '--out', out, '--json');
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const cfg = evalConfigOf(getModelEntry(name).defaults);
    expect((r.json() as { config: unknown }).config).toEqual(cfg);
    const s = cfg.imgSize;
    const expected = hwcToChw(preprocessImage(await decodeImage(`${images}/palette_color.png`), cfg), s, s, 3);
    expect(read(out).tensor('palette_color.png').values).toEqual(expected);

    const hub = join(tmp, 'hub-model');
    mkdirSync(hub);
    const pretrained = {
      input_size: [3, 32, 32],
      crop_pct: 0.9,
      interpolation: 'bilinear',
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    };
    writeFileSync(
      join(hub, 'config.json'),
      JSON.stringify({ architecture: 'vit_tiny_patch16_224', num_classes: 1000, pretrained_cfg: pretrained }),
    );
    const hubOut = join(tmp, 'hub.safetensors');
    expect((await vitkit('preprocess', `${images}/coffee.png`, '--model', hub, '--out', hubOut)).code).toBe(0);
    const reference = read(`${sharedDir}fixtures/preprocess/expected.safetensors`).tensor('coffee.png@bilinear32');
    expect(read(hubOut).tensor('coffee.png').values).toEqual(reference.values);
  });

  it('names a bad image or argument, and leaves an existing --out untouched', async () => {
    const out = join(tmp, 'kept.safetensors');
    writeFileSync(out, 'previous contents');
    const bad = join(tmp, 'broken.png');
    writeFileSync(bad, 'not an image');
    const r = await vitkit('preprocess', `${images}/camera.png`, bad, '--model', 'deit_tiny_patch16_224', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain(`${bad}: cannot decode image`);
    expect(readFileSync(out, 'utf8')).toBe('previous contents');

    const usage = async (args: string[], message: RegExp) => {
      const u = await vitkit('preprocess', ...args);
      expect(u.code, u.stderr.join('\n')).toBe(2);
      expect(u.stderr.join('\n')).toMatch(message);
    };
    await usage([`${images}/camera.png`, '--img-size', '224', '--out', out], /missing --crop-pct --interpolation --mean --std/);
    await usage([`${images}/camera.png`, '--model', 'deit_tiny_patch16_224'], /missing required option --out/);
    await usage(
      [`${images}/camera.png`, '--model', 'deit_tiny_patch16_224', '--interpolation', 'lanczos', '--out', out],
      /--interpolation must be one of/,
    );
    await usage(
      [`${images}/camera.png`, '--model', 'deit_tiny_patch16_224', '--mean', '0.5,0.5', '--out', out],
      /--mean needs three numbers/,
    );
    const unknown = await vitkit('preprocess', `${images}/camera.png`, '--model', 'no_such_model', '--out', out);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.join('\n')).toMatch(/unknown model 'no_such_model'/);
    const twice = await vitkit(
      'preprocess',
      `${images}/camera.png`,
      `${images}/./camera.png`,
      '--model',
      'deit_tiny_patch16_224',
      '--out',
      out,
    );
    expect(twice.code).toBe(1);
    expect(twice.stderr.join('\n')).toMatch(/share the file name 'camera.png'/);
    expect(readFileSync(out, 'utf8')).toBe('previous contents');
  });
});
