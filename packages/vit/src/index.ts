// @vitkit/vit: ViT and DeiT faithful to timm 0.6.13. Importing the package
// registers the models (createModel('vit_small_patch16_224')) and the 'vit'
// reference adapter.
import './register.js';

export * from './presets.js';
export { optionsFromTimmKwargs, vitReferenceAdapter } from './reference-adapter.js';
export { presetOptions } from './register.js';
export * from './vision-transformer.js';
export { VIT_TIMM_ARGS } from './timm-args.js';
