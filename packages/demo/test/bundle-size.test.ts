// The size budget of issue #22: the page's JavaScript, every chunk counted
// (all three backends, though a visit fetches one), minified, without the
// .wasm files and the weights, stays under 1.5 MB (nothing is written).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleDemo } from '../build.mjs';

const BUDGET = 1_500_000;

describe('demo bundle', () => {
  it(`is under ${BUDGET / 1e6} MB of minified JavaScript`, async () => {
    const { metafile } = await bundleDemo(join(tmpdir(), 'vitkit-demo-size'), { write: false });
    const js = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.js'));
    const bytes = js.reduce((sum, [, o]) => sum + o.bytes, 0);
    console.log(`demo bundle: ${js.length} chunks, ${(bytes / 1e6).toFixed(2)} MB`);
    expect(bytes).toBeLessThan(BUDGET);
  });
});
