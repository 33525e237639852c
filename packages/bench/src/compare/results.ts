/** One trained and evaluated model (one seed): a row of results.json and results.csv. */
export interface CompareRow {
  model: string;
  family: string;
  params: number;
  /** Multiply-accumulates of one forward pass at the training input size. */
  macs: number;
  seed: number;
  dataset: string;
  top1: number;
  top5: number;
  /** Wall time of training (evaluation included), seconds. */
  train_seconds: number;
  /** Training throughput, images per second. */
  images_per_s: number;
  /** Training images seen. */
  train_images: number;
  eval_images: number;
}

export const CSV_COLUMNS: (keyof CompareRow)[] = [
  'model',
  'family',
  'params',
  'macs',
  'seed',
  'dataset',
  'top1',
  'top5',
  'train_seconds',
  'images_per_s',
  'train_images',
  'eval_images',
];

export interface ModelSummary {
  model: string;
  family: string;
  params: number;
  macs: number;
  seeds: number;
  top1Mean: number;
  /** Sample standard deviation over seeds (0 with one seed). */
  top1Std: number;
  top5Mean: number;
  trainSecondsMean: number;
  imagesPerSecondMean: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

/** Mean and spread over seeds, one summary per model, in first-appearance order. */
export function summarize(rows: CompareRow[]): ModelSummary[] {
  const byModel = new Map<string, CompareRow[]>();
  for (const r of rows) byModel.set(r.model, [...(byModel.get(r.model) ?? []), r]);
  return [...byModel.values()].map((rs) => ({
    model: rs[0]!.model,
    family: rs[0]!.family,
    params: rs[0]!.params,
    macs: rs[0]!.macs,
    seeds: rs.length,
    top1Mean: mean(rs.map((r) => r.top1)),
    top1Std: std(rs.map((r) => r.top1)),
    top5Mean: mean(rs.map((r) => r.top5)),
    trainSecondsMean: mean(rs.map((r) => r.train_seconds)),
    imagesPerSecondMean: mean(rs.map((r) => r.images_per_s)),
  }));
}

export function toCsv(rows: CompareRow[]): string {
  const cell = (v: unknown) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}
