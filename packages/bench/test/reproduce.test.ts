import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureDir, referenceRow, sharedDir } from '../../../test-utils/index.js';
import type { TableRow } from '../src/commands/table.js';
import { vitkit } from './cli-helpers.js';

const FIXTURES = ['vit_tiny', 'vitc_tiny', 'vitp_tiny', 'cswin_tiny', 'crossvit_tiny', 'crossvit_dagger_tiny'];

describe('vitkit parity', () => {
  for (const name of FIXTURES) {
    it(`passes on ${name}`, async () => {
      const r = await vitkit('parity', fixtureDir(name), '--json');
      const report = r.json() as { ok: boolean; rows: { tensor: string; maxAbs: number }[]; unmapped: string[]; numParams: number };
      expect(r.stderr.join('\n')).toContain('parity OK');
      expect(r.code).toBe(0);
      expect(report.ok).toBe(true);
      expect(report.unmapped).toEqual([]);
      expect(report.rows.map((row) => row.tensor)).toContain('logits');
      for (const row of report.rows) expect(row.maxAbs, row.tensor).toBeLessThanOrEqual(1e-4);
    });
  }

  it('exits 1 naming the file when a fixture folder is incomplete', async () => {
    const r = await vitkit('parity', `${sharedDir}fixtures/parity`);
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain('config.json');
  });
});

describe('vitkit table', () => {
  it('reproduces every reference row it covers, with the reference file as ground truth', async () => {
    const r = await vitkit('table', '--json');
    expect(r.code).toBe(0);
    const rows = r.json() as TableRow[];
    const allReferences = (
      JSON.parse(readFileSync(`${sharedDir}tables/reference-models.json`, 'utf8')) as { rows: { reference: string }[] }
    ).rows.map((row) => row.reference);
    // Every standard configuration of the four families in the reference file has a registered model.
    const covered = new Set(rows.map((row) => row.reference));
    const families = /^(timm\/vit_(tiny|small|base)_patch16_224|vit_|cswin\/|crossvit\/|pycls\/)/;
    expect(allReferences.filter((ref) => families.test(ref) && !covered.has(ref))).toEqual([]);
    for (const row of rows) {
      const ref = referenceRow(row.reference);
      expect(row.reference_params, row.model).toBe(ref.params);
      expect(row.params, row.model).toBe(ref.params);
      expect(Math.abs(row.macs - ref.macs), row.model).toBeLessThan(0.01e9);
      expect(row.paper_params_m, row.model).toBe(ref.paper.params_M);
      expect(row.paper_gflops, row.model).toBe(ref.paper.gflops);
      expect(row.agrees).toBe(true);
    }
    for (const key of ['model', 'params', 'macs', 'reference_params', 'reference_macs', 'paper_params_m', 'paper_gflops']) {
      expect(Object.keys(rows[0]!)).toContain(key);
    }
  });

  it('prints Markdown and CSV', async () => {
    const md = await vitkit('table', '--md', '--family', 'cswin');
    expect(md.code).toBe(0);
    expect(md.stdout[0]).toMatch(/^\| model \| reference \|/);
    expect(md.stdout.some((l) => l.includes('cswin_tiny_224'))).toBe(true);
    const csv = await vitkit('table', '--csv', '--family', 'vit');
    expect(csv.stdout[0]!.split(',').slice(0, 3)).toEqual(['model', 'family', 'reference']);
    expect((await vitkit('table', '--md', '--csv')).code).toBe(2);
  });
});

describe('vitkit models', () => {
  it('lists the registry with counts computed without weights', async () => {
    const r = await vitkit('models', '--json');
    expect(r.code).toBe(0);
    const rows = r.json() as { model: string; family: string; params: number; macs: number }[];
    const families = new Set(rows.map((row) => row.family));
    expect([...families].sort()).toEqual(['crossvit', 'cswin', 'hybrid-stem', 'vit']);
    const huge = rows.find((row) => row.model === 'vit_huge_patch14_224')!;
    expect(huge.params).toBe(referenceRow('vit_huge_patch14_224').params);
    const filtered = await vitkit('models', 'deit_*', '--json');
    expect((filtered.json() as { model: string }[]).map((row) => row.model)).toEqual([
      'deit_base_patch16_224',
      'deit_small_patch16_224',
      'deit_tiny_patch16_224',
    ]);
  });
});
