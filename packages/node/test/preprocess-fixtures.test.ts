// Evaluation input against timm: ../shared/fixtures/preprocess holds real
// images, PIL's decoding of them and timm's eval transform of them (see its
// config.json). Decoding must be exact; each normalised value within one uint8
// level of timm's, and at least 99% of them equal to 1e-6.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../../test-utils/index.js';
import {
  DataLoader,
  decodeEntry,
  type EvalConfig,
  evalTransform,
  hwcToChw,
  type Interpolation,
  preprocessImage,
  readSafetensorsHeader,
} from '@vitkit/core';
import { decodeImage, ImageFolder } from '../src/index.js';

const dir = `${sharedDir}fixtures/preprocess`;
interface FixtureCase {
  input_size: number;
  crop_pct: number;
  interpolation: Interpolation;
  mean: number[];
  std: number[];
}
const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as {
  images: Record<string, { mode: string; size: [number, number] }>;
  cases: Record<string, FixtureCase>;
  tolerance: { transformed_max_levels: number; transformed_exact_fraction: number };
};
const bytes = new Uint8Array(readFileSync(`${dir}/expected.safetensors`));
const header = readSafetensorsHeader(bytes, 'expected.safetensors');
const expected = (name: string) => {
  const e = header.entries[name];
  if (!e) throw new Error(`expected.safetensors has no '${name}'`);
  return { shape: e.shape, values: decodeEntry(bytes, header, name) };
};

const images = Object.keys(config.images);
const cases = Object.entries(config.cases);

describe('decoding as PIL Image.open(f).convert("RGB")', () => {
  it.each(images)('%s: every decoded value exact', async (name) => {
    const img = await decodeImage(`${dir}/images/${name}`);
    const ref = expected(`decoded/${name}`);
    expect([img.height, img.width, img.channels]).toEqual(ref.shape);
    expect(img.data.length).toBe(ref.values.length);
    let differing = 0;
    for (let i = 0; i < ref.values.length; i++) if (img.data[i] !== ref.values[i]) differing++;
    expect(differing).toBe(0);
  });
});

describe("timm's eval transform (resize by crop_pct, centre crop, normalise)", () => {
  const rows: string[] = [];
  afterAll(() => {
    if (rows.length) console.log(`worst difference in uint8 levels and fraction equal to 1e-6, per case:\n${rows.join('\n')}`);
  });

  it.each(cases)('%s: every image within one level, at least 99% exact', async (caseName, c) => {
    const cfg: EvalConfig = {
      imgSize: c.input_size,
      cropPct: c.crop_pct,
      interpolation: c.interpolation,
      cropMode: 'center',
      mean: c.mean,
      std: c.std,
    };
    let worstLevels = 0;
    let worstAbs = 0;
    let exact = 0;
    let total = 0;
    for (const name of images) {
      const img = await decodeImage(`${dir}/images/${name}`);
      const s = cfg.imgSize;
      const got = hwcToChw(preprocessImage(img, cfg), s, s, 3);
      const ref = expected(`${name}@${caseName}`);
      expect(ref.shape).toEqual([3, s, s]);
      let imageWorst = 0;
      let imageExact = 0;
      for (let i = 0; i < got.length; i++) {
        const ch = Math.floor(i / (s * s));
        const d = Math.abs(got[i]! - ref.values[i]!);
        worstAbs = Math.max(worstAbs, d);
        // One level of this channel is 1 / 255 / std in normalised units.
        imageWorst = Math.max(imageWorst, d * 255 * cfg.std[ch]!);
        if (d <= 1e-6) imageExact++;
      }
      expect(imageWorst, `${name}@${caseName}: worst difference in levels`).toBeLessThanOrEqual(
        config.tolerance.transformed_max_levels + 1e-3,
      );
      expect(imageExact / got.length, `${name}@${caseName}: fraction exact`).toBeGreaterThanOrEqual(
        config.tolerance.transformed_exact_fraction,
      );
      worstLevels = Math.max(worstLevels, imageWorst);
      exact += imageExact;
      total += got.length;
    }
    rows.push(
      `  ${caseName.padEnd(12)} worst ${worstLevels.toFixed(3)} levels (max |diff| ${worstAbs.toExponential(2)}), ${((100 * exact) / total).toFixed(4)}% exact`,
    );
  });
});

