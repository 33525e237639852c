// A pretrained model from its name, as timm's create_model(name,
// pretrained=True): the files from the Hub cache on disk (or a folder, or a
// registry tag's repository), built by core's buildPretrained, the one place
// a pretrained model is made (fetchPretrained builds through it in a page).
import { type BuildPretrainedOptions, buildPretrained, type PretrainedModel } from '@vitkit/core';
import { readSafetensorsFile } from '../files.js';
import type { HubOptions } from './download.js';
import { readPretrainedConfigText, resolvePretrainedFiles } from './pretrained-files.js';

export interface LoadPretrainedOptions extends HubOptions, BuildPretrainedOptions {}

/**
 * Builds and fills the model `name` points at: `hf-hub:ORG/REPO[@REVISION]`,
 * `local-dir:PATH` or a registry `NAME.TAG`. The caller owns the model.
 */
export async function loadPretrained(name: string, options: LoadPretrainedOptions = {}): Promise<PretrainedModel> {
  const files = await resolvePretrainedFiles(name, options);
  const configText = await readPretrainedConfigText(files);
  return buildPretrained(files, configText, await readSafetensorsFile(files.weights), options);
}
