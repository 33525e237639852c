// Image folders in the torchvision ImageFolder layout, root/<class>/<image>,
// found with fast-glob, classes in sorted order, decoded as PIL decodes them
// (sharp, asynchronous on libuv's thread pool, so decoding overlaps the
// training step).
import fg from 'fast-glob';
import type { Example, ImageDataset } from '../../data/dataset.js';
import { decodeImage } from './decode-image.js';

const EXTENSIONS = ['png', 'jpg', 'jpeg', 'webp'];

export interface ImageFile {
  path: string;
  label: number;
}

export class ImageFolder implements ImageDataset {
  readonly imageShape = null;

  private constructor(
    readonly name: string,
    readonly classes: string[],
    readonly files: ImageFile[],
  ) {}

  get size(): number {
    return this.files.length;
  }

  static async open(root: string, name = `folder:${root}`): Promise<ImageFolder> {
    const found = await fg(`*/*.{${EXTENSIONS.join(',')}}`, { cwd: root, caseSensitiveMatch: false, onlyFiles: true });
    if (found.length === 0) {
      throw new Error(`${root}: no images found (expected ${root}/<class>/<image>.{${EXTENSIONS.join(',')}})`);
    }
    const classes = [...new Set(found.map((f) => f.slice(0, f.indexOf('/'))))].sort();
    const index = new Map(classes.map((c, i) => [c, i]));
    const files = found.sort().map((f) => ({ path: `${root}/${f}`, label: index.get(f.slice(0, f.indexOf('/')))! }));
    return new ImageFolder(name, classes, files);
  }

  async get(i: number): Promise<Example> {
    const file = this.files[i]!;
    return { image: await decodeImage(file.path), label: file.label };
  }
}
