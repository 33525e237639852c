// Images in a web page as a model sees them: the pixels read at the image's
// own size (a canvas only copies them, it never scales), then core's eval
// transform, the same resize code as under Node. A browser's own scaling
// (drawImage to another size) is not Pillow's and would change the logits.
import * as tf from '@tensorflow/tfjs-core';
import { type EvalConfig, preprocessImage } from './eval-transform.js';
import type { RawImage } from './image.js';

/** What a page can hand over as an image. */
export type BrowserImageSource = HTMLImageElement | ImageBitmap | ImageData | HTMLCanvasElement | OffscreenCanvas;

function sizeOf(source: Exclude<BrowserImageSource, ImageData>): [number, number] {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    if (!source.complete || source.naturalWidth === 0)
      throw new Error(`readImagePixels: the image ${source.src.slice(0, 80)} has not loaded`);
    return [source.naturalWidth, source.naturalHeight];
  }
  return [source.width, source.height];
}

function rgbaPixels(source: BrowserImageSource): ImageData {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) return source;
  const [width, height] = sizeOf(source as Exclude<BrowserImageSource, ImageData>);
  if (!(width > 0 && height > 0)) throw new Error(`readImagePixels: the image is ${width}x${height}`);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('readImagePixels: this browser gives no 2d context on an OffscreenCanvas');
  context.drawImage(source as CanvasImageSource, 0, 0);
  return context.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
}

/** The image's pixels at its natural size, RGB bytes (alpha dropped, as PIL's convert('RGB')). */
export function readImagePixels(source: BrowserImageSource): RawImage & { data: Uint8Array } {
  const rgba = rgbaPixels(source);
  const n = rgba.width * rgba.height;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    data[p * 3] = rgba.data[p * 4]!;
    data[p * 3 + 1] = rgba.data[p * 4 + 1]!;
    data[p * 3 + 2] = rgba.data[p * 4 + 2]!;
  }
  return { data, height: rgba.height, width: rgba.width, channels: 3 };
}

/** A model's input [1, S, S, 3] for one page image, through timm's eval transform (`cfg`, e.g. evalConfigOf(entry.defaults)). */
export function browserImageInput(source: BrowserImageSource, cfg: EvalConfig): tf.Tensor4D {
  return tf.tensor4d(preprocessImage(readImagePixels(source), cfg), [1, cfg.imgSize, cfg.imgSize, 3]);
}
