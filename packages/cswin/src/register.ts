import { type CreateOptions, registerModel, registerReferenceAdapter } from '@vitkit/core';
import { CSWinTransformer, cswinCost } from './cswin-transformer.js';
import { CSWIN_MICRO, CSWIN_OPTIONS, CSWIN_PRESETS, configWithOptions } from './presets.js';
import { cswinReferenceAdapter } from './reference-adapter.js';

for (const preset of [...CSWIN_PRESETS, CSWIN_MICRO]) {
  registerModel({
    name: preset.name,
    defaults: preset.defaults,
    options: CSWIN_OPTIONS,
    create: (options?: CreateOptions) => new CSWinTransformer(configWithOptions(preset, options)),
    cost: (options?: CreateOptions) => cswinCost(configWithOptions(preset, options)),
  });
}

registerReferenceAdapter(cswinReferenceAdapter);
