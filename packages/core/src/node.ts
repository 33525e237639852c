// @vitkit/core/node: everything that needs Node (backends, files, datasets).
// The main entry stays isomorphic so the model packages run in browsers.
import './node/gradients.js';

export * from './node/backend.js';
export * from './node/files.js';
export * from './node/fixtures.js';
