import { createModel, modelOptionsFromConfig, parsePretrainedConfig, pretrainedConfigJson, savedModelConfig } from '@vitkit/core';
import { describe, expect, it } from 'vitest';
import '../src/index.js';

describe('config.json of a saved CSWin (a family timm does not publish)', () => {
  it("records the registry name and vitkit's option names, and builds the same model back", () => {
    const options = { numClasses: 7, imgSize: 64, depths: [1, 1, 1, 1], embedDim: 16, numHeads: [2, 2, 4, 8], splitSize: [1, 2, 2, 2] };
    const text = pretrainedConfigJson(savedModelConfig('cswin_tiny_224', options));
    const json = JSON.parse(text);
    expect(json).toMatchObject({ architecture: 'cswin_tiny_224', num_classes: 7, model_args: { imgSize: 64, depths: [1, 1, 1, 1] } });
    expect(json.pretrained_cfg.input_size).toEqual([3, 64, 64]);
    const back = modelOptionsFromConfig(parsePretrainedConfig(text));
    expect(back).toEqual(options);
    const a = createModel('cswin_tiny_224', options);
    const b = createModel('cswin_tiny_224', back);
    expect(b.numParams()).toBe(a.numParams());
    a.dispose();
    b.dispose();
  });
});