describe('an image folder evaluated as timm evaluates it', () => {
  const root = mkdtempSync(join(tmpdir(), 'vitkit-folder-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("the DataLoader batches of evalTransform equal timm's tensors (deit224)", async () => {
    mkdirSync(join(root, 'photos'));
    for (const name of images) copyFileSync(`${dir}/images/${name}`, join(root, 'photos', name));
    const ds = await ImageFolder.open(root);
    const c = config.cases['deit224']!;
    const s = c.input_size;
    const loader = new DataLoader(ds, {
      batchSize: ds.size,
      imageShape: [s, s, 3],
      mean: c.mean,
      std: c.std,
      transform: evalTransform(null, { imgSize: s, inChannels: 3, cropPct: c.crop_pct, interpolation: c.interpolation }),
    });
    const { value: batch } = await loader.batches(0).next();
    for (const [i, file] of ds.files.entries()) {
      const name = file.path.slice(file.path.lastIndexOf('/') + 1);
      const got = hwcToChw(batch!.images.subarray(i * s * s * 3, (i + 1) * s * s * 3), s, s, 3);
      expect(got, name).toEqual(expected(`${name}@deit224`).values);
    }
  });
});

/** The APPn segments of a JPEG whose payload starts with `tag`. */
function segments(jpeg: Uint8Array, marker: number, tag: string): Uint8Array[] {
  const found: Uint8Array[] = [];
  let p = 2;
  while (p + 4 <= jpeg.length && jpeg[p] === 0xff && jpeg[p + 1] !== 0xda) {
    const len = (jpeg[p + 2]! << 8) | jpeg[p + 3]!;
    const seg = jpeg.subarray(p, p + 2 + len);
    if (jpeg[p + 1] === marker && Buffer.from(seg.subarray(4, 4 + tag.length)).toString('latin1') === tag) found.push(seg);
    p += 2 + len;
  }
  return found;
}

/** `jpeg` with `extra` segments inserted after its start marker: the same compressed pixels, more metadata. */
function withSegments(jpeg: Uint8Array, extra: Uint8Array[]): Uint8Array {
  return Buffer.concat([jpeg.subarray(0, 2), ...extra, jpeg.subarray(2)]);
}

describe('decoding keeps stored pixels: no EXIF rotation, no ICC conversion', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vitkit-decode-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  // A 6x4 image whose every pixel differs, so a rotation or a colour transform shows.
  const w = 6;
  const h = 4;
  const pixels = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 53 + 17) % 256);
  const raw = () => sharp(pixels, { raw: { width: w, height: h, channels: 3 } });
  // The tagged files carry the plain file's compressed data, so PIL decodes
  // them to the plain file's pixels.
  const plain = async () => {
    const bytes = new Uint8Array(await raw().jpeg({ quality: 100 }).toBuffer());
    const path = join(tmp, 'plain.jpg');
    writeFileSync(path, bytes);
    return { bytes, pixels: await decodeImage(path) };
  };

  it('a JPEG with EXIF orientation 6 (rotate 90) decodes unrotated', async () => {
    const base = await plain();
    const exif = segments(new Uint8Array(await raw().jpeg().withMetadata({ orientation: 6 }).toBuffer()), 0xe1, 'Exif');
    expect(exif).toHaveLength(1);
    const path = join(tmp, 'rotated.jpg');
    writeFileSync(path, withSegments(base.bytes, exif));
    expect((await sharp(path).metadata()).orientation).toBe(6);
    const img = await decodeImage(path);
    expect([img.width, img.height]).toEqual([w, h]);
    expect(img.data).toEqual(base.pixels.data);
  });

  it('a JPEG with an embedded ICC profile decodes to its stored values', async () => {
    const base = await plain();
    const icc = segments(new Uint8Array(await raw().jpeg().withIccProfile('p3').toBuffer()), 0xe2, 'ICC_PROFILE');
    expect(icc.length).toBeGreaterThan(0);
    const path = join(tmp, 'profiled.jpg');
    writeFileSync(path, withSegments(base.bytes, icc));
    expect((await sharp(path).metadata()).icc).toBeDefined();
    const img = await decodeImage(path);
    expect(img.data).toEqual(base.pixels.data);
    // Colour-managed decoding (libvips' default) would have moved them.
    const managed = new Uint8Array(await sharp(path).toColourspace('srgb').raw().toBuffer());
    expect(managed).not.toEqual(base.pixels.data);
  });
});
