// A pretrained model from its name, as timm's create_model(name,
// pretrained=True): the files (Hub repository, folder or registry tag), the
// checked config.json, the model it describes, and its weights through the one
// loader, strictly. Every error names the model and the file it is about.
import * as tf from '@tensorflow/tfjs-core';
import {
  type ImageClassifier,
  type EvalConfig,
  labelsFor,
  loadWeights,
  type WeightsReport,
  evalConfigFromPretrained,
  modelOptionsFromConfig,
  type PretrainedCfg,
  type PretrainedConfig,
  type CreateOptions,
  createModel,
  decodeSafetensors,
} from '@vitkit/core';
import { readSafetensorsFile } from '../files.js';
import type { HubOptions } from './download.js';
import { type PretrainedFiles, readPretrainedConfig, resolvePretrainedFiles } from './pretrained-files.js';

export interface LoadPretrainedOptions extends HubOptions {
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
  files: PretrainedFiles;
  report: WeightsReport;
}

/**
 * Builds and fills the model `name` points at: `hf-hub:ORG/REPO[@REVISION]`,
 * `local-dir:PATH` or a registry `NAME.TAG`. The caller owns the model.
 */
export async function loadPretrained(name: string, options: LoadPretrainedOptions = {}): Promise<PretrainedModel> {
  const files = await resolvePretrainedFiles(name, options);
  const config = await readPretrainedConfig(files);
  const configSource = `${name} (${files.config})`;
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
  const weightsSource = `${name} (${files.weights})`;
  try {
    const sd = decodeSafetensors(await readSafetensorsFile(files.weights), weightsSource);
    let report: WeightsReport;
    try {
      report = loadWeights(model, sd, { source: weightsSource, strict: options.strict, dropClassifier: options.dropClassifier });
    } finally {
      tf.dispose(Object.values(sd));
    }
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
