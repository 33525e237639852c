// What a comparison trains, as plain data: the comparison's recipe (stored with
// the experiment) and the recipe of one run (one model, one seed), which is
// the whole of a queued job's data, so a worker needs nothing else. runRecipe
// is the one place that turns a run recipe into training (trainModel).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { getModelEntry, type StepProgress } from '@vitkit/core';
import { CHECKPOINT_FILE } from '@vitkit/node';
import { InputError } from '../args.js';
import { TRAIN_DEFAULTS, type TrainRecipe, trainModel } from '../training.js';
import '../register-models.js';
import type { RunRecord } from './store.js';

/** A comparison: every model trained with every seed under one recipe and budget. */
export interface SweepRecipe {
  models: string[];
  /** A dataset spec, as `vitkit train --dataset`. */
  dataset: string;
  /** Seeds 0 .. seeds-1 for every model. */
  seeds: number;
  epochs: number;
  /** Training images per epoch (the first N of the split); absent: all. */
  trainImages?: number;
  /** Test images evaluated (the first N); absent: all. */
  evalImages?: number;
  /** Training MACs per model (3 x forward MACs per image); overrides epochs and trainImages. */
  budgetMacs?: number;
  batchSize: number;
  /** Peak learning rate; absent: vitkit train's default. */
  lr?: number;
  /** Data-parallel replicas per run; absent: vitkit train's default. */
  workers?: number;
  /** Steps between checkpoints (besides every epoch); absent: vitkit train's default. */
  checkpointEvery?: number;
}

/** One run of a comparison: everything a worker needs to train and evaluate it. */
export interface RunRecipe {
  model: string;
  seed: number;
  dataset: string;
  epochs: number;
  trainImages?: number;
  evalImages?: number;
  batchSize: number;
  lr?: number;
  workers?: number;
  checkpointEvery?: number;
}

/** The job data of a queued run. */
export interface RunJob {
  experiment: string;
  recipe: RunRecipe;
  /** A PostgreSQL URL the worker records the run in itself; absent: the comparison that follows the queue records it. */
  store?: string;
}

/** A recipe's fields in a fixed order with absent ones dropped, so that equal recipes serialise (and hash) equally. */
function canonical(r: SweepRecipe): SweepRecipe {
  const keys: (keyof SweepRecipe)[] = [
    'models',
    'dataset',
    'seeds',
    'epochs',
    'trainImages',
    'evalImages',
    'budgetMacs',
    'batchSize',
    'lr',
    'workers',
    'checkpointEvery',
  ];
  return Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])) as unknown as SweepRecipe;
}

/** The experiment id of a recipe: the same comparison started twice is the same experiment (and the same jobs). */
export function experimentId(r: SweepRecipe): string {
  return `exp-${createHash('sha256')
    .update(JSON.stringify(canonical(r)))
    .digest('hex')
    .slice(0, 12)}`;
}

/** The queue's job id of a run: one job per (experiment, model, seed). */
export function jobId(experiment: string, r: Pick<RunRecipe, 'model' | 'seed'>): string {
  return `${experiment}.${r.model}.seed${r.seed}`;
}

/** The folder of a run's checkpoints under a work folder. */
export function runDir(workDir: string, experiment: string, r: Pick<RunRecipe, 'model' | 'seed'>): string {
  return join(workDir, experiment, `${r.model}-seed${r.seed}`);
}

/** Checks a comparison recipe; bad values are input errors naming the option. */
export function checkSweepRecipe(r: SweepRecipe): SweepRecipe {
  if (r.models.length === 0) throw new InputError('--models needs at least one model');
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new InputError(`--${name} must be a positive integer (got ${v})`);
  };
  positive('seeds', r.seeds);
  positive('epochs', r.epochs);
  positive('batch-size', r.batchSize);
  positive('train-images', r.trainImages);
  positive('eval-images', r.evalImages);
  positive('checkpoint-every', r.checkpointEvery);
  for (const m of r.models) {
    try {
      getModelEntry(m);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
  }
  // A MAC budget too small for one training image of some model is refused here, before anything is enqueued.
  planRuns(r);
  return canonical(r);
}

/**
 * The runs of a comparison, seed by seed. With a MAC budget every model gets
 * the same training compute (3 x forward MACs per image: forward and
 * backward), so cheaper models see more images; otherwise every model sees
 * the same images.
 */
