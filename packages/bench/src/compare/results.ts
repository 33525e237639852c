// The results of a comparison as people read them: per-model summaries with
// honest statistics over seeds, differences paired by seed, and results.csv
// (timm validate.py's columns first, then vitkit's).
import { getModelEntry } from '@vitkit/core';
import '../register-models.js';
import { type Estimate, estimate, type PairedDifference, pairedDifference } from '../sweep/statistics.js';
import { RUN_COLUMNS, type RunRecord } from '../sweep/store.js';

export interface ModelSummary {
  model: string;
  family: string;
  params: number;
  macs: number;
  /** Seeds of the finished runs. */
  seeds: number[];
  /** Runs recorded as failed. */
  failed: number;
  top1: Estimate;
  top5: Estimate;
  trainSeconds: Estimate;
  imagesPerSec: Estimate;
}

const done = (runs: RunRecord[]) => runs.filter((r) => r.status === 'done' && r.top1 !== null);

/** One summary per model with at least one finished run, in the order of `models` (then of first appearance). */
export function summarize(runs: RunRecord[], models: string[] = []): ModelSummary[] {
  const order = [...new Set([...models, ...runs.map((r) => r.model)])];
  const out: ModelSummary[] = [];
  for (const model of order) {
    const rs = done(runs.filter((r) => r.model === model));
    if (rs.length === 0) continue;
    out.push({
      model,
      family: rs[0]!.family,
      params: rs[0]!.params!,
      macs: rs[0]!.macs!,
      seeds: rs.map((r) => r.seed),
      failed: runs.filter((r) => r.model === model && r.status === 'failed').length,
      top1: estimate(rs.map((r) => r.top1!)),
      top5: estimate(rs.map((r) => r.top5!)),
      trainSeconds: estimate(rs.map((r) => r.train_seconds!)),
      imagesPerSec: estimate(rs.map((r) => r.images_per_sec!)),
    });
  }
  return out;
}

export interface ModelDifference {
  /** The model with the highest mean top-1. */
  best: string;
  model: string;
  /** best minus model, top-1, over the seeds both finished. */
  top1: PairedDifference;
}

/** The top-1 difference between the best model and each other one, paired by seed. */
export function differencesFromBest(runs: RunRecord[], summaries: ModelSummary[]): ModelDifference[] {
  if (summaries.length < 2) return [];
  const best = summaries.reduce((a, b) => (b.top1.mean > a.top1.mean ? b : a));
  const bySeed = (model: string) => new Map(done(runs.filter((r) => r.model === model)).map((r) => [r.seed, r.top1!]));
  const bestRuns = bySeed(best.model);
  return summaries
    .filter((s) => s !== best)
    .flatMap((s) => {
      const top1 = pairedDifference(bestRuns, bySeed(s.model));
      return top1 ? [{ best: best.model, model: s.model, top1 }] : [];
    });
}

/** timm validate.py's columns, in its order: accuracies in percent, parameters in millions. */
const TIMM_COLUMNS = ['model', 'top1', 'top1_err', 'top5', 'top5_err', 'param_count', 'img_size', 'crop_pct', 'interpolation'];

/** vitkit's own columns, after timm's: the rest of a run's row, its experiment last. */
const VITKIT_COLUMNS: (keyof RunRecord)[] = [
  ...RUN_COLUMNS.filter((c) => !['experiment', 'model', 'top1', 'top5'].includes(c)),
  'experiment',
];

export const CSV_COLUMNS = [...TIMM_COLUMNS, ...VITKIT_COLUMNS];

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** A CSV cell: empty for null, quoted when it holds a comma, quote or line break. */
export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(runs: RunRecord[]): string {
  const lines = runs.map((r) => {
    const d = getModelEntry(r.model).defaults;
    const pct = (x: number | null) => (x === null ? null : round(100 * x, 4));
    const err = (x: number | null) => (x === null ? null : round(100 - 100 * x, 4));
    const timm = [
      r.model,
      pct(r.top1),
      err(r.top1),
      pct(r.top5),
      err(r.top5),
      r.params === null ? null : round(r.params / 1e6, 2),
      d.imgSize,
      d.cropPct,
      d.interpolation,
    ];
    return [...timm, ...VITKIT_COLUMNS.map((c) => r[c])].map(csvCell).join(',');
  });
  return `${[CSV_COLUMNS.join(','), ...lines].join('\n')}\n`;
}
