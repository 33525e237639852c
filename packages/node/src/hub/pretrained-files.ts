// The two files of a pretrained model, wherever its name points: a Hub
// repository (downloaded into the Hub cache) or a folder of the same layout.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  type StateDict,
  type PretrainedConfig,
  type PretrainedLocation,
  PRETRAINED_CONFIG_FILE,
  PRETRAINED_WEIGHTS_FILE,
  parsePretrainedConfig,
  pretrainedConfigJson,
  parsePretrainedSource,
  resolvePretrainedTag,
} from '@vitkit/core';
import { saveSafetensors, writeFileAtomic } from '../files.js';
import { downloadHubFiles, type HubOptions } from './download.js';

/** config.json of resolved files: the model name as given, the file's path, the Hub commit (null for a folder). */
export type PretrainedConfigFile = Omit<PretrainedLocation, 'weights'>;

/** config.json and model.safetensors on disk (paths). */
export type PretrainedFiles = PretrainedLocation;

/**
 * config.json and model.safetensors for `hf-hub:ORG/REPO[@REVISION]`,
 * `local-dir:PATH`, or a registry `NAME.TAG` (NAME alone: its default tag),
 * which timm publishes in its Hub repository.
 */
export async function resolvePretrainedFiles(name: string, options: HubOptions = {}): Promise<PretrainedFiles> {
  const got = await resolveFiles(name, [PRETRAINED_CONFIG_FILE, PRETRAINED_WEIGHTS_FILE], options);
  return { source: name, config: got.paths[PRETRAINED_CONFIG_FILE]!, weights: got.paths[PRETRAINED_WEIGHTS_FILE]!, commit: got.commit };
}

/** config.json alone (what preprocessing needs), from the same places as `resolvePretrainedFiles`. */
export async function resolvePretrainedConfigFile(name: string, options: HubOptions = {}): Promise<PretrainedConfigFile> {
  const got = await resolveFiles(name, [PRETRAINED_CONFIG_FILE], options);
  return { source: name, config: got.paths[PRETRAINED_CONFIG_FILE]!, commit: got.commit };
}

async function resolveFiles(
  name: string,
  files: readonly string[],
  options: HubOptions,
): Promise<{ paths: Record<string, string>; commit: string | null }> {
  const source = parsePretrainedSource(name);
  if (source.kind !== 'local-dir') {
    const [repo, revision] = source.kind === 'hf-hub' ? [source.repo, source.revision] : [resolvePretrainedTag(name).hfHubId, 'main'];
    const got = await downloadHubFiles(repo, revision, files, options);
    return { paths: got.paths, commit: got.commit };
  }
  const dir = resolve(source.path);
  const missing: string[] = [];
  for (const file of files) {
    if (!(await stat(join(dir, file)).catch(() => null))?.isFile()) missing.push(file);
  }
  if (missing.length) throw new Error(`${name}: no ${missing.join(', ')} in ${dir}`);
  return { paths: Object.fromEntries(files.map((f) => [f, join(dir, f)])), commit: null };
}

/** The text of resolved files' config.json; errors name the model and the file. */
export async function readPretrainedConfigText(files: PretrainedConfigFile): Promise<string> {
  try {
    return await readFile(files.config, 'utf8');
  } catch (e) {
    throw new Error(`${files.source} (${files.config}): cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The checked config.json of resolved files; errors name the model and the file. */
export async function readPretrainedConfig(files: PretrainedConfigFile): Promise<PretrainedConfig> {
  return parsePretrainedConfig(await readPretrainedConfigText(files), `${files.source} (${files.config})`);
}

/**
 * Writes a model in the layout above (loadable as `local-dir:DIR`, or pushed
 * to the Hub as a repository): the weights first, config.json last, each
 * atomically, so a folder with a config.json is always complete.
 */
export async function savePretrainedDir(dir: string, config: PretrainedConfig, stateDict: StateDict): Promise<void> {
  await mkdir(dir, { recursive: true });
  await saveSafetensors(join(dir, PRETRAINED_WEIGHTS_FILE), stateDict, { metadata: { format: 'pt' } });
  await writeFileAtomic(join(dir, PRETRAINED_CONFIG_FILE), pretrainedConfigJson(config));
}
