// A pretrained model from its two files as timm publishes them (config.json
// and model.safetensors), as timm's create_model(name, pretrained=True) builds
// it: the checked config, the model it describes, its weights through the one
// loader, strictly. Where the files come from is the caller's business (the
// Hub cache on disk in @vitkit/node, fetch and the Cache API in fetchPretrained),
// so Node and the browser build a pretrained model in this one place.
import type { ImageClassifier } from './classifier.js';
import type { EvalConfig } from './data/eval-transform.js';
import { labelsFor } from './labels/imagenet.js';
import { loadWeightsFrom, type WeightsReport } from './load-weights.js';
import {
  evalConfigFromPretrained,
  modelOptionsFromConfig,
  type PretrainedCfg,
  type PretrainedConfig,
  parsePretrainedConfig,
} from './pretrained-config.js';
import { type CreateOptions, createModel } from './registry.js';

/** The layout timm publishes on the Hub and vitkit saves: a config and the weights beside it. */
export const PRETRAINED_CONFIG_FILE = 'config.json';
export const PRETRAINED_WEIGHTS_FILE = 'model.safetensors';

/** Where a pretrained model's files were found, for messages and for the caller to see. */
export interface PretrainedLocation {
  /** The model name as given. */
  source: string;
  /** Path or URL of config.json. */
  config: string;
  /** Path or URL of model.safetensors. */
  weights: string;
  /** The Hub commit the files belong to (null for a folder or a URL). */
  commit: string | null;
}

export interface BuildPretrainedOptions {
  /** createModel options over the config's: another class count or image size for fine-tuning, a drop-path rate. */
  overrides?: CreateOptions;
  /** Fine-tuning: drop the checkpoint's classifier where it does not fit the model (see loadWeights). */
  dropClassifier?: boolean;
  /** Every tensor must fit (default true). */
  strict?: boolean;
}

export interface PretrainedModel {
  model: ImageClassifier;
  /** The registry name the model was built as (config.json's architecture). */
  architecture: string;
  /** The createModel options it was built with. */
  options: CreateOptions;
  config: PretrainedConfig;
  pretrainedCfg: PretrainedCfg;
  /** The preprocessing its weights expect, at the model's input size. */
  evalConfig: EvalConfig;
  /** One name per class: the config's label names, ImageNet-1k's for 1000 classes, else indices. */
  labels: string[];
  files: PretrainedLocation;
  report: WeightsReport;
}

/**
 * Builds the model `configText` (config.json) describes and fills it with
 * `weights` (model.safetensors). Errors name the model and the file they are
 * about. The caller owns the model.
 */
export async function buildPretrained(
  files: PretrainedLocation,
  configText: string,
  weights: Uint8Array | ArrayBuffer,
  options: BuildPretrainedOptions = {},
): Promise<PretrainedModel> {
  const configSource = `${files.source} (${files.config})`;
  const config = parsePretrainedConfig(configText, configSource);
  const createOptions = { ...modelOptionsFromConfig(config, configSource), ...options.overrides };
  const evalConfig = evalConfigFromPretrained(config.pretrainedCfg, configSource);
  let model: ImageClassifier;
  try {
    model = createModel(config.architecture, createOptions);
  } catch (e) {
    throw new Error(
      `${configSource}: '${config.architecture}' with model_args ${JSON.stringify(config.modelArgs)}: ${(e as Error).message}`,
    );
  }
  try {
    const report = await loadWeightsFrom(model, weights, {
      source: `${files.source} (${files.weights})`,
      strict: options.strict,
      dropClassifier: options.dropClassifier,
    });
    const sameHead = model.numClasses === config.numClasses;
    return {
      model,
      architecture: config.architecture,
      options: createOptions,
      config,
      pretrainedCfg: config.pretrainedCfg,
      evalConfig: { ...evalConfig, imgSize: model.imgSize[0] },
      labels: sameHead
        ? labelsFor(model.numClasses, config.labelNames ?? undefined, config.labelDescriptions ?? undefined)
        : labelsFor(model.numClasses),
      files,
      report,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
