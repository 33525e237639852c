// Models as the commands build them and fill them with weights: a registered
// name and its options, then a checkpoint through core's one loader
// (`loadWeights`: the family's foreign names, resampled position embeddings,
// strict checking, the classifier dropped for fine-tuning). What the loader
// changed is printed, so a resampled or dropped tensor is never a surprise.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type CreateOptions, createModel, getModelEntry, type ImageClassifier, type ModelEntry, type WeightsReport } from '@vitkit/core';
import { CHECKPOINT_FILE, loadWeightsFile } from '@vitkit/core/node';
import { InputError, type OptionSpec } from './args.js';
import './register-models.js';

export const MODEL_OPTION = {
  name: 'model',
  type: 'string',
  value: 'NAME',
  description: 'registered model name (vitkit models)',
  required: true,
} as const satisfies OptionSpec;

export const CHECKPOINT_OPTION = {
  name: 'checkpoint',
  type: 'string',
  value: 'FILE|DIR',
  description: 'weights (safetensors, vitkit or reference names) or a vitkit train folder',
  required: true,
} as const satisfies OptionSpec;

export const NUM_CLASSES_OPTION = {
  name: 'num-classes',
  type: 'number',
  value: 'N',
  description: 'classifier size (default: the run config, else the model)',
} as const satisfies OptionSpec;

/** A registered model's entry; an unknown name is an input error that suggests the nearest one. */
export function modelEntry(name: string): ModelEntry {
  try {
    return getModelEntry(name);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** Builds a registered model; options left undefined take the model's defaults; bad ones are input errors (exit 1). */
export function buildModel(name: string, options: CreateOptions = {}): ImageClassifier {
  const create = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  try {
    return createModel(name, create);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

export interface SavedWeights {
  /** The safetensors file. */
  file: string;
  /** The training run's config (classes, image size) when the weights come from `vitkit train`. */
  config: { classes?: string[]; numClasses?: number; imgSize?: number; model?: string } | null;
}

/** Accepts a weights file or a `vitkit train` folder; finds the run's config beside the weights. */
export function resolveWeights(path: string): SavedWeights {
  if (!existsSync(path)) throw new InputError(`${path}: no such file or folder`);
  const file = statSync(path).isDirectory() ? join(path, 'model.safetensors') : path;
  if (!existsSync(file)) throw new InputError(`${path}: no model.safetensors in this folder`);
  const json = join(dirname(file), CHECKPOINT_FILE);
  const config = existsSync(json) ? ((JSON.parse(readFileSync(json, 'utf8')) as { config: SavedWeights['config'] }).config ?? null) : null;
  return { file, config };
}

export interface WeightsLoadOptions {
  /** Fine-tuning: the checkpoint's classifier may be dropped when it does not fit. */
  dropClassifier?: boolean;
  /** Load what fits and leave the rest (`--allow-missing`); otherwise any other mismatch is an error. */
  allowMissing?: boolean;
}

/**
 * Loads a weights file into a model built by `buildModel` through the one
 * loader and prints what loading changed (`progress`); problems are input
 * errors naming the file.
 */
export async function loadWeightsInto(
  model: ImageClassifier,
  file: string,
  progress: (line: string) => void,
  options: WeightsLoadOptions = {},
): Promise<WeightsReport> {
  let report: WeightsReport;
  try {
    report = await loadWeightsFile(model, file, {
      strict: !options.allowMissing,
      dropClassifier: options.dropClassifier,
    });
  } catch (e) {
    const hint = options.dropClassifier && !options.allowMissing ? ' (--allow-missing loads what fits and leaves the rest)' : '';
    throw new InputError(`${(e as Error).message}${hint}`);
  }
  for (const note of report.notes) progress(`${file}: ${note}`);
  return report;
}

/**
 * Builds a registered model for saved weights (class count and image size from
 * the caller, else the training run beside the weights, else the model's) and
 * loads them strictly.
 */
export async function loadTrainedModel(
  name: string,
  weights: SavedWeights,
  options: { numClasses?: number; imgSize?: number },
  progress: (line: string) => void,
): Promise<ImageClassifier> {
  const model = buildModel(name, {
    numClasses: options.numClasses ?? weights.config?.numClasses,
    imgSize: options.imgSize ?? weights.config?.imgSize,
  });
  try {
    await loadWeightsInto(model, weights.file, progress);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
