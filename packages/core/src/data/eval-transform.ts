// timm's evaluation transform (transforms_imagenet_eval) on a decoded image:
// resize by the crop fraction, crop to the input size, ToTensor and Normalize,
// so that a pretrained model sees the input timm's validate.py gives it.
// Images arrive as PIL's convert('RGB') gives them (see the Node decoder).
import type { ModelDefaults } from '../registry.js';
import { centerCrop, roundHalfEven } from './crop.js';
import type { RawImage } from './image.js';
import { normalize } from './normalize.js';
import { INTERPOLATIONS, type Interpolation, resizeImage, resizeShorter } from './resize.js';

/**
 * timm's `crop_mode`: 'center' resizes the shorter side to size / cropPct and
 * crops the centre (the aspect ratio kept, the margins lost); 'squash' resizes
 * both sides to size / cropPct and crops the centre (nothing lost at cropPct 1);
 * 'border' fits the longer side to size / cropPct and pads to the square with
 * the mean colour.
 */
export type CropMode = 'center' | 'squash' | 'border';

export const CROP_MODES: readonly CropMode[] = ['center', 'squash', 'border'];

/** What timm's pretrained_cfg says about evaluation input (square inputs). */
export interface EvalConfig {
  imgSize: number;
  cropPct: number;
  interpolation: Interpolation;
  cropMode: CropMode;
  mean: readonly number[];
  std: readonly number[];
}

/** A registered model's evaluation config, at `imgSize` when given. */
export function evalConfigOf(defaults: ModelDefaults, imgSize?: number): EvalConfig {
  return {
    imgSize: imgSize ?? defaults.imgSize,
    cropPct: defaults.cropPct,
    interpolation: defaults.interpolation,
    cropMode: defaults.cropMode ?? 'center',
    mean: defaults.mean,
    std: defaults.std,
  };
}

/** Throws, naming `source`, unless the config describes a transform timm can run. */
export function checkEvalConfig(cfg: EvalConfig, source: string): EvalConfig {
  const fail = (what: string) => {
    throw new Error(`${source}: ${what}`);
  };
  if (!(Number.isInteger(cfg.imgSize) && cfg.imgSize > 0)) fail(`image size must be a positive integer, got ${cfg.imgSize}`);
  if (!(cfg.cropPct > 0 && Number.isFinite(cfg.cropPct))) fail(`crop fraction must be positive, got ${cfg.cropPct}`);
  if (!INTERPOLATIONS.includes(cfg.interpolation))
    fail(`interpolation must be one of ${INTERPOLATIONS.join(', ')}, got '${cfg.interpolation}'`);
  if (!CROP_MODES.includes(cfg.cropMode)) fail(`crop mode must be one of ${CROP_MODES.join(', ')}, got '${cfg.cropMode}'`);
  for (const [name, v] of [
    ['mean', cfg.mean],
    ['std', cfg.std],
  ] as const) {
    if (v.length !== 3 || v.some((x) => !Number.isFinite(x))) fail(`${name} must be three numbers, got ${JSON.stringify(v)}`);
  }
  if (cfg.std.some((s) => s <= 0)) fail(`std must be positive, got ${JSON.stringify(cfg.std)}`);
  return cfg;
}

/** The geometry of timm's evaluation transform: 8-bit pixels, imgSize x imgSize. */
export function evalResize(img: RawImage, cfg: Omit<EvalConfig, 'std'>): RawImage {
  const size = cfg.imgSize;
  const scale = Math.floor(size / cfg.cropPct);
  if (cfg.cropMode === 'squash') return centerCrop(resizeImage(img, scale, scale, cfg.interpolation), size);
  if (cfg.cropMode === 'border') {
    // timm's ResizeKeepRatio(longest=1): both sides divided by the larger ratio, Python-rounded.
    const ratio = Math.max(img.height / scale, img.width / scale);
    const resized = resizeImage(img, roundHalfEven(img.height / ratio), roundHalfEven(img.width / ratio), cfg.interpolation);
    if (cfg.mean.length === 0) throw new Error("evalResize: crop mode 'border' pads with the mean colour, and no mean was given");
    return centerCrop(
      resized,
      size,
      cfg.mean.map((m) => roundHalfEven(255 * m)),
    );
  }
  return centerCrop(resizeShorter(img, scale, cfg.interpolation), size);
}

/** The model's input for one image: [imgSize, imgSize, C] normalised, HWC (the layout the models take). */
export function preprocessImage(img: RawImage, cfg: EvalConfig): Float32Array {
  return normalize(evalResize(img, cfg), cfg.mean, cfg.std);
}

/** HWC values to CHW, the layout of timm's tensors. */
export function hwcToChw(data: Float32Array, height: number, width: number, channels: number): Float32Array {
  const n = height * width;
  if (data.length !== n * channels) throw new Error(`hwcToChw: ${data.length} values for ${height}x${width}x${channels}`);
  const out = new Float32Array(data.length);
  for (let p = 0; p < n; p++) for (let ch = 0; ch < channels; ch++) out[ch * n + p] = data[p * channels + ch]!;
  return out;
}
