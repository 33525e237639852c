import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type ParityConfig, type ParityReport, runParity } from '@vitkit/core';
import { loadSafetensors } from './files.js';

/** Reads a parity fixture folder (config.json, weights.safetensors, io.safetensors) and runs it. */
export async function runParityFixture(dir: string): Promise<ParityReport> {
  const configPath = join(dir, 'config.json');
  let config: ParityConfig;
  try {
    config = JSON.parse(await readFile(configPath, 'utf8')) as ParityConfig;
  } catch (e) {
    throw new Error(`${configPath}: cannot read the fixture's config (${(e as Error).message})`);
  }
  for (const key of ['name', 'family', 'reference_args', 'tolerance'] as const) {
    if (config[key] === undefined) throw new Error(`${configPath}: missing key '${key}'`);
  }
  const weightsPath = join(dir, 'weights.safetensors');
  const weights = await loadSafetensors(weightsPath);
  const io = await loadSafetensors(join(dir, 'io.safetensors'));
  try {
    return await runParity(config, weights, io, weightsPath);
  } finally {
    tf.dispose([...Object.values(weights), ...Object.values(io)]);
  }
}