export function planRuns(r: SweepRecipe): RunRecipe[] {
  const runs: RunRecipe[] = [];
  for (let seed = 0; seed < r.seeds; seed++) {
    for (const model of r.models) {
      let { epochs, trainImages } = r;
      if (r.budgetMacs !== undefined) {
        trainImages = Math.floor(r.budgetMacs / (3 * getModelEntry(model).cost().macs));
        if (trainImages < 1) throw new InputError(`--budget-macs ${r.budgetMacs} does not buy one training image of ${model}`);
        epochs = 1;
      }
      const run: RunRecipe = {
        model,
        seed,
        dataset: r.dataset,
        epochs,
        trainImages,
        evalImages: r.evalImages,
        batchSize: r.batchSize,
        lr: r.lr,
        workers: r.workers,
        checkpointEvery: r.checkpointEvery,
      };
      runs.push(Object.fromEntries(Object.entries(run).filter(([, v]) => v !== undefined)) as unknown as RunRecipe);
    }
  }
  return runs;
}

/** Reads a job's data back, with an error that names what is wrong (a job enqueued by another version, or by hand). */
export function parseRunJob(data: unknown, id: string): RunJob {
  const d = data as Partial<RunJob> | null;
  const r = d?.recipe as Partial<RunRecipe> | undefined;
  if (
    typeof d?.experiment !== 'string' ||
    typeof r?.model !== 'string' ||
    typeof r.dataset !== 'string' ||
    !Number.isInteger(r.seed) ||
    !Number.isInteger(r.epochs) ||
    !Number.isInteger(r.batchSize)
  )
    throw new InputError(`job ${id}: its data is not a vitkit run (experiment, recipe.model, dataset, seed, epochs, batchSize)`);
  return d as RunJob;
}

export interface RunOptions {
  /** The run's checkpoint folder; a checkpoint there is resumed. */
  dir: string;
  progress: (line: string) => void;
  /** Stops training at the next step with a checkpoint saved. */
  signal?: AbortSignal;
  onStep?: (p: StepProgress) => void;
}

/** A run's measurements; interrupted: stopped by the signal with a checkpoint saved, nothing measured. */
export type RunOutcome =
  | { interrupted: true; steps: number }
  | ({ interrupted: false } & Pick<
      RunRecord,
      | 'family'
      | 'params'
      | 'macs'
      | 'top1'
      | 'top5'
      | 'train_seconds'
      | 'images_per_sec'
      | 'train_images'
      | 'eval_images'
      | 'steps'
      | 'resumed_from_step'
      | 'backend'
      | 'host'
    >);

/** The step a checkpoint in `dir` holds, or null without one. */
export function checkpointStep(dir: string): number | null {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  return (JSON.parse(readFileSync(file, 'utf8')) as { progress: { step: number } }).progress.step;
}

/** Trains and evaluates one run through `trainModel` (exactly as `vitkit train` trains), resuming its checkpoint when there is one. */
export async function runRecipe(r: RunRecipe, options: RunOptions): Promise<RunOutcome> {
  const resumeStep = checkpointStep(options.dir);
  const run: TrainRecipe = {
    model: r.model,
    dataset: r.dataset,
    seed: r.seed,
    budget: { epochs: r.epochs, trainImages: r.trainImages, evalImages: r.evalImages },
    hyperparameters: {
      ...TRAIN_DEFAULTS,
      batchSize: r.batchSize,
      lr: r.lr ?? TRAIN_DEFAULTS.lr,
      checkpointEvery: r.checkpointEvery ?? TRAIN_DEFAULTS.checkpointEvery,
    },
    out: options.dir,
    resume: resumeStep !== null,
    workers: r.workers,
  };
  options.progress(`${resumeStep === null ? 'training' : `resuming from step ${resumeStep}`} ${r.model} seed ${r.seed} in ${options.dir}`);
  const data = await trainModel(run, { json: true, progress: options.progress, signal: options.signal, onStep: options.onStep });
  if (data.interrupted || data.top1 === null || data.top5 === null) return { interrupted: true, steps: data.steps };
  const entry = getModelEntry(r.model);
  const cost = entry.cost({ numClasses: data.num_classes, imgSize: data.img_size });
  return {
    interrupted: false,
    family: entry.defaults.family,
    params: cost.params,
    macs: cost.macs,
    top1: data.top1,
    top5: data.top5,
    train_seconds: data.seconds,
    images_per_sec: data.train_images_per_s ?? data.images / data.seconds,
    // Every step before a checkpoint trained a full batch (the loader drops a last partial one).
    train_images: data.images + (resumeStep ?? 0) * r.batchSize,
    eval_images: data.eval_images,
    steps: data.steps,
    resumed_from_step: resumeStep ?? 0,
    backend: data.backend,
    host: hostname(),
  };
}
