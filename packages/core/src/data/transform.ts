// The preprocessing pipelines: what a training image and an evaluation image
// go through before normalisation, from the dataset's image size to the
// model's input size and channels.
import type { Rng } from '../random.js';
import { centerCrop, padImage, randomCrop, randomResizedCrop } from './crop.js';
import { type CropMode, evalResize } from './eval-transform.js';
import { randomHflip } from './flip.js';
import { newImage, type RawImage } from './image.js';
import { greyToRgb } from './normalize.js';
import { type RandAugmentOptions, randAugment } from './rand-augment.js';
import { type Interpolation, resizeImage } from './resize.js';

export type ImageTransform = (img: RawImage, rng: Rng) => RawImage;

export function compose(...transforms: ImageTransform[]): ImageTransform {
  return (img, rng) => transforms.reduce((x, t) => t(x, rng), img);
}

/** What the model expects (from its registry defaults). */
export interface ModelInput {
  imgSize: number;
  inChannels: number;
  cropPct: number;
  interpolation: Interpolation;
  /** timm's crop_mode at evaluation (default 'center'). */
  cropMode?: CropMode;
  /** The normalisation mean, whose colour pads the 'border' crop mode. */
  mean?: readonly number[];
}

export interface AugmentOptions {
  /** Random crop after zero-padding by this many pixels (fixed-size datasets; CIFAR: imgSize / 8). */
  randomCropPad?: number;
  /** RandomResizedCrop area range (variable-size datasets; default [0.08, 1]). */
  scale?: [number, number];
  hflip?: boolean;
  randAugment?: RandAugmentOptions | null;
}

/**
 * Fits a fixed-size dataset image to the model's input: unchanged when equal;
 * zero-padded (then centre-cropped when the margin is odd) when slightly smaller,
 * as MNIST's 28 pixels become 32; resized otherwise.
 */
export function fitToSize(shape: [number, number, number], imgSize: number, mode: Interpolation): ImageTransform {
  const [h, w] = shape;
  if (h === imgSize && w === imgSize) return (img) => img;
  const small = h === w && h < imgSize && imgSize - h <= h / 4;
  if (small) return (img) => centerCrop(padImage(img, Math.ceil((imgSize - h) / 2)), imgSize);
  return (img) => resizeImage(img, imgSize, imgSize, mode);
}

/** 1 -> 3 channels by repetition, 3 -> 1 by luma; anything else must already match. */
export function toChannels(channels: number): ImageTransform {
  return (img) => {
    if (img.channels === channels) return img;
    if (img.channels === 1 && channels === 3) return greyToRgb(img);
    if (img.channels === 3 && channels === 1) {
      const out = newImage(img.height, img.width, 1);
      for (let p = 0; p < out.data.length; p++) {
        out.data[p] = 0.299 * img.data[3 * p]! + 0.587 * img.data[3 * p + 1]! + 0.114 * img.data[3 * p + 2]!;
      }
      return out;
    }
    throw new Error(`cannot convert ${img.channels}-channel images to the model's ${channels} channels`);
  };
}

/** Training pipeline. `datasetShape` is the fixed image shape, or null for variable-size images. */
export function trainTransform(datasetShape: [number, number, number] | null, model: ModelInput, aug: AugmentOptions = {}): ImageTransform {
  const steps: ImageTransform[] = [];
  const size = model.imgSize;
  if (datasetShape) {
    steps.push(fitToSize(datasetShape, size, model.interpolation));
    if (aug.randomCropPad) steps.push((img, rng) => randomCrop(img, size, aug.randomCropPad!, rng));
  } else {
    steps.push((img, rng) => randomResizedCrop(img, size, rng, { scale: aug.scale, mode: model.interpolation }));
  }
  if (aug.hflip) steps.push((img, rng) => randomHflip(img, rng));
  if (aug.randAugment) steps.push((img, rng) => randAugment(img, rng, aug.randAugment!));
  steps.push(toChannels(model.inChannels));
  return compose(...steps);
}

/** Evaluation pipeline: fit to size (fixed-size datasets) or timm's evaluation resize and crop. */
export function evalTransform(datasetShape: [number, number, number] | null, model: ModelInput): ImageTransform {
  const geometry: ImageTransform = datasetShape
    ? fitToSize(datasetShape, model.imgSize, model.interpolation)
    : (img) => evalResize(img, { ...model, cropMode: model.cropMode ?? 'center', mean: model.mean ?? [] });
  return compose(geometry, toChannels(model.inChannels));
}
