import { registerModel, registerReferenceAdapter } from '@vitkit/core';
import { CSWinTransformer, cswinCost } from './cswin-transformer.js';
import { CSWIN_MICRO, CSWIN_PRESETS, configWithOptions, type CSWinOptions } from './presets.js';
import { cswinReferenceAdapter } from './reference-adapter.js';

for (const preset of [...CSWIN_PRESETS, CSWIN_MICRO]) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    create: (options?: CSWinOptions) => new CSWinTransformer(configWithOptions(preset, options)),
    cost: (options?: CSWinOptions) => cswinCost(configWithOptions(preset, options)),
  });
}

registerReferenceAdapter(cswinReferenceAdapter);
