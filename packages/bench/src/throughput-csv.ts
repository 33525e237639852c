// `vitkit throughput --csv`: timm benchmark.py's columns, so the numbers sit in
// the same spreadsheets as timm's (step time in milliseconds, GMACs per
// sample, parameters in millions).
import { writeFileAtomic } from '@vitkit/node';
import { csvCell } from './compare/results.js';
import type { ThroughputCase } from './commands/throughput.js';

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export function throughputCsv(cases: ThroughputCase[]): string {
  const train = cases.some((c) => c.mode === 'train');
  const p = train ? 'train' : 'infer';
  const columns = [
    'model',
    `${p}_samples_per_sec`,
    `${p}_step_time`,
    `${p}_batch_size`,
    `${p}_img_size`,
    `${p}_gmacs`,
    'param_count',
    'backend',
    'replicas',
  ];
  const rows = cases.map((c) => [
    c.model,
    round(c.images_per_s, 2),
    round(1000 * c.median_s, 3),
    c.batch,
    c.img_size,
    round(c.macs_per_image / 1e9, 4),
    round(c.params / 1e6, 2),
    c.backend,
    c.replicas,
  ]);
  return `${[columns.join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n')}\n`;
}

export async function writeThroughputCsv(path: string, cases: ThroughputCase[]): Promise<void> {
  await writeFileAtomic(path, throughputCsv(cases));
}
