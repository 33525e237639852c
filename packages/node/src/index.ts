// @vitkit/node: everything of vitkit that needs Node (backends, files on disk,
// datasets, the Hub cache, data-parallel workers), so that @vitkit/core and the
// model packages stay browser-clean.
import './gradients.js';

export * from './backend.js';
export { type GpuAdapterInfo, gpuBufferCounts, gpuErrors } from './webgpu.js';
export * from './files.js';
export * from './fixtures.js';
export * from './checkpoint.js';
export * from './data/cifar.js';
export * from './data/dataset-spec.js';
export * from './data/decode-image.js';
export * from './data/idx.js';
export * from './data/image-folder.js';
export * from './data/mnist.js';
export * from './data-parallel.js';
export * from './hub/cache.js';
export * from './hub/download.js';
export * from './hub/pretrained-files.js';
export * from './hub/load-pretrained.js';
export * from './classify-files.js';
