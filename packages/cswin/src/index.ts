// @vitkit/cswin: CSWin Transformer (cross-shaped window self-attention with
// LePE). Importing the package registers its models and its reference adapter.
export * from './cswin-block.js';
export * from './cswin-transformer.js';
export * from './lepe-attention.js';
export * from './merge-block.js';
export * from './presets.js';
export * from './reference-adapter.js';
export * from './stripe-windows.js';
import './register.js';
