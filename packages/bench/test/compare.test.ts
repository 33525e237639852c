import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { type CompareRow, summarize, toCsv } from '../src/compare/results.js';
import { vitkit } from './cli-helpers.js';

const row = (model: string, seed: number, top1: number): CompareRow => ({
  model,
  family: 'vit',
  params: 100,
  macs: 1e7,
  seed,
  dataset: 'mnist',
  top1,
  top5: 1,
  train_seconds: 10,
  images_per_s: 50,
  train_images: 500,
  eval_images: 200,
});

describe('compare results', () => {
  it('summarises mean and sample spread over seeds per model', () => {
    const [s] = summarize([row('a', 0, 0.9), row('a', 1, 0.8), row('a', 2, 0.85)]);
    expect(s!.seeds).toBe(3);
    expect(s!.top1Mean).toBeCloseTo(0.85, 12);
    expect(s!.top1Std).toBeCloseTo(0.05, 12);
    expect(summarize([row('b', 0, 0.5)])[0]!.top1Std).toBe(0);
  });

  it('writes CSV with a header and quoted fields where needed', () => {
    const csv = toCsv([{ ...row('a', 0, 0.5), dataset: 'folder:/data/my,images' }])
      .trim()
      .split('\n');
    expect(csv[0]).toBe('model,family,params,macs,seed,dataset,top1,top5,train_seconds,images_per_s,train_images,eval_images');
    expect(csv[1]).toBe('a,vit,100,10000000,0,"folder:/data/my,images",0.5,1,10,50,500,200');
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
      const data = r.json() as { report: string; results: CompareRow[] };
      expect(data.report).toBe(out);
      expect(data.results).toHaveLength(1);
      const [result] = data.results;
      expect(result).toMatchObject({
        model: 'vit_micro_32',
        family: 'vit',
        seed: 0,
        dataset: 'mnist',
        params: 170_861,
        macs: 12_190_720,
        train_images: 192,
        eval_images: 100,
      });
      expect(result!.top1).toBeGreaterThanOrEqual(0);
      expect(result!.top1).toBeLessThanOrEqual(result!.top5);
      for (const f of ['results.json', 'results.csv', 'report.md', 'chart.svg', 'chart.png'])
        expect(existsSync(join(out, f)), f).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toEqual(data.results);
      const md = readFileSync(join(out, 'report.md'), 'utf8');
      expect(md).toContain('| vit_micro_32 | vit | 0.171 | 12.19 |');
      expect(md).toContain('## Recipe');
      expect(md).toContain('backend: wasm');
      expect((await sharp(join(out, 'chart.png')).metadata()).width).toBe(720);

      const again = await vitkit(...args);
      expect(again.code).toBe(0);
      expect(again.stderr.join('\n')).toContain('vit_micro_32 seed 0: done in an earlier run, kept');
      expect((again.json() as { results: CompareRow[] }).results).toEqual(data.results);
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
