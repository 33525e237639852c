// The CIFAR-10 and CIFAR-100 binary formats (www.cs.toronto.edu/~kriz/cifar.html):
// fixed-size records of label byte(s) then 3072 pixel bytes, channel-planar
// (1024 red, 1024 green, 1024 blue, rows of 32).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArrayDataset } from '@vitkit/core';
import type { Split } from './mnist.js';

const PIXELS = 32 * 32 * 3;

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** Records of one file to NHWC pixels and labels; CIFAR-100 records carry (coarse, fine) and the fine label is used. */
export function parseCifar(bytes: Uint8Array, labelBytes: 1 | 2, source: string): { pixels: Uint8Array; labels: Uint8Array } {
  const record = labelBytes + PIXELS;
  if (bytes.length % record !== 0)
    throw new Error(`${source}: ${bytes.length} bytes is not a whole number of ${record}-byte CIFAR records`);
  const n = bytes.length / record;
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = i * record;
    labels[i] = bytes[r + labelBytes - 1]!;
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) pixels[i * PIXELS + p * 3 + c] = bytes[r + labelBytes + c * 1024 + p]!;
    }
  }
  return { pixels, labels };
}

async function readCifarFiles(dir: string, files: string[], labelBytes: 1 | 2, name: string, classes: string[]): Promise<ArrayDataset> {
  // Read together, reported in file order: the first file that fails is the same one on every run.
  const settled = await Promise.allSettled(
    files.map(async (f) => {
      const path = join(dir, f);
      try {
        return parseCifar(new Uint8Array(await readFile(path)), labelBytes, path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT')
          throw new Error(`${name}: ${path} not found (expected the binary version's files)`);
        throw e;
      }
    }),
  );
  const parts = settled.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
  const n = parts.reduce((a, p) => a + p.labels.length, 0);
  const pixels = new Uint8Array(n * PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    pixels.set(p.pixels, at * PIXELS);
    labels.set(p.labels, at);
    at += p.labels.length;
  }
  return new ArrayDataset(name, pixels, labels, [n, 32, 32, 3], classes);
}

/** Accepts the folder itself or its parent holding `cifar-10-batches-bin` / `cifar-100-binary`. */
function resolveDir(dir: string, sub: string): string {
  return existsSync(join(dir, sub)) ? join(dir, sub) : dir;
}

async function classNames(path: string, fallback: string[]): Promise<string[]> {
  try {
    const names = (await readFile(path, 'utf8'))
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    return names.length ? names : fallback;
  } catch {
    return fallback;
  }
}

export async function loadCifar10(dir: string, split: Split): Promise<ArrayDataset> {
  const root = resolveDir(dir, 'cifar-10-batches-bin');
  const files = split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
  const classes = await classNames(join(root, 'batches.meta.txt'), CIFAR10_CLASSES);
  return readCifarFiles(root, files, 1, `cifar10/${split}`, classes);
}

export async function loadCifar100(dir: string, split: Split): Promise<ArrayDataset> {
  const root = resolveDir(dir, 'cifar-100-binary');
  const fallback = Array.from({ length: 100 }, (_, i) => String(i));
  const classes = await classNames(join(root, 'fine_label_names.txt'), fallback);
  return readCifarFiles(root, [`${split}.bin`], 2, `cifar100/${split}`, classes);
}
