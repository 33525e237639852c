import { listModels } from '@vitkit/core';
import { describe, it } from 'vitest';
import { checkRegisteredModel } from '../../../test-utils/index.js';
import { CSWIN_PRESETS } from '../src/index.js';

// The official models (22 M to 173 M parameters) are checked shrunk so the suite
// stays light: a 64x64 input, depths 1, 1, 2, 1, a stage-1 width of 8 x the
// model's own stage-1 heads (its heads per stage are kept), and stripe widths
// 1, 2, 2, 2, since the registered 7 or 12 do not divide the 4x4 and 2x2 grids
// of stages 3 and 4 at 64 px (the registered widths are covered by the counts
// test). cswin_micro_32 runs as registered.
describe.each(listModels('*', { family: 'cswin' }))('%s', (name) => {
  it('forward, gradients to every parameter, no leak, state-dict round trip', () => {
    const preset = CSWIN_PRESETS.find((p) => p.name === name);
    if (!preset) {
      checkRegisteredModel(name, { imgSize: 32 });
      return;
    }
    const embedDim = 8 * preset.config.numHeads[0]!;
    checkRegisteredModel(name, { imgSize: 64, depths: [1, 1, 2, 1], splitSize: [1, 2, 2, 2], embedDim });
  });
});
