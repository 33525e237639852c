import { getModelEntry, listModels } from '@vitkit/core';
import { UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { billions, millions, textTable } from '../format.js';
import '../register-models.js';

/** MACs agree when they round to the same 0.01 G, as the reference table states them. */
const MACS_TOLERANCE = 0.01e9;

export interface TableRow {
  model: string;
  family: string;
  reference: string;
  img_size: number;
  params: number;
  macs: number;
  reference_params: number;
  reference_macs: number;
  params_diff: number;
  macs_diff: number;
  paper_params_m: number | null;
  paper_gflops: number | null;
  paper_top1: number | null;
  agrees: boolean;
}

export function complexityTable(family?: string): TableRow[] {
  return listModels('*', family ? { family } : {})
    .map((name) => getModelEntry(name))
    .filter((e) => e.defaults.figures.reference && e.defaults.figures.params !== undefined && e.defaults.figures.macs !== undefined)
    .map((e) => {
      const f = e.defaults.figures;
      const cost = e.cost();
      const paramsDiff = cost.params - f.params!;
      const macsDiff = cost.macs - f.macs!;
      return {
        model: e.name,
        family: e.defaults.family,
        reference: f.reference!,
        img_size: e.defaults.imgSize,
        params: cost.params,
        macs: cost.macs,
        reference_params: f.params!,
        reference_macs: f.macs!,
        params_diff: paramsDiff,
        macs_diff: macsDiff,
        paper_params_m: f.paperParamsM ?? null,
        paper_gflops: f.paperGflops ?? null,
        paper_top1: f.paperTop1 ?? null,
        agrees: paramsDiff === 0 && Math.abs(macsDiff) < MACS_TOLERANCE,
      };
    });
}

const HEADER = [
  'model',
  'reference',
  'params (M)',
  'ref params',
  'Δ params',
  'GMACs',
  'ref GMACs',
  'Δ MACs',
  'paper M',
  'paper GFLOPs',
  'paper top-1',
];

function cells(r: TableRow): (string | number)[] {
  const opt = (v: number | null, digits: number) => (v === null ? '-' : v.toFixed(digits));
  return [
    r.model,
    r.reference,
    millions(r.params),
    millions(r.reference_params),
    r.params_diff,
    billions(r.macs),
    billions(r.reference_macs),
    r.macs_diff,
    opt(r.paper_params_m, 1),
    opt(r.paper_gflops, 1),
    opt(r.paper_top1, 1),
  ];
}

export const table = defineCommand({
  name: 'table',
  summary: "reproduce the papers' complexity tables against the reference counts",
  usage: 'vitkit table [--family F] [--md|--csv|--json]',
  details:
    'For every registered standard model: parameters and MACs counted by vitkit beside the reference\n' +
    "implementation's exact counts and the paper's figures (papers call MACs FLOPs). Exits 1 if any\n" +
    'parameter count differs or MACs differ by 0.01 G or more.',
  options: [
    { name: 'family', type: 'string', value: 'F', description: 'only this family' },
    { name: 'md', type: 'boolean', description: 'print a Markdown table' },
    { name: 'csv', type: 'boolean', description: 'print CSV' },
  ],
  async run({ options }) {
    if (options.md && options.csv) throw new UsageError('choose one of --md and --csv');
    const rows = complexityTable(options.family);
    let lines: string[];
    if (options.csv) {
      const keys = Object.keys(rows[0] ?? {}) as (keyof TableRow)[];
      lines = [keys.join(','), ...rows.map((r) => keys.map((k) => String(r[k] ?? '')).join(','))];
    } else if (options.md) {
      lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${cells(r).join(' | ')} |`)];
    } else {
      lines = textTable(HEADER, rows.map(cells));
    }
    const disagree = rows.filter((r) => !r.agrees);
    if (!options.csv && !options.md) {
      lines.push(
        '',
        disagree.length
          ? `DISAGREES with the reference: ${disagree.map((r) => r.model).join(', ')}`
          : `all ${rows.length} models agree with the reference counts`,
      );
    }
    return { ok: disagree.length === 0, lines, data: rows };
  },
});
