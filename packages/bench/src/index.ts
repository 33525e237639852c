// @vitkit/bench as a library: the CLI entry and the commands, for scripting and tests.
export { main } from './cli.js';
export { commands } from './commands/index.js';
export type { Command, CommandResult } from './command.js';
export { complexityTable, type TableRow } from './commands/table.js';
export { TRAIN_DEFAULTS, type TrainHyperparameters, type TrainRecipe, type TrainResult, trainModel } from './training.js';
export { encodeOnnx } from './onnx/encode.js';
export { hasOnnxRuntime, loadOnnxRuntime } from './onnx/runtime.js';
export { OnnxSession } from './onnx/session.js';
