// Models as the commands build them and fill them with weights: a registered
// name and its options, then a checkpoint through core's one loader
// (`loadWeights`: the family's foreign names, resampled position embeddings,
// strict checking, the classifier dropped for fine-tuning), or a name that
// points at pretrained weights (`loadPretrained`: its config.json, weights and
// preprocessing). What the loader changed is printed, so a resampled or
// dropped tensor is never a surprise.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type CreateOptions,
  createModel,
  type EvalConfig,
  evalConfigOf,
  getModelEntry,
  type ImageClassifier,
  isPretrainedName as namesPretrainedWeights,
  labelsFor,
  type ModelEntry,
  type WeightsReport,
} from '@vitkit/core';
import { CHECKPOINT_FILE, loadPretrained, loadWeightsFile } from '@vitkit/node';
import { InputError, type OptionSpec, UsageError } from './args.js';
import './register-models.js';

export const MODEL_OPTION = {
  name: 'model',
  type: 'string',
  value: 'NAME',
  description: 'registered model (vitkit models), or pretrained weights: NAME.TAG, hf-hub:ORG/REPO[@REV], local-dir:DIR',
  required: true,
} as const satisfies OptionSpec;

export const CHECKPOINT_OPTION = {
  name: 'checkpoint',
  type: 'string',
  value: 'FILE|DIR',
  description: 'weights for a registered model (safetensors, vitkit or reference names) or a vitkit train folder',
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
 * Whether a --model (or --pretrained) value points at pretrained weights
 * (core's isPretrainedName: so a file name with a dot stays a file name); a
 * malformed name is an input error.
 */
export function isPretrainedName(name: string): boolean {
  try {
    return namesPretrainedWeights(name);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

export interface ModelRequest {
  /** --checkpoint: weights for a registered model (not with a pretrained name). */
  checkpoint?: string;
  /** Class count of a registered model (default: the run beside the weights, else the model's); for a pretrained one only when fine-tuning. */
  numClasses?: number;
  /** Input size (position embeddings are resampled to it). */
  imgSize?: number;
  /** Other createModel options (a drop-path rate for training, a patch size for timing a fresh model). */
  extra?: CreateOptions;
  /** Fine-tuning: the classifier may be dropped where it does not fit. */
  dropClassifier?: boolean;
  /** Load what fits and leave the rest. */
  allowMissing?: boolean;
  /** A registered name without --checkpoint gives fresh weights (else it is an error). */
  allowFresh?: boolean;
}

export interface CommandModel {
  model: ImageClassifier;
  /** The registry name it was built as. */
  architecture: string;
  /** The createModel options it was built with (for replicas and saving). */
  options: CreateOptions;
  /** The preprocessing its weights expect, at the model's input size. */
  evalConfig: EvalConfig;
  /** Channels of its input. */
  inChannels: number;
  /** Class names when known (a pretrained config, ImageNet-1k, a training run), else indices. */
  labels: string[];
  /** Where the weights came from (null for fresh weights). */
  weights: string | null;
  /** What loading them did (null for fresh weights). */
  report: WeightsReport | null;
}

const defined = (o: CreateOptions): CreateOptions => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/**
 * The model a command's --model (and --checkpoint) name: a pretrained name
 * through loadPretrained, a registered name with saved weights through the
 * one loader, or, where the command allows it, a fresh registered model.
 */
export async function loadCommandModel(name: string, request: ModelRequest, progress: (line: string) => void): Promise<CommandModel> {
  if (isPretrainedName(name)) {
    if (request.checkpoint) throw new UsageError(`--checkpoint goes with a registered model name, not with the pretrained '${name}'`);
    const overrides = defined({
      ...request.extra,
      imgSize: request.imgSize,
      numClasses: request.dropClassifier ? request.numClasses : undefined,
    });
    let loaded: Awaited<ReturnType<typeof loadPretrained>>;
    try {
      loaded = await loadPretrained(name, { overrides, dropClassifier: request.dropClassifier, strict: !request.allowMissing });
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    for (const note of loaded.report.notes) progress(`${name}: ${note}`);
    return {
      model: loaded.model,
      architecture: loaded.architecture,
      options: loaded.options,
      evalConfig: loaded.evalConfig,
      inChannels: loaded.options.inChannels ?? getModelEntry(loaded.architecture).defaults.inChannels,
      labels: loaded.labels,
      weights: name,
      report: loaded.report,
    };
  }
  const entry = modelEntry(name);
  if (!request.checkpoint && !request.allowFresh) {
    throw new UsageError(`${name} needs weights: --checkpoint FILE|DIR, or a pretrained name (NAME.TAG, hf-hub:ORG/REPO, local-dir:DIR)`);
  }
  const weights = request.checkpoint ? resolveWeights(request.checkpoint) : null;
  const options = defined({
    ...request.extra,
    numClasses: request.numClasses ?? weights?.config?.numClasses,
    imgSize: request.imgSize ?? weights?.config?.imgSize,
  });
  const model = buildModel(name, options);
  let report: WeightsReport | null = null;
  if (weights) {
    try {
      report = await loadWeightsInto(model, weights.file, progress, {
        dropClassifier: request.dropClassifier,
        allowMissing: request.allowMissing,
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  const classes = weights?.config?.classes;
  return {
    model,
    architecture: name,
    options,
    evalConfig: evalConfigOf(entry.defaults, model.imgSize[0]),
    inChannels: options.inChannels ?? entry.defaults.inChannels,
    labels: classes && classes.length === model.numClasses ? classes : labelsFor(model.numClasses),
    weights: weights?.file ?? null,
    report,
  };
}
