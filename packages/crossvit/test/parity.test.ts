import { runParityFixture } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import '../src/index.js';

// The official model's exports (IBM/CrossViT models/crossvit.py): logits and
// every sub-module output the fixture holds (patch_embed.i, blocks.k_i, norm.i).
describe.each(['crossvit_tiny', 'crossvit_dagger_tiny'])('parity with %s', (name) => {
  it('matches logits and all intermediates to the fixture tolerance', async () => {
    const report = await runParityFixture(fixtureDir(name));
    const bad = report.rows.filter((r) => !r.ok).map((r) => `${r.tensor}: ${r.maxAbs}`);
    expect(bad).toEqual([]);
    expect(report.unmapped).toEqual([]);
    expect(report.rows.map((r) => r.tensor)).toContain('logits');
    expect(report.rows.length).toBeGreaterThan(5);
    expect(report.numParams).toBe(report.expectedParams);
    expect(report.ok).toBe(true);
    console.log(name, report.rows.map((r) => `${r.tensor} ${r.maxAbs.toExponential(1)}`).join(', '));
  });
});
