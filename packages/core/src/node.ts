// @vitkit/core/node: everything that needs Node (backends, files, datasets).
// The main entry stays isomorphic so the model packages run in browsers.
import './node/gradients.js';

export * from './node/backend.js';
export { type GpuAdapterInfo, gpuBufferCounts, gpuErrors } from './node/webgpu.js';
export * from './node/files.js';
export * from './node/fixtures.js';
export * from './node/checkpoint.js';
export * from './node/data/cifar.js';
export * from './node/data/dataset-spec.js';
export * from './node/data/decode-image.js';
export * from './node/data/idx.js';
export * from './node/data/image-folder.js';
export * from './node/data/mnist.js';
export * from './node/data-parallel.js';
export * from './node/hub/cache.js';
export * from './node/hub/download.js';
export * from './node/hub/pretrained-files.js';
export * from './node/hub/load-pretrained.js';
export * from './node/classify-files.js';
