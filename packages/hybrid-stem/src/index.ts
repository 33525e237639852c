// @vitkit/hybrid-stem: ViT with the convolutional stem of Xiao et al. 2021 (ViTC)
// and its patchify twins (ViTP), as pycls builds them, on @vitkit/vit's
// VisionTransformer. Importing registers the models.
export * from './conv-stem.js';
export * from './presets.js';
export * from './pycls-checkpoint.js';
export * from './pycls-vit.js';
export * from './reference-adapter.js';
export { resolveOptions } from './register.js';
