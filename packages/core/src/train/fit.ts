// The training loop's core, isomorphic: batches come from an abstract
// BatchSource, checkpoints go to an abstract CheckpointSink (files under Node,
// anything else elsewhere). Everything a resumed run needs to continue exactly
// (epoch, batch, step, the dropout/DropPath RNG state, optimizer moments, EMA)
// is in the checkpoint; the data order and augmentation depend only on
// (seed, epoch, index), so a resumed run ends with the same weights.
import type { Layer } from '../layers/layer.js';
import { dropRng } from '../random.js';
import type { BatchSource } from './batch-source.js';
import type { ModelEma } from './ema.js';
import { type BatchForward, evaluate } from './evaluate.js';
import type { Optimizer } from './optimizer.js';
import { duration, type EpochSummary, type ProgressReporter, silentProgress } from './progress.js';
import type { LrSchedule } from './schedule.js';
import { type GradientFn, localGradients, trainStep } from './train-step.js';

/** Where a run stands; saved in every checkpoint. */
export interface TrainingProgress {
  /** Epoch in progress (0-based); equals `epochs` when training is complete. */
  epoch: number;
  /** Batches of that epoch already trained. */
  batch: number;
  /** Optimizer steps taken. */
  step: number;
  /** State of the dropout/DropPath stream (core's dropRng). */
  dropRng: number;
  history: EpochSummary[];
}

export type CheckpointReason = 'periodic' | 'epoch' | 'interrupt' | 'final';

export interface CheckpointContents {
  reason: CheckpointReason;
  progress: TrainingProgress;
  model: Layer;
  optimizer: Optimizer;
  ema?: ModelEma;
  config: Record<string, unknown>;
}

export interface CheckpointSink {
  /** Writes a checkpoint; returns the path (or id) of its weights. */
  save(contents: CheckpointContents): Promise<string>;
}

export interface FitOptions {
  model: Layer;
  optimizer: Optimizer;
  schedule: LrSchedule;
  train: BatchSource;
  /** Evaluated (top-1/top-5) after every epoch. */
  eval?: BatchSource;
  epochs: number;
  labelSmoothing?: number;
  clipGradNorm?: number;
  ema?: ModelEma;
  /** Evaluate with the EMA weights (default: true when `ema` is given). */
  evalWithEma?: boolean;
  /** How gradients are computed (default: on this thread). */
  gradients?: GradientFn;
  /** How evaluation logits are computed, made at the start of every evaluation (after EMA weights are swapped in); default: on this thread. */
  evalForward?: () => BatchForward;
  sink?: CheckpointSink;
  /** Also checkpoint every this many steps (0: only at epoch ends). */
  checkpointEverySteps?: number;
  /** Continue from a checkpoint's progress (weights, optimizer and EMA already restored by the caller). */
  resume?: TrainingProgress;
  /** Aborting finishes the current step, saves a checkpoint and returns. */
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Stored with every checkpoint (model name, options, recipe). */
  config?: Record<string, unknown>;
}

export interface FitResult {
  progress: TrainingProgress;
  interrupted: boolean;
  /** The weights of the last checkpoint written, if any. */
  checkpoint: string | null;
  /** The last epoch's summary (with its evaluation), if an epoch finished. */
  last: EpochSummary | null;
  /** Images trained in this call and the seconds it took (evaluation included). */
  images: number;
  seconds: number;
}

export async function fit(options: FitOptions): Promise<FitResult> {
  const { model, optimizer, train, epochs } = options;
  const report = options.progress ?? silentProgress;
  const gradients = options.gradients ?? localGradients(model);
  const progress: TrainingProgress = options.resume
    ? structuredClone(options.resume)
    : { epoch: 0, batch: 0, step: 0, dropRng: dropRng.getState(), history: [] };
  dropRng.setState(progress.dropRng);
  const totalSteps = epochs * train.batchesPerEpoch;
  const start = performance.now();
  let images = 0;
  let checkpoint: string | null = null;

  const save = async (reason: CheckpointReason) => {
    if (!options.sink) return;
    progress.dropRng = dropRng.getState();
    checkpoint = await options.sink.save({ reason, progress, model, optimizer, ema: options.ema, config: options.config ?? {} });
  };
  const result = (interrupted: boolean): FitResult => ({
    progress,
    interrupted,
    checkpoint,
    last: progress.history.at(-1) ?? null,
    images,
    seconds: (performance.now() - start) / 1000,
  });

  model.train();
  while (progress.epoch < epochs) {
    const epochStart = performance.now();
    let epochImages = 0;
    let lossSum = 0;
    let smoothed = Number.NaN;
    const stepsLeftAtStart = totalSteps - progress.step;
    const firstBatch = progress.batch;
    const it = train.batches(progress.epoch, progress.batch);
    try {
      for await (const batch of it) {
        const lr = options.schedule(progress.step);
        const { loss } = await trainStep(gradients, optimizer, batch, {
          lr,
          step: progress.step,
          labelSmoothing: options.labelSmoothing,
          clipGradNorm: options.clipGradNorm,
        });
        options.ema?.update();
        progress.step += 1;
        progress.batch += 1;
        const b = batch.shape[0];
        images += b;
        epochImages += b;
        lossSum += loss * b;
        smoothed = Number.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
        const elapsed = (performance.now() - epochStart) / 1000;
        const perStep = elapsed / (progress.batch - firstBatch);
        report.step({
          epoch: progress.epoch,
          epochs,
          batch: progress.batch,
          batchesPerEpoch: train.batchesPerEpoch,
          step: progress.step,
          totalSteps,
          loss: smoothed,
          lr,
          imagesPerSecond: epochImages / elapsed,
          etaSeconds: perStep * (stepsLeftAtStart - (progress.batch - firstBatch)),
        });
        // Let signal handlers and I/O callbacks run: a step is one long synchronous call.
        await new Promise((r) => setTimeout(r, 0));
        if (options.signal?.aborted) {
          await save('interrupt');
          report.note(`interrupted at step ${progress.step}${checkpoint ? `; saved ${checkpoint}` : ''}`);
          return result(true);
        }
        if (options.checkpointEverySteps && progress.step % options.checkpointEverySteps === 0) await save('periodic');
      }
    } finally {
      await it.return?.();
    }
    const trainSeconds = (performance.now() - epochStart) / 1000;
    const summary: EpochSummary = {
      epoch: progress.epoch,
      trainLoss: epochImages ? lossSum / epochImages : Number.NaN,
      imagesPerSecond: epochImages / trainSeconds,
      seconds: trainSeconds,
    };
    if (options.eval) {
      const evalSource = options.eval;
      const run = () => evaluate(model, evalSource, { forward: options.evalForward?.() });
      const useEma = options.ema && (options.evalWithEma ?? true);
      const r = useEma ? await options.ema!.withAveragedWeights(run) : await run();
      Object.assign(summary, { top1: r.top1, top5: r.top5, evalLoss: r.loss });
      summary.seconds = (performance.now() - epochStart) / 1000;
    }
    progress.history.push(summary);
    report.epoch(summary);
    progress.epoch += 1;
    progress.batch = 0;
    await save(progress.epoch === epochs ? 'final' : 'epoch');
  }
  report.note(`done: ${progress.step} steps in ${duration((performance.now() - start) / 1000)}`);
  return result(false);
}
