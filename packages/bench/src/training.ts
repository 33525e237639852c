// Training one registered model on one dataset under one recipe: what
// `vitkit train` runs, what `vitkit compare` runs for every model and seed,
// and what a worker of a distributed comparison will run. The recipe and the
// result are plain JSON-serialisable objects. The defaults are the recipe for
// vit_micro_32 on MNIST (96.0% after one epoch in under five minutes on two CPU
// cores): AdamW, lr 2e-3 with a short warm-up then cosine, batch 32 (more
// steps beat larger batches in one epoch), no augmentation for digits.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createOptimizer,
  DataLoader,
  dropRng,
  type EpochSummary,
  fit,
  ModelEma,
  type OptimizerKind,
  pretrainedConfigJson,
  savedModelConfig,
  type ProgressReporter,
  seedInit,
  TextProgress,
  type TrainingProgress,
  trainTransform,
  PRETRAINED_CONFIG_FILE,
  PRETRAINED_WEIGHTS_FILE,
  warmupCosine,
} from '@vitkit/core';
import {
  CheckpointDirectory,
  type DataParallel,
  defaultAugment,
  initBackend,
  loadCheckpoint,
  parseDatasetSpec,
  restoreCheckpoint,
  writeFileAtomic,
} from '@vitkit/node';
import { InputError, UsageError } from './args.js';
import type { CommandIO } from './command.js';
import { evalLoader, modelInput, openSplit } from './datasets.js';
import { isPretrainedName, loadCommandModel } from './model-loading.js';
import { evalOnReplicas, replicaCount, startReplicas } from './replicas.js';

/** The optimisation and augmentation settings of a run. */
export interface TrainHyperparameters {
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Learning rate at the end of the cosine. */
  minLr: number;
  /** Decoupled weight decay (not on biases, norms, position embeddings, tokens). */
  weightDecay: number;
  /** Linear warm-up steps. */
  warmup: number;
  optimizer: OptimizerKind;
  labelSmoothing: number;
  /** Clip gradients to this global norm (0: off). */
  clipGrad: number;
  /** Stochastic depth rate; the model's default when absent. */
  dropPath?: number;
  /** Keep an EMA of the weights with this decay and evaluate with it. */
  ema?: number;
  /** mixup and cutmix alphas (0: off). */
  mixup: number;
  cutmix: number;
  /** RandAugment rand-m9-n2-mstd0.5. */
  randAugment: boolean;
  /** Also checkpoint every this many steps. */
  checkpointEvery: number;
  evalBatchSize: number;
}

export const TRAIN_DEFAULTS: TrainHyperparameters = {
  batchSize: 32,
  lr: 2e-3,
  minLr: 1e-5,
  weightDecay: 0.05,
  warmup: 50,
  optimizer: 'adamw',
  labelSmoothing: 0.1,
  clipGrad: 1,
  mixup: 0,
  cutmix: 0,
  randAugment: false,
  checkpointEvery: 200,
  evalBatchSize: 250,
};

/** One training run, as plain data. */
export interface TrainRecipe {
  /** Registered model name, or a pretrained name (NAME.TAG, hf-hub:, local-dir:) to fine-tune. */
  model: string;
  /** Input size; the model's when absent. The class count comes from the dataset. */
  imgSize?: number;
  /** Dataset spec (mnist, fashion-mnist, cifar10:DIR, cifar100:DIR, folder:DIR). */
  dataset: string;
  /** Seed for initialisation, shuffling, augmentation and dropout. */
  seed: number;
  budget: {
    epochs: number;
    /** Train on the first N images only (all when absent). */
    trainImages?: number;
    /** Evaluate on the first N test images only (all when absent). */
    evalImages?: number;
  };
  hyperparameters: TrainHyperparameters;
  /** Checkpoint folder. */
  out: string;
  /** Continue from the checkpoint in `out`. */
  resume?: boolean;
  /** Start from these weights, a file or a pretrained name (fine-tuning: a classifier of another class count is dropped). */
  pretrained?: { file: string; allowMissing?: boolean };
  /** Data-parallel replicas (the backend's default when absent). */
  workers?: number;
}

