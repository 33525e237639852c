// `vitkit preprocess`: image files through the evaluation pipeline every
// command uses (PIL-exact decoding, timm's eval transform), written as the
// CHW float32 tensors timm would feed the model, so any other pipeline can be
// compared with it value by value.
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  CROP_MODES,
  type CropMode,
  checkEvalConfig,
  type EvalConfig,
  evalConfigFromPretrained,
  evalConfigOf,
  getModelEntry,
  hwcToChw,
  INTERPOLATIONS,
  type Interpolation,
  listModels,
  preprocessImage,
} from '@vitkit/core';
import { decodeImage, initBackend, readPretrainedConfig, resolvePretrainedConfigFile, saveSafetensors } from '@vitkit/node';
import { InputError, type OptionsOf, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { isPretrainedName } from '../model-loading.js';

const PREPROCESS_OPTIONS = [
  {
    name: 'model',
    type: 'string',
    value: 'NAME|NAME.TAG|hf-hub:ORG/REPO|DIR',
    description: 'registered model, or a pretrained one (NAME.TAG, hf-hub:ORG/REPO, local-dir:DIR, a folder)',
  },
  { name: 'img-size', type: 'number', value: 'S', description: 'input size' },
  { name: 'crop-pct', type: 'number', value: 'C', description: 'crop fraction (timm crop_pct)' },
  { name: 'interpolation', type: 'string', value: 'I', description: INTERPOLATIONS.join('|') },
  { name: 'crop-mode', type: 'string', value: 'M', description: `${CROP_MODES.join('|')} (timm crop_mode; default center)` },
  { name: 'mean', type: 'list', value: 'a,b,c', description: 'normalisation mean' },
  { name: 'std', type: 'list', value: 'a,b,c', description: 'normalisation std' },
  { name: 'out', type: 'string', value: 'FILE', description: 'safetensors file to write', required: true },
] as const;

const EXPLICIT = ['img-size', 'crop-pct', 'interpolation', 'mean', 'std'] as const;

/**
 * The eval config `--model` names: a registered model's defaults, else the
 * pretrained_cfg of the config.json a pretrained name (NAME.TAG, hf-hub:,
 * local-dir:, or a folder) points at.
 */
async function modelConfig(model: string): Promise<EvalConfig> {
  const name = !isPretrainedName(model) && !listModels().includes(model) && existsSync(model) ? `local-dir:${model}` : model;
  try {
    if (!isPretrainedName(name)) return evalConfigOf(getModelEntry(name).defaults);
    const file = await resolvePretrainedConfigFile(name);
    return evalConfigFromPretrained((await readPretrainedConfig(file)).pretrainedCfg, `${name} (${file.config})`);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** --model's config with any explicit option over it, or the explicit options alone (all needed then). */
async function resolveEvalConfig(options: OptionsOf<typeof PREPROCESS_OPTIONS>): Promise<EvalConfig> {
  const model = options.model;
  if (!model) {
    const missing = EXPLICIT.filter((k) => options[k] === undefined);
    if (missing.length)
      throw new UsageError(
        `preprocess needs --model, or all of ${EXPLICIT.map((k) => `--${k}`).join(' ')} (missing ${missing.map((k) => `--${k}`).join(' ')})`,
      );
  }
  const base: Partial<EvalConfig> = model ? await modelConfig(model) : {};
  const triple = (name: 'mean' | 'std') => {
    const v = options[name];
    if (v === undefined) return base[name];
    const numbers = v.map(Number);
    if (numbers.length !== 3 || numbers.some((x) => !Number.isFinite(x)))
      throw new UsageError(`--${name} needs three numbers a,b,c (got '${v.join(',')}')`);
    return numbers;
  };
  const interpolation = options.interpolation ?? base.interpolation;
  if (!INTERPOLATIONS.includes(interpolation as Interpolation)) {
    throw new UsageError(`--interpolation must be one of ${INTERPOLATIONS.join(', ')} (got '${interpolation}')`);
  }
  const cropMode = options['crop-mode'] ?? base.cropMode ?? 'center';
  if (!CROP_MODES.includes(cropMode as CropMode))
    throw new UsageError(`--crop-mode must be one of ${CROP_MODES.join(', ')} (got '${cropMode}')`);
  const cfg: EvalConfig = {
    imgSize: options['img-size'] ?? base.imgSize!,
    cropPct: options['crop-pct'] ?? base.cropPct!,
    interpolation: interpolation as Interpolation,
    cropMode: cropMode as CropMode,
    mean: triple('mean')!,
    std: triple('std')!,
  };
  try {
    return checkEvalConfig(cfg, 'preprocess');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export const preprocess = defineCommand({
  name: 'preprocess',
  summary: 'images as timm feeds them to a model: one normalised [3, S, S] tensor per file',
  usage:
    'vitkit preprocess IMAGE... (--model NAME|NAME.TAG|hf-hub:ORG/REPO|local-dir:DIR | --img-size S --crop-pct C --interpolation I --mean a,b,c --std a,b,c) --out FILE.safetensors [--json]',
  details:
    "Decodes as PIL's Image.open(f).convert('RGB') and runs timm's eval transform (resize by crop_pct with\n" +
    "Pillow's resampling, centre crop, ToTensor, Normalize). --model takes a registered name, or a pretrained\n" +
    "model's name or folder (its config.json's pretrained_cfg); the explicit options override it. Tensors are\n" +
    'float32 CHW, keyed by file name.',
  options: PREPROCESS_OPTIONS,
  async run({ options, positionals }, io) {
    const { out } = options;
    if (positionals.length === 0) throw new UsageError('preprocess needs at least one IMAGE');
    const cfg = await resolveEvalConfig(options);
    const keys = new Map<string, string>();
    for (const path of positionals) {
      const key = basename(path);
      const other = keys.get(key);
      if (other !== undefined) throw new InputError(`${other} and ${path} share the file name '${key}', the key of their tensor`);
      keys.set(key, path);
    }
    await initBackend({ quiet: true });
    const s = cfg.imgSize;
    const tensors: Record<string, tf.Tensor> = {};
    try {
      for (const [key, path] of keys) {
        const img = await decodeImage(path).catch((e: Error) => {
          throw new InputError(e.message);
        });
        tensors[key] = tf.tensor3d(hwcToChw(preprocessImage(img, cfg), s, s, 3), [3, s, s]);
        io.progress(`${path}: ${img.width}x${img.height} -> [3, ${s}, ${s}]`);
      }
      await saveSafetensors(out, tensors, { metadata: { format: 'pt', preprocess: JSON.stringify(cfg) } });
    } finally {
      tf.dispose(Object.values(tensors));
    }
    const lines = [
      `wrote ${out}: ${keys.size} tensor(s) of [3, ${s}, ${s}]`,
      `  ${cfg.interpolation}, crop_pct ${cfg.cropPct}, crop_mode ${cfg.cropMode}, mean [${cfg.mean.join(', ')}], std [${cfg.std.join(', ')}]`,
    ];
    return {
      ok: true,
      lines,
      data: { out, config: cfg, images: [...keys].map(([key, path]) => ({ key, image: path, shape: [3, s, s] })) },
    };
  },
});
