// The report folder of `vitkit compare`: results.json and results.csv (one row
// per model and seed), report.md (the table, mean and spread over seeds, the
// recipe and the machine) and the chart (SVG and PNG).
import { join } from 'node:path';
import { writeFileAtomic } from '@vitkit/core/node';
import sharp from 'sharp';
import { accuracyChartSvg } from './chart.js';
import { type CompareRow, type ModelSummary, summarize, toCsv } from './results.js';

export interface ReportContext {
  dataset: string;
  recipe: Record<string, unknown>;
  environment: Record<string, unknown>;
}

const pct = (x: number) => (100 * x).toFixed(2);

export function reportMarkdown(rows: CompareRow[], summaries: ModelSummary[], ctx: ReportContext): string {
  const seeds = Math.max(...summaries.map((s) => s.seeds));
  const lines = [
    `# vitkit compare: ${ctx.dataset}`,
    '',
    `${summaries.length} models, ${seeds} seed(s) each, trained with the same recipe and evaluated on the test split.`,
    'MACs are multiply-accumulates of one forward pass at the training input size (what papers call FLOPs).',
    '',
    '| model | family | params (M) | MACs (M) | top-1 % (mean ± sd) | top-5 % | train s | train images/s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summaries.map(
      (s) =>
        `| ${s.model} | ${s.family} | ${(s.params / 1e6).toFixed(3)} | ${(s.macs / 1e6).toFixed(2)} | ${pct(s.top1Mean)} ± ${pct(s.top1Std)} | ${pct(s.top5Mean)} | ${s.trainSecondsMean.toFixed(0)} | ${s.imagesPerSecondMean.toFixed(1)} |`,
    ),
    '',
    '![top-1 accuracy against MACs](chart.svg)',
    '',
    '## Runs',
    '',
    '| model | seed | top-1 % | top-5 % | train s | images/s | train images |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.model} | ${r.seed} | ${pct(r.top1)} | ${pct(r.top5)} | ${r.train_seconds.toFixed(1)} | ${r.images_per_s.toFixed(1)} | ${r.train_images} |`,
    ),
    '',
    '## Recipe',
    '',
    ...Object.entries(ctx.recipe).map(([k, v]) => `- ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`),
    '',
    '## Environment',
    '',
    ...Object.entries(ctx.environment).map(([k, v]) => `- ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`),
    `- training and evaluation time of all runs: ${(rows.reduce((t, r) => t + r.train_seconds, 0) / 60).toFixed(1)} min`,
    '',
  ];
  return lines.join('\n');
}

/** Writes (or rewrites) every file of the report; each file atomically. */
export async function writeReport(dir: string, rows: CompareRow[], ctx: ReportContext): Promise<ModelSummary[]> {
  const summaries = summarize(rows);
  const svg = accuracyChartSvg(summaries, `top-1 on ${ctx.dataset} against MACs`);
  await writeFileAtomic(join(dir, 'results.json'), `${JSON.stringify(rows, null, 2)}\n`);
  await writeFileAtomic(join(dir, 'results.csv'), toCsv(rows));
  await writeFileAtomic(join(dir, 'report.md'), reportMarkdown(rows, summaries, ctx));
  await writeFileAtomic(join(dir, 'chart.svg'), svg);
  await writeFileAtomic(join(dir, 'chart.png'), await sharp(Buffer.from(svg)).png().toBuffer());
  return summaries;
}
