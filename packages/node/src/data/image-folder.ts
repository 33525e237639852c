// Image folders in the torchvision ImageFolder layout, root/<class>/<image>,
// found with fast-glob, classes in sorted order, decoded as PIL decodes them
// (sharp, asynchronous on libuv's thread pool, so decoding overlaps the
// training step).
import { readFile } from 'node:fs/promises';
import fg from 'fast-glob';
import type { Example, ImageDataset } from '@vitkit/core';
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

  /**
   * The images under root/<class>/. Labels are the sorted class folders'
   * indices, or with `classMap` (a folder name -> a model's class index, as
   * timm's class_map) the mapped indices, and the images of folders the map
   * does not name are left out, as timm's ImageFolder does.
   */
  static async open(root: string, name = `folder:${root}`, classMap?: ReadonlyMap<string, number>): Promise<ImageFolder> {
    const found = await fg(`*/*.{${EXTENSIONS.join(',')}}`, { cwd: root, caseSensitiveMatch: false, onlyFiles: true });
    if (found.length === 0) {
      throw new Error(`${root}: no images found (expected ${root}/<class>/<image>.{${EXTENSIONS.join(',')}})`);
    }
    const folder = (f: string) => f.slice(0, f.indexOf('/'));
    let classes = [...new Set(found.map(folder))].sort();
    let index = new Map(classes.map((c, i) => [c, i]));
    if (classMap) {
      index = new Map(classMap);
      const size = Math.max(-1, ...classMap.values()) + 1;
      classes = Array.from({ length: size }, (_, i) => String(i));
      for (const [c, i] of classMap) classes[i] = c;
    }
    const files = found
      .filter((f) => index.has(folder(f)))
      .sort()
      .map((f) => ({ path: `${root}/${f}`, label: index.get(folder(f))! }));
    if (files.length === 0) throw new Error(`${root}: no image is in a class folder the class map names`);
    return new ImageFolder(name, classes, files);
  }

  async get(i: number): Promise<Example> {
    const file = this.files[i]!;
    return { image: await decodeImage(file.path), label: file.label };
  }
}

/**
 * timm's class_map file (load_class_map): one class folder name per line, the
 * line number its class index. Errors name the file and line.
 */
export async function readClassMap(path: string): Promise<Map<string, number>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the class map (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const map = new Map<string, number>();
  text
    .split('\n')
    .map((l) => l.trim())
    .forEach((name, i, lines) => {
      if (!name) {
        if (i === lines.length - 1) return;
        throw new Error(`${path}:${i + 1}: empty class name`);
      }
      if (map.has(name)) throw new Error(`${path}:${i + 1}: '${name}' is also on line ${map.get(name)! + 1}`);
      map.set(name, i);
    });
  if (map.size === 0) throw new Error(`${path}: the class map names no class`);
  return map;
}
