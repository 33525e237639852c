// @vitkit/hybrid-stem: ViT with the convolutional stem of Xiao et al. 2021 (ViTC)
// and its patchify twins (ViTP), as pycls builds them, and the ViT paper's
// ResNet hybrids (R+ViT), as timm builds them, all on @vitkit/vit's
// VisionTransformer. Importing registers the models.
import './register-resnet-hybrids.js';

export * from './bottleneck.js';
export * from './conv-stem.js';
export * from './group-norm-act.js';
export * from './hybrid-embed.js';
export * from './presets.js';
export * from './pycls-checkpoint.js';
export * from './pycls-vit.js';
export * from './reference-adapter.js';
export { resolveOptions } from './register.js';
export { resNetHybridOptions } from './register-resnet-hybrids.js';
export * from './resnet-hybrid.js';
export * from './resnet-hybrid-presets.js';
export * from './resnet-stem.js';
export * from './resnet-v2.js';
export * from './same-padding.js';
export * from './std-conv2d.js';
export * from './timm-hybrid-adapter.js';
