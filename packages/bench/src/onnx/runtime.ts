// ONNX Runtime for Node (onnxruntime-node, an optional dependency: its CPU
// build ships in the package; its install script only fetches an optional
// CUDA build and may be skipped).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const require = createRequire(import.meta.url);

export type OnnxRuntime = typeof import('onnxruntime-node');

let runtime: OnnxRuntime | null = null;

/** onnxruntime-node, or an error saying how to install it. */
export function loadOnnxRuntime(): OnnxRuntime {
  if (runtime) return runtime;
  try {
    runtime = require('onnxruntime-node') as OnnxRuntime;
  } catch (e) {
    throw new Error(
      `the ONNX runtime needs onnxruntime-node, an optional dependency of @vitkit/bench that is not installed here ` +
        `(npm install --ignore-scripts onnxruntime-node@1.30.0): ${(e as Error).message.split('\n')[0]}`,
    );
  }
  return runtime;
}

/** Whether onnxruntime-node loads here. */
export function hasOnnxRuntime(): boolean {
  try {
    loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}

/** The installed onnxruntime-node package folder. */
export function onnxRuntimePackageDir(): string {
  return dirname(require.resolve('onnxruntime-node/package.json'));
}