export interface TrainResult {
  model: string;
  dataset: string;
  num_classes: number;
  img_size: number;
  top1: number | null;
  top5: number | null;
  eval_images: number;
  images: number;
  seconds: number;
  train_images_per_s: number | null;
  epochs_done: number;
  steps: number;
  interrupted: boolean;
  /** The weights file, or null when nothing was saved. */
  checkpoint: string | null;
  backend: string;
  replicas: number;
  history: EpochSummary[];
}

function datasetKind(spec: string) {
  try {
    return parseDatasetSpec(spec).kind;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Trains `recipe.model` as the recipe says, checkpointing into `recipe.out`; Ctrl-C saves and stops. */
export async function trainModel(recipe: TrainRecipe, io: CommandIO): Promise<TrainResult> {
  const { model: name, dataset: spec, seed, budget, out } = recipe;
  const h = recipe.hyperparameters;
  if (!(budget.epochs >= 1 && Number.isInteger(budget.epochs)) || !(h.batchSize >= 1))
    throw new UsageError('--epochs and --batch-size must be positive integers');
  if (recipe.pretrained && isPretrainedName(name)) {
    throw new UsageError(`--pretrained goes with a registered --model; '${name}' brings its own weights`);
  }
  const kind = datasetKind(spec);
  const backend = await initBackend({ quiet: true });
  const [trainSet, testSet] = await Promise.all([openSplit(spec, 'train', budget.trainImages), openSplit(spec, 'test', budget.evalImages)]);

  seedInit(seed);
  dropRng.seed(seed);
  // Fine-tuning starts from a pretrained name (--model, or --pretrained with
  // its architecture as --model) or a weights file; its classifier is dropped
  // where the dataset's class count differs.
  const start = recipe.resume ? undefined : recipe.pretrained?.file;
  const fromPretrainedName = start !== undefined && isPretrainedName(start);
  const loaded = await loadCommandModel(
    fromPretrainedName ? start : name,
    {
      checkpoint: fromPretrainedName ? undefined : start,
      numClasses: trainSet.classes.length,
      imgSize: recipe.imgSize,
      extra: { dropPathRate: h.dropPath },
      dropClassifier: true,
      allowMissing: recipe.pretrained?.allowMissing,
      allowFresh: true,
    },
    io.progress,
  );
  const { model, architecture } = loaded;
  if (fromPretrainedName && architecture !== name) {
    model.dispose();
    throw new InputError(`--pretrained ${start} is a ${architecture}, not a ${name}`);
  }
  const createOptions = loaded.options;
  const input = modelInput(loaded.evalConfig, loaded.inChannels);
  const config = {
    model: name,
    dataset: spec,
    classes: trainSet.classes,
    numClasses: trainSet.classes.length,
    imgSize: input.imgSize,
    recipe: { ...recipe, resume: undefined },
  };
  const optimizer = createOptimizer(h.optimizer, model, { weightDecay: h.weightDecay });
  const ema = h.ema ? new ModelEma(model, h.ema) : undefined;
  const sink = new CheckpointDirectory(out);
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    io.progress('\ninterrupt: finishing the current step and saving a checkpoint (Ctrl-C again to quit now)');
    controller.abort();
  };
  const onAbort = () => controller.abort();
  let parallel: DataParallel | null = null;
  try {
    let resume: TrainingProgress | undefined;
    if (recipe.resume) {
      const ckpt = await loadCheckpoint(out).catch((e: Error) => {
        throw new InputError(`--resume: ${e.message}`);
      });
      if (ckpt.json.config['model'] !== name || ckpt.json.config['dataset'] !== spec) {
        throw new InputError(
          `--resume: ${out} holds a run of ${ckpt.json.config['model']} on ${ckpt.json.config['dataset']}, not ${name} on ${spec}`,
        );
      }
      resume = await restoreCheckpoint(ckpt, { model, optimizer, ema });
      sink.adopt(ckpt.json);
      io.progress(`resuming ${out} at epoch ${resume.epoch + 1}, step ${resume.step}`);
    } else if (loaded.report) {
      const total = Object.keys(model.stateShapes()).length;
      io.progress(`${start === undefined ? name : `--pretrained ${start}`}: ${loaded.report.loaded} of ${total} tensors loaded`);
    }
    // Replicas start from the main model's weights, so after any loading.
    parallel = await startReplicas(model, architecture, createOptions, replicaCount(recipe.workers, backend.backend));
    await mkdir(out, { recursive: true });

    const augment = defaultAugment(kind, input.imgSize);
    if (h.randAugment) augment.randAugment = { n: 2, magnitude: 9, magnitudeStd: 0.5 };
    const mixing = h.mixup > 0 || h.cutmix > 0;
    const trainLoader = new DataLoader(trainSet, {
      batchSize: h.batchSize,
      imageShape: [input.imgSize, input.imgSize, input.inChannels],
      mean: input.mean,
      std: input.std,
      transform: trainTransform(trainSet.imageShape, input, augment),
      shuffle: true,
      seed,
      dropLast: trainSet.size >= h.batchSize,
      mixup: mixing
        ? { numClasses: trainSet.classes.length, mixupAlpha: h.mixup, cutmixAlpha: h.cutmix, labelSmoothing: h.labelSmoothing }
        : null,
    });
    const totalSteps = budget.epochs * trainLoader.batchesPerEpoch;
    io.progress(
      `training ${name} (${(model.numParams() / 1e6).toFixed(2)} M params) on ${trainSet.name} (${trainSet.size} images), ` +
        `${budget.epochs} epoch(s) x ${trainLoader.batchesPerEpoch} steps of ${h.batchSize}; backend ${backend.backend}, ${parallel?.replicas ?? 1} replica(s); checkpoints in ${out}`,
    );
    process.on('SIGINT', onSigint);
    io.signal?.addEventListener('abort', onAbort);
    if (io.signal?.aborted) controller.abort();
    const text = new TextProgress({
      tty: Boolean(process.stderr.isTTY) && !io.json,
      write: process.stderr.isTTY && !io.json ? (t) => process.stderr.write(t) : (t) => io.progress(t.trimEnd()),
    });
    const { onStep } = io;
    const progress: ProgressReporter = onStep
      ? {
          step: (p) => {
            text.step(p);
            onStep(p);
          },
          epoch: (s) => text.epoch(s),
          note: (l) => text.note(l),
        }
      : text;
    const result = await fit({
      model,
      optimizer,
      ema,
      gradients: parallel?.gradients,
      evalForward: parallel ? evalOnReplicas(parallel) : undefined,
      schedule: warmupCosine({ baseLr: h.lr, minLr: h.minLr, totalSteps, warmupSteps: h.warmup }),
      train: trainLoader,
      eval: evalLoader(testSet, input, h.evalBatchSize),
      epochs: budget.epochs,
      labelSmoothing: mixing ? 0 : h.labelSmoothing,
      clipGradNorm: h.clipGrad,
      sink,
      checkpointEverySteps: h.checkpointEvery,
      resume,
      signal: controller.signal,
      progress,
      config,
    });
    const last = result.last;
    const checkpoint = result.checkpoint ?? (resume ? join(out, PRETRAINED_WEIGHTS_FILE) : null);
    if (checkpoint) {
      // Beside the weights, the config.json that makes the folder a pretrained model (local-dir:OUT).
      const saved = savedModelConfig(architecture, createOptions, { labelNames: trainSet.classes, evalConfig: loaded.evalConfig });
      await writeFileAtomic(join(out, PRETRAINED_CONFIG_FILE), pretrainedConfigJson(saved));
    }
    return {
      model: name,
      dataset: spec,
      num_classes: trainSet.classes.length,
      img_size: input.imgSize,
      top1: last?.top1 ?? null,
      top5: last?.top5 ?? null,
      eval_images: testSet.size,
      images: result.images,
      seconds: result.seconds,
      train_images_per_s: last?.imagesPerSecond ?? null,
      epochs_done: result.progress.epoch,
      steps: result.progress.step,
      interrupted: result.interrupted,
      // A resumed run that was already complete trains nothing and keeps its last weights.
      checkpoint,
      backend: backend.backend,
      replicas: parallel?.replicas ?? 1,
      history: result.progress.history,
    };
  } finally {
    process.off('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onAbort);
    await parallel?.close();
    ema?.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
