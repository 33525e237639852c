// Training checkpoints on disk, in one folder:
//   checkpoint.json                  progress (epoch, batch, step, RNG state, history), optimizer
//                                    hyper-parameters, the run's config, and the files below
//   model-<step>.safetensors         weights, PyTorch layout (loadable as any checkpoint)
//   optimizer-<step>.safetensors     optimizer moments (vitkit's internal layout)
//   ema-<step>.safetensors           EMA weights, when EMA is on
//   model.safetensors                the latest weights under a stable name
// Every file is written atomically and checkpoint.json last, so a crash at any
// moment leaves the previous checkpoint intact and loadable.
import { link, readFile, rename, rm } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type {
  Module,
  StateDict,
  ModelEma,
  CheckpointContents,
  CheckpointSink,
  TrainingProgress,
  Optimizer,
  OptimizerState,
} from '@vitkit/core';
import { loadSafetensors, saveSafetensors, writeFileAtomic } from './files.js';

export const CHECKPOINT_FILE = 'checkpoint.json';
const FORMAT = 'vitkit-training-checkpoint/1';

export interface CheckpointJson {
  format: string;
  reason: CheckpointContents['reason'];
  savedAt: string;
  progress: TrainingProgress;
  optimizer: Omit<OptimizerState, 'tensors'>;
  config: Record<string, unknown>;
  files: { model: string; optimizer: string; ema?: string };
}

export interface LoadedCheckpoint {
  dir: string;
  json: CheckpointJson;
  model: StateDict;
  optimizer: OptimizerState;
  ema?: StateDict;
}

/** A CheckpointSink writing into `dir`. */
export class CheckpointDirectory implements CheckpointSink {
  private previous: string[] = [];

  constructor(readonly dir: string) {}

  async save(c: CheckpointContents): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const tag = `step${String(c.progress.step).padStart(7, '0')}`;
    const files = {
      model: `model-${tag}.safetensors`,
      optimizer: `optimizer-${tag}.safetensors`,
      ema: c.ema ? `ema-${tag}.safetensors` : undefined,
    };
    await saveOwned(join(this.dir, files.model), c.model.stateDict(), { step: String(c.progress.step) });
    const { tensors, ...optimizer } = c.optimizer.getState();
    await saveOwned(join(this.dir, files.optimizer), tensors, { layout: 'vitkit-internal' });
    if (c.ema && files.ema) await saveOwned(join(this.dir, files.ema), await c.ema.stateDict(), { ema: 'true' });
    const json: CheckpointJson = {
      format: FORMAT,
      reason: c.reason,
      savedAt: new Date().toISOString(),
      progress: c.progress,
      optimizer,
      config: c.config,
      files: files.ema ? (files as CheckpointJson['files']) : { model: files.model, optimizer: files.optimizer },
    };
    await writeFileAtomic(join(this.dir, CHECKPOINT_FILE), `${JSON.stringify(json, null, 1)}\n`);
    const latest = join(this.dir, 'model.safetensors');
    await linkAtomic(join(this.dir, files.model), latest);
    const current = Object.values(json.files);
    await Promise.all(this.previous.filter((f) => !current.includes(f)).map((f) => rm(join(this.dir, f), { force: true })));
    this.previous = current;
    return latest;
  }

  /** Continues an existing folder: older step files are cleaned up on the next save. */
  adopt(json: CheckpointJson): void {
    this.previous = Object.values(json.files);
  }
}

async function saveOwned(path: string, sd: StateDict, metadata: Record<string, string>): Promise<void> {
  try {
    await saveSafetensors(path, sd, { metadata });
  } finally {
    tf.dispose(Object.values(sd));
  }
}

/** Points `to` at the same file as `from` (a hard link renamed into place), so it is never half-written. */
async function linkAtomic(from: string, to: string): Promise<void> {
  const tmp = `${to}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  try {
    await link(from, tmp);
  } catch {
    await writeFileAtomic(tmp, await readFile(from));
  }
  await rename(tmp, to);
}

/** Reads the checkpoint in `dir` (or the folder of a given checkpoint.json). */
export async function loadCheckpoint(dirOrFile: string): Promise<LoadedCheckpoint> {
  const dir = dirOrFile.endsWith('.json') ? dirOrFile.slice(0, dirOrFile.lastIndexOf('/')) || '.' : dirOrFile;
  let json: CheckpointJson;
  try {
    json = JSON.parse(await readFile(join(dir, CHECKPOINT_FILE), 'utf8')) as CheckpointJson;
  } catch (e) {
    throw new Error(
      `${join(dir, CHECKPOINT_FILE)}: cannot read a training checkpoint (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  if (json.format !== FORMAT) throw new Error(`${join(dir, CHECKPOINT_FILE)}: unknown format '${json.format}' (expected ${FORMAT})`);
  const [model, optimizer, ema] = await Promise.all([
    loadSafetensors(join(dir, json.files.model)),
    loadSafetensors(join(dir, json.files.optimizer)),
    json.files.ema ? loadSafetensors(join(dir, json.files.ema)) : Promise.resolve(undefined),
  ]);
  return { dir, json, model, optimizer: { ...json.optimizer, tensors: optimizer }, ema };
}

/** Puts a loaded checkpoint's weights, optimizer state and EMA into place and frees its tensors; returns the progress to resume from. */
export async function restoreCheckpoint(
  ckpt: LoadedCheckpoint,
  target: { model: Module; optimizer: Optimizer; ema?: ModelEma },
): Promise<TrainingProgress> {
  try {
    target.model.loadStateDict(ckpt.model, { context: `${ckpt.dir}/${ckpt.json.files.model}` });
    target.optimizer.setState(ckpt.optimizer);
    if (target.ema && ckpt.ema) await target.ema.loadStateDict(ckpt.ema);
  } finally {
    tf.dispose([...Object.values(ckpt.model), ...Object.values(ckpt.optimizer.tensors), ...Object.values(ckpt.ema ?? {})]);
  }
  return ckpt.json.progress;
}
