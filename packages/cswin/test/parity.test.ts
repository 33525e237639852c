import { readFileSync } from 'node:fs';
import { runParityFixture } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import '../src/index.js';

describe('CSWin against the official code (cswin_tiny fixture)', () => {
  it('matches the logits and all nine intermediates to the fixture tolerance', async () => {
    const dir = fixtureDir('cswin_tiny');
    const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')) as { num_params: number };
    const report = await runParityFixture(dir);
    expect(report.unmapped).toEqual([]);
    expect(report.rows.map((r) => r.tensor).sort()).toEqual(
      ['logits', 'merge1', 'merge2', 'merge3', 'norm', 'stage1.0', 'stage1_conv_embed', 'stage2.0', 'stage3.1', 'stage4.0'].sort(),
    );
    for (const row of report.rows) expect(row.maxAbs, row.tensor).toBeLessThanOrEqual(report.tolerance);
    expect(report.numParams).toBe(config.num_params);
    expect(report.ok).toBe(true);
  });
});
