// @vitkit/crossvit: CrossViT and CrossViT-dagger. Importing it registers the models.
export * from './cross-attention.js';
export * from './crossvit.js';
export * from './multi-conv-patch-embed.js';
export * from './multi-scale-block.js';
export * from './parameter-list.js';
export * from './presets.js';
export * from './reference-adapter.js';
export { type CrossViTCreateOptions, configFromOptions } from './register.js';
export { CROSSVIT_TIMM_ARGS } from './timm-args.js';
