import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { reportMarkdown } from '../src/compare/report.js';
import { summarize, toCsv } from '../src/compare/results.js';
import type { RunRecord } from '../src/sweep/store.js';
import { vitkit } from './cli-helpers.js';

const row = (model: string, seed: number, top1: number | null, over: Partial<RunRecord> = {}): RunRecord => ({
  experiment: 'exp-1',
  model,
  seed,
  status: top1 === null ? 'failed' : 'done',
  family: 'vit',
  dataset: 'mnist',
  params: 170_861,
  macs: 1e7,
  top1,
  top5: top1 === null ? null : 1,
  train_seconds: top1 === null ? null : 10,
  images_per_sec: top1 === null ? null : 50,
  train_images: 500,
  eval_images: 200,
  steps: 8,
  resumed_from_step: 0,
  backend: 'wasm',
  host: 'h',
  started: null,
  finished: null,
  error: top1 === null ? 'no such dataset' : null,
  ...over,
});

describe('compare results', () => {
  it('summarises finished runs per model: n, mean and the t interval, and counts failures', () => {
    const [s] = summarize([
      row('vit_micro_32', 0, 0.9),
      row('vit_micro_32', 1, 0.8),
      row('vit_micro_32', 2, 0.85),
      row('vit_micro_32', 3, null),
    ]);
    expect(s!.top1.n).toBe(3);
    expect(s!.top1.mean).toBeCloseTo(0.85, 12);
    expect(s!.top1.sd).toBeCloseTo(0.05, 12);
    expect(s!.failed).toBe(1);
    expect(summarize([row('vit_micro_32', 0, 0.5)])[0]!.top1).toEqual({ n: 1, mean: 0.5 });
  });

  it('writes timm validate.py columns first, then vitkit ones; failed runs keep their error', () => {
    const csv = toCsv([
      row('vit_micro_32', 0, 0.96375, { dataset: 'folder:/data/my,images' }),
      row('vit_micro_32', 1, null, { error: 'bad "path"' }),
    ])
      .trim()
      .split('\n');
    expect(csv[0]).toBe(
      'model,top1,top1_err,top5,top5_err,param_count,img_size,crop_pct,interpolation,seed,status,family,dataset,params,macs,' +
        'train_seconds,images_per_sec,train_images,eval_images,steps,resumed_from_step,backend,host,started,finished,error,experiment',
    );
    expect(csv[1]).toBe(
      'vit_micro_32,96.375,3.625,100,0,0.17,32,1,bicubic,0,done,vit,"folder:/data/my,images",170861,10000000,10,50,500,200,8,0,wasm,h,,,,exp-1',
    );
    expect(csv[2]).toBe(
      'vit_micro_32,,,,,0.17,32,1,bicubic,1,failed,vit,mnist,170861,10000000,,,500,200,8,0,wasm,h,,,"bad ""path""",exp-1',
    );
  });

  it('reports one seed as a single value, differences paired by seed, and failures', () => {
    const experiment = {
      id: 'exp-1',
      recipe: { models: ['vit_micro_32', 'cswin_micro_32'], dataset: 'mnist', seeds: 3, epochs: 1, batchSize: 64 },
      code_version: '0.1.0',
      created: '2026-01-01T00:00:00.000Z',
    };
    const single = reportMarkdown(experiment, [row('vit_micro_32', 0, 0.9), row('cswin_micro_32', 0, 0.8, { family: 'cswin' })]);
    expect(single).not.toContain('±');
    expect(single).toContain('| vit_micro_32 | vit | 0.171 | 10.00 | 1 | 90.00 | — | — |');
    expect(single).toContain('| vit_micro_32 | cswin_micro_32 | 1 | +10.00 | — | one seed: cannot be told from noise |');
    const runs = [
      ...[0.9, 0.91, 0.92].map((t, i) => row('vit_micro_32', i, t)),
      ...[0.8, 0.82, 0.81].map((t, i) => row('cswin_micro_32', i, t, { family: 'cswin' })),
      row('cswin_micro_32', 3, null, { family: 'cswin', error: 'ENOENT: /nowhere' }),
    ];
    const md = reportMarkdown(experiment, runs);
    expect(md).toMatch(/\| vit_micro_32 \| vit \| 0\.171 \| 10\.00 \| 3 \| 91\.00 \| \[88\.52, 93\.48\] \| 1\.00 \|/);
    expect(md).toContain('| vit_micro_32 | cswin_micro_32 | 3 | +10.00 |');
    expect(md).toContain('vit_micro_32 is better');
    expect(md).toContain('## Failed runs');
    expect(md).toContain('| cswin_micro_32 | 3 |  | ENOENT: /nowhere |');
  });
});

describe('vitkit compare', () => {
  it('trains, evaluates and writes the report folder; a second run keeps finished runs', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vitkit-compare-'));
    try {
      const args = [
        'compare',
        '--models',
        'vit_micro_32',
        '--train-images',
        '192',
        '--eval-images',
        '100',
        '--workers',
        '1',
        '--out',
        out,
        '--json',
      ];
      const r = await vitkit(...args);
      expect(r.code, r.stderr.join('\n')).toBe(0);
      const data = r.json() as { report: string; results: RunRecord[] };
      expect(data.report).toBe(out);
      expect(data.results).toHaveLength(1);
      const [result] = data.results;
      expect(result).toMatchObject({
        model: 'vit_micro_32',
        family: 'vit',
        seed: 0,
        dataset: 'mnist',
        status: 'done',
        params: 170_861,
        macs: 12_190_720,
        train_images: 192,
        eval_images: 100,
        resumed_from_step: 0,
        error: null,
      });
      expect(result!.top1).toBeGreaterThanOrEqual(0);
      expect(result!.top1).toBeLessThanOrEqual(result!.top5!);
      for (const f of ['results.sqlite', 'results.json', 'results.csv', 'report.md', 'chart.svg', 'chart.png'])
        expect(existsSync(join(out, f)), f).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toEqual(data.results);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('| vit_micro_32 | vit | 0.171 | 12.19 | 1 |');
      expect(md).toContain('## Recipe');
      expect(md).toContain('backends: wasm');
      expect((await sharp(join(out, 'chart.png')).metadata()).width).toBe(720);

      const again = await vitkit(...args);
      expect(again.code).toBe(0);
      expect(again.stderr.join('\n')).toContain('vit_micro_32 seed 0: done in an earlier run, kept');
      expect((again.json() as { results: RunRecord[] }).results).toEqual(data.results);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('rejects unknown models before training anything', async () => {
    const r = await vitkit('compare', '--models', 'vit_micro_32,nope_model', '--out', join(tmpdir(), 'never-written'));
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain("unknown model 'nope_model'");
    expect(existsSync(join(tmpdir(), 'never-written'))).toBe(false);
  });
});
