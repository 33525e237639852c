import { getReferenceAdapter } from '@vitkit/core';
import { runParityFixture } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import '../src/index.js';

describe('parity with timm 0.6.13 (vit_tiny fixture)', () => {
  it('matches the logits and every intermediate to the fixture tolerance', async () => {
    const report = await runParityFixture(fixtureDir('vit_tiny'));
    expect(report.unmapped).toEqual([]);
    expect(report.rows.map((r) => r.tensor).sort()).toEqual(['blocks.0', 'blocks.1', 'logits', 'norm', 'patch_embed']);
    for (const row of report.rows) expect(row.maxAbs, row.tensor).toBeLessThanOrEqual(1e-4);
    expect(report.numParams).toBe(report.expectedParams);
    expect(report.numParams).toBe(108106);
    expect(report.ok).toBe(true);
  });

  it('is registered as the adapter of family vit', () => {
    expect(getReferenceAdapter('vit').family).toBe('vit');
  });
});
