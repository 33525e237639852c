// `vitkit compare`: the main job. Trains every model under the same recipe and
// budget (through `trainModel`, as `vitkit train` does, so the recipe, data
// pipeline, checkpoints and resume are the same code), evaluates, and writes a report folder. Results
// are appended run by run, so a comparison interrupted and started again with
// the same --out continues where it stopped.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { CHECKPOINT_FILE, initBackend } from '@vitkit/core/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { type CompareRow, summarize } from '../compare/results.js';
import { writeReport } from '../compare/report.js';
import { textTable } from '../format.js';
import { modelEntry } from '../model-loading.js';
import { WORKERS_OPTION } from '../replicas.js';
import { TRAIN_DEFAULTS, type TrainRecipe, trainModel } from '../training.js';
import { packageVersion } from '../versions.js';

/** Small variants of the four families at matched MACs (about 11-12 M at 32 px). */
export const DEFAULT_MODELS = ['vit_micro_32', 'vitc_micro_32', 'cswin_micro_32', 'crossvit_micro_32'];

interface RunPlan {
  model: string;
  seed: number;
  /** Training images per epoch (--limit) and epochs. */
  trainImages: number | undefined;
  epochs: number;
}

function readRows(path: string): CompareRow[] {
  if (!existsSync(path)) return [];
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CompareRow[];
  } catch (e) {
    throw new InputError(`${path}: cannot continue this comparison, the file is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Training images and epochs for one model. With a MAC budget every model
 * gets the same training compute (3 x forward MACs per image: forward and
 * backward), so cheaper models see more images; otherwise every model sees
 * the same images.
 */
function planRun(model: string, seed: number, options: { budgetMacs?: number; trainImages?: number; epochs: number }): RunPlan {
  if (options.budgetMacs === undefined) return { model, seed, trainImages: options.trainImages, epochs: options.epochs };
  const images = Math.floor(options.budgetMacs / (3 * modelEntry(model).cost().macs));
  if (images < 1) throw new InputError(`--budget-macs ${options.budgetMacs} does not buy one training image of ${model}`);
  return { model, seed, trainImages: images, epochs: 1 };
}

export const compare = defineCommand({
  name: 'compare',
  summary: 'train and compare models under one recipe and budget; writes a report folder (tables, chart)',
  usage: 'vitkit compare [--models A,B,...] [--dataset D] [--epochs N] [--budget-macs X] [--seeds K] [--out DIR] [--json]',
  details:
    `By default compares ${DEFAULT_MODELS.join(', ')} (the four families at about 11-13 M MACs)\n` +
    'on MNIST, which ships with vitkit. Writes DIR/results.json, results.csv, report.md, chart.svg and\n' +
    'chart.png, rewritten after every run; each run trains in DIR/runs/<model>-seed<k>. Started again with\n' +
    'the same --out, it skips finished runs and resumes an interrupted one from its checkpoint.\n' +
    'With --budget-macs every model gets that many training MACs (3 x forward MACs per image) instead of\n' +
    'the same number of images.',
  options: [
    { name: 'models', type: 'list', value: 'A,B', description: 'registered models to compare', default: DEFAULT_MODELS },
    {
      name: 'dataset',
      type: 'string',
      value: 'D',
      description: 'mnist, fashion-mnist, cifar10:DIR, cifar100:DIR or folder:DIR',
      default: 'mnist',
    },
    { name: 'epochs', type: 'number', value: 'N', description: 'epochs per model (without --budget-macs)', default: 1 },
    {
      name: 'train-images',
      type: 'number',
      value: 'N',
      description: 'training images per epoch (first N of the split; 0: all)',
      default: 30000,
    },
    { name: 'eval-images', type: 'number', value: 'N', description: 'test images evaluated (first N; 0: all)', default: 0 },
    {
      name: 'budget-macs',
      type: 'number',
      value: 'X',
      description: 'training MACs per model, e.g. 1e12 (overrides --epochs and --train-images)',
    },
    { name: 'seeds', type: 'number', value: 'K', description: 'seeds per model (mean and spread reported)', default: 1 },
    { name: 'batch-size', type: 'number', value: 'B', description: 'training batch size', default: 64 },
    { name: 'lr', type: 'number', value: 'LR', description: 'peak learning rate (train default when absent)' },
    WORKERS_OPTION,
    { name: 'out', type: 'string', value: 'DIR', description: 'report folder', default: 'runs/compare' },
  ],
  async run({ options }, io) {
    const { models, seeds, epochs, dataset } = options;
    if (models.length === 0) throw new UsageError('--models needs at least one model');
    if (!(Number.isInteger(seeds) && seeds >= 1) || !(Number.isInteger(epochs) && epochs >= 1))
      throw new UsageError('--seeds and --epochs must be positive integers');
    for (const m of models) modelEntry(m);
    const out = resolve(options.out);
    const trainImages = options['train-images'] || undefined;
    const evalImages = options['eval-images'] || undefined;
    const budgetMacs = options['budget-macs'];
    const backend = await initBackend({ quiet: true });
    await mkdir(join(out, 'runs'), { recursive: true });
    const resultsPath = join(out, 'results.json');
    const rows = readRows(resultsPath).filter((r) => r.dataset === dataset && models.includes(r.model) && r.seed < seeds);
    const recipe = {
      models,
      dataset,
      seeds,
      budget:
        budgetMacs === undefined
          ? `${epochs} epoch(s) of ${trainImages ?? 'all'} training images per model`
          : `${budgetMacs.toExponential(2)} training MACs per model`,
      'evaluated on': `${evalImages ?? 'all'} test images`,
      'batch size': options['batch-size'],
      'learning rate': options.lr ?? TRAIN_DEFAULTS.lr,
      'the rest': 'vitkit train defaults (AdamW, warm-up + cosine, label smoothing, gradient clipping)',
    };
    const environment = {
      backend: `${backend.backend} (${backend.provider} ${backend.tfjsVersion})`,
      threads: backend.threads,
      node: process.version,
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      vitkit: packageVersion('@vitkit/bench'),
    };
    const report = () => writeReport(out, rows, { dataset, recipe, environment });
    let interrupted = false;
    for (let seed = 0; seed < seeds && !interrupted; seed++) {
      for (const model of models) {
        if (rows.some((r) => r.model === model && r.seed === seed)) {
          io.progress(`${model} seed ${seed}: done in an earlier run, kept`);
          continue;
        }
        const plan = planRun(model, seed, { budgetMacs, trainImages, epochs });
        const runDir = join(out, 'runs', `${model}-seed${seed}`);
        const resume = existsSync(join(runDir, CHECKPOINT_FILE));
        const run: TrainRecipe = {
          model,
          dataset,
          seed,
          budget: { epochs: plan.epochs, trainImages: plan.trainImages, evalImages },
          hyperparameters: { ...TRAIN_DEFAULTS, batchSize: options['batch-size'], lr: options.lr ?? TRAIN_DEFAULTS.lr },
          out: runDir,
          resume,
          workers: options.workers,
        };
        io.progress(`${model} seed ${seed}: ${resume ? 'resuming' : 'training'} in ${runDir}`);
        const result = await trainModel(run, { json: true, progress: (line) => io.progress(`  [${model}] ${line}`) });
        if (result.interrupted || result.top1 === null || result.top5 === null) {
          interrupted = true;
          io.progress(`interrupted: run the same command again (same --out) to continue`);
          break;
        }
        const entry = modelEntry(model);
        const cost = entry.cost({ numClasses: result.num_classes, imgSize: result.img_size });
        rows.push({
          model,
          family: entry.defaults.family,
          params: cost.params,
          macs: cost.macs,
          seed,
          dataset,
          top1: result.top1,
          top5: result.top5,
          train_seconds: result.seconds,
          images_per_s: result.train_images_per_s ?? result.images / result.seconds,
          train_images: result.images,
          eval_images: result.eval_images,
        });
        await report();
      }
    }
    const summaries = rows.length ? await report() : summarize(rows);
    const lines = [
      ...textTable(
        ['model', 'family', 'params (M)', 'MACs (M)', 'top-1 %', '± sd', 'top-5 %', 'train s', 'images/s'],
        summaries.map((s) => [
          s.model,
          s.family,
          Number((s.params / 1e6).toFixed(3)),
          Number((s.macs / 1e6).toFixed(2)),
          Number((100 * s.top1Mean).toFixed(2)),
          Number((100 * s.top1Std).toFixed(2)),
          Number((100 * s.top5Mean).toFixed(2)),
          Number(s.trainSecondsMean.toFixed(0)),
          Number(s.imagesPerSecondMean.toFixed(1)),
        ]),
      ),
      '',
      interrupted
        ? `interrupted; the report in ${out} covers the finished runs`
        : `report: ${join(out, 'report.md')} (chart: chart.svg, chart.png)`,
    ];
    return { ok: !interrupted, lines, data: { report: out, interrupted, results: rows } };
  },
});
