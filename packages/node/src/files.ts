import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import {
  type ImageClassifier,
  type LoadWeightsOptions,
  loadWeightsFrom,
  type WeightsReport,
  type StateDict,
  decodeSafetensors,
  type EncodeOptions,
  encodeSafetensors,
} from '@vitkit/core';

/** Writes through a temporary file in the same folder and a rename, so a crash never leaves a half-written file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function readSafetensorsFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Loads every tensor of a safetensors file (the caller owns them); errors name the file. */
export async function loadSafetensors(path: string): Promise<StateDict> {
  return decodeSafetensors(await readSafetensorsFile(path), path);
}

export async function saveSafetensors(path: string, tensors: StateDict, options: EncodeOptions = {}): Promise<void> {
  await writeFileAtomic(path, await encodeSafetensors(tensors, options));
}

/** Reads a safetensors file into `model` through `loadWeightsFrom`; every error names the file. */
export async function loadWeightsFile(
  model: ImageClassifier,
  path: string,
  options: Omit<LoadWeightsOptions, 'source'> = {},
): Promise<WeightsReport> {
  return loadWeightsFrom(model, await readSafetensorsFile(path), { ...options, source: path });
}
