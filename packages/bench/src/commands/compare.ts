// `vitkit compare`: the main job. Trains every model under the same recipe and
// budget (through `vitkit train`, so the recipe, data pipeline, checkpoints and
// resume are the same code), evaluates, and writes a report folder. Results
// are appended run by run, so a comparison interrupted and started again with
// the same --out continues where it stopped.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { getModelEntry } from '@vitkit/core';
import { CHECKPOINT_FILE, initBackend } from '@vitkit/core/node';
import { InputError, parseArgs, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { type CompareRow, summarize } from '../compare/results.js';
import { writeReport } from '../compare/report.js';
import { textTable } from '../format.js';
import '../register-models.js';
import { packageVersion } from '../versions.js';
import { train } from './train.js';

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
  const images = Math.floor(options.budgetMacs / (3 * getModelEntry(model).cost().macs));
  if (images < 1) throw new InputError(`--budget-macs ${options.budgetMacs} does not buy one training image of ${model}`);
  return { model, seed, trainImages: images, epochs: 1 };
}

export const compare: Command = {
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
    { name: 'workers', type: 'number', value: 'N', description: 'data-parallel replicas (train default when absent)' },
    { name: 'out', type: 'string', value: 'DIR', description: 'report folder', default: 'runs/compare' },
  ],
  async run({ options }, io) {
    const models = options['models'] as string[];
    const seeds = options['seeds'] as number;
    const epochs = options['epochs'] as number;
    if (models.length === 0) throw new UsageError('--models needs at least one model');
    if (!(Number.isInteger(seeds) && seeds >= 1) || !(Number.isInteger(epochs) && epochs >= 1))
      throw new UsageError('--seeds and --epochs must be positive integers');
    for (const m of models) {
      try {
        getModelEntry(m);
      } catch (e) {
        throw new InputError((e as Error).message);
      }
    }
    const dataset = options['dataset'] as string;
    const out = resolve(options['out'] as string);
    const trainImages = (options['train-images'] as number) || undefined;
    const evalImages = (options['eval-images'] as number) || undefined;
    const budgetMacs = options['budget-macs'] as number | undefined;
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
      'learning rate': options['lr'] ?? 'vitkit train default',
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
        const argv = [
          '--model',
          model,
          '--dataset',
          dataset,
          '--epochs',
          String(plan.epochs),
          '--seed',
          String(seed),
          '--out',
          runDir,
          '--batch-size',
          String(options['batch-size']),
          ...(plan.trainImages ? ['--limit', String(plan.trainImages)] : []),
          ...(evalImages ? ['--eval-limit', String(evalImages)] : []),
          ...(options['lr'] === undefined ? [] : ['--lr', String(options['lr'])]),
          ...(options['workers'] === undefined ? [] : ['--workers', String(options['workers'])]),
          ...(resume ? ['--resume'] : []),
        ];
        io.progress(`${model} seed ${seed}: ${resume ? 'resuming' : 'training'} (vitkit train ${argv.join(' ')})`);
        const result = await train.run(parseArgs(argv, train.options), {
          json: true,
          progress: (line) => io.progress(`  [${model}] ${line}`),
        });
        const data = result.data as {
          top1: number | null;
          top5: number | null;
          seconds: number;
          images: number;
          train_images_per_s: number | null;
          eval_images: number;
          interrupted: boolean;
        };
        if (data.interrupted || data.top1 === null || data.top5 === null) {
          interrupted = true;
          io.progress(`interrupted: run the same command again (same --out) to continue`);
          break;
        }
        const runConfig = JSON.parse(readFileSync(join(runDir, CHECKPOINT_FILE), 'utf8')) as {
          config: { numClasses: number; imgSize: number };
        };
        const cost = getModelEntry(model).cost({ numClasses: runConfig.config.numClasses, imgSize: runConfig.config.imgSize });
        rows.push({
          model,
          family: getModelEntry(model).defaults.family,
          params: cost.params,
          macs: cost.macs,
          seed,
          dataset,
          top1: data.top1,
          top5: data.top5,
          train_seconds: data.seconds,
          images_per_s: data.train_images_per_s ?? data.images / data.seconds,
          train_images: data.images,
          eval_images: data.eval_images,
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
};
