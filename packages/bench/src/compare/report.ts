// The report folder of a comparison, written from the results store:
// results.json and results.csv (one row per model and seed, failed runs
// included), report.md (per-model statistics over seeds, differences paired by
// seed, failures, the recipe and the machines) and the chart (SVG and PNG).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@vitkit/node';
import sharp from 'sharp';
import type { SweepRecipe } from '../sweep/recipe.js';
import { CONFIDENCE, type Estimate } from '../sweep/statistics.js';
import type { ExperimentRecord, RunRecord } from '../sweep/store.js';
import { accuracyChartSvg } from './chart.js';
import { differencesFromBest, type ModelSummary, summarize, toCsv } from './results.js';

const pct = (x: number) => (100 * x).toFixed(2);
const interval = (e: Estimate, f: (x: number) => string) => (e.ci ? `[${f(e.ci[0])}, ${f(e.ci[1])}]` : '—');
const spread = (e: Estimate, f: (x: number) => string) => (e.sd === undefined ? '—' : f(e.sd));

/** The recipe in words, one line per setting. */
function recipeLines(r: SweepRecipe): string[] {
  return [
    `- models: ${r.models.join(', ')}`,
    `- dataset: ${r.dataset}`,
    `- seeds: ${Array.from({ length: r.seeds }, (_, i) => i).join(', ')} (the same for every model)`,
    `- budget: ${
      r.budgetMacs === undefined
        ? `${r.epochs} epoch(s) of ${r.trainImages ?? 'all'} training images per model`
        : `${r.budgetMacs.toExponential(2)} training MACs per model`
    }`,
    `- evaluated on: ${r.evalImages ?? 'all'} test images`,
    `- batch size: ${r.batchSize}`,
    `- learning rate: ${r.lr ?? 'vitkit train default'}`,
    '- the rest: vitkit train defaults (AdamW, warm-up + cosine, label smoothing, gradient clipping)',
  ];
}

export function reportMarkdown(experiment: ExperimentRecord, runs: RunRecord[], environment: Record<string, unknown> = {}): string {
  const recipe = experiment.recipe as unknown as SweepRecipe;
  const summaries = summarize(runs, recipe.models);
  const differences = differencesFromBest(runs, summaries);
  const failed = runs.filter((r) => r.status === 'failed');
  const running = runs.filter((r) => r.status === 'running');
  const planned = recipe.models.length * recipe.seeds;
  const level = `${Math.round(100 * CONFIDENCE)}%`;
  const finished = runs.length - running.length - failed.length;
  const lines = [
    `# vitkit compare: ${recipe.dataset}`,
    '',
    `Experiment ${experiment.id}, created ${experiment.created} by vitkit ${experiment.code_version}. ` +
      `${finished} of ${planned} runs done${failed.length ? `, ${failed.length} failed` : ''}${running.length ? `, ${running.length} running` : ''}.`,
    'Every model is trained with the same recipe and seeds and evaluated on the test split. MACs are multiply-accumulates',
    'of one forward pass at the training input size (what papers call FLOPs).',
    `n is the number of seeds; sd their sample standard deviation; the ${level} interval of the mean uses the t distribution`,
    'with n - 1 degrees of freedom. One seed gives one value and no interval: nothing measures its noise.',
    '',
    `| model | family | params (M) | MACs (M) | n | top-1 % | ${level} CI | sd | top-5 % | train s | train images/s |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summaries.map(
      (s) =>
        `| ${s.model} | ${s.family} | ${(s.params / 1e6).toFixed(3)} | ${(s.macs / 1e6).toFixed(2)} | ${s.top1.n} | ${pct(s.top1.mean)} | ${interval(s.top1, pct)} | ${spread(s.top1, pct)} | ${pct(s.top5.mean)} | ${s.trainSeconds.mean.toFixed(0)} | ${s.imagesPerSec.mean.toFixed(1)} |`,
    ),
    '',
    ...(summaries.length ? ['![top-1 accuracy against MACs](chart.svg)', ''] : []),
    ...differenceLines(differences, level),
    ...(failed.length
      ? [
          '## Failed runs',
          '',
          '| model | seed | finished | error |',
          '| --- | ---: | --- | --- |',
          ...failed.map(
            (r) => `| ${r.model} | ${r.seed} | ${r.finished ?? ''} | ${(r.error ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
          ),
          '',
        ]
      : []),
    '## Runs',
    '',
    '| model | seed | status | top-1 % | top-5 % | train s | images/s | train images | resumed from step | host |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...runs.map(
      (r) =>
        `| ${r.model} | ${r.seed} | ${r.status} | ${r.top1 === null ? '' : pct(r.top1)} | ${r.top5 === null ? '' : pct(r.top5)} | ${r.train_seconds?.toFixed(1) ?? ''} | ${r.images_per_sec?.toFixed(1) ?? ''} | ${r.train_images ?? ''} | ${r.resumed_from_step || ''} | ${r.host ?? ''} |`,
    ),
    '',
    '## Recipe',
    '',
    ...recipeLines(recipe),
    '',
    '## Environment',
    '',
    `- backends: ${[...new Set(runs.map((r) => r.backend).filter(Boolean))].join(', ') || 'n/a'}`,
    `- hosts: ${[...new Set(runs.map((r) => r.host).filter(Boolean))].join(', ') || 'n/a'}`,
    ...Object.entries(environment).map(([k, v]) => `- ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`),
    `- training and evaluation time of all runs: ${(runs.reduce((t, r) => t + (r.train_seconds ?? 0), 0) / 60).toFixed(1)} min`,
    '',
  ];
  return lines.join('\n');
}

function differenceLines(differences: ReturnType<typeof differencesFromBest>, level: string): string[] {
  if (differences.length === 0) return [];
  const pp = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
  return [
    `## Differences in top-1, paired by seed`,
    '',
    `The best model's top-1 minus each other model's, seed by seed, in percentage points, with the ${level} t interval of the`,
    'mean difference. A difference whose interval contains 0 is within noise: these seeds do not tell the two models apart.',
    '',
    `| best | model | seeds | difference (pp) | ${level} CI (pp) | verdict |`,
    '| --- | --- | ---: | ---: | ---: | --- |',
    ...differences.map(
      (d) =>
        `| ${d.best} | ${d.model} | ${d.top1.n} | ${pp(d.top1.mean)} | ${interval(d.top1, pp)} | ${
          d.top1.ci === undefined ? 'one seed: cannot be told from noise' : d.top1.withinNoise ? 'within noise' : `${d.best} is better`
        } |`,
    ),
    '',
  ];
}

/** Writes (or rewrites) every file of the report; each file atomically. */
export async function writeReport(
  dir: string,
  experiment: ExperimentRecord,
  runs: RunRecord[],
  environment: Record<string, unknown> = {},
): Promise<ModelSummary[]> {
  const recipe = experiment.recipe as unknown as SweepRecipe;
  const summaries = summarize(runs, recipe.models);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(runs, null, 2)}\n`);
  await writeFileAtomic(join(dir, 'results.csv'), toCsv(runs));
  await writeFileAtomic(join(dir, 'report.md'), reportMarkdown(experiment, runs, environment));
  if (summaries.length) {
    const svg = accuracyChartSvg(summaries, `top-1 on ${recipe.dataset} against MACs`);
    await writeFileAtomic(join(dir, 'chart.svg'), svg);
    await writeFileAtomic(join(dir, 'chart.png'), await sharp(Buffer.from(svg)).png().toBuffer());
  }
  return summaries;
}
