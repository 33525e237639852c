import { runParityFixture } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import '../src/index.js';

// pycls' own ViT exported at 32 px (vitc_tiny: conv stem 16-32-64, 3x3/3x3/1x1;
// vitp_tiny: 4x4 patchify), logits and intermediates to the fixture tolerance.
describe.each(['vitc_tiny', 'vitp_tiny'])('parity with pycls (%s)', (name) => {
  it('matches logits and every intermediate', async () => {
    const report = await runParityFixture(fixtureDir(name));
    expect(report.unmapped).toEqual([]);
    expect(report.numParams).toBe(report.expectedParams);
    expect(report.rows.map((r) => r.tensor)).toContain('logits');
    expect(report.rows.length).toBeGreaterThanOrEqual(4);
    for (const row of report.rows) expect(row.maxAbs, row.tensor).toBeLessThanOrEqual(report.tolerance);
    expect(report.ok).toBe(true);
  });
});
