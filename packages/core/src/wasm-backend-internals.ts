// The parts of tfjs-backend-wasm's BackendWasm (4.22) that vitkit's kernel
// replacements use: not public API, so they are named, and checked, in one place.
import * as tf from '@tensorflow/tfjs-core';

/** The tfjs-backend-wasm release whose internals the replacements are written against. */
export const WASM_INTERNALS_VERSION = '4.22.0';

export interface WasmBackendInternals {
  wasm: {
    /** The C++ side's table of tensor ids to heap pointers (dispose_data never frees memory). */
    tfjs: { registerTensor(id: number, size: number, memoryOffset: number): void; disposeData(id: number): void };
    cwrap(name: string, returns: null, args: string[]): (...args: unknown[]) => void;
  };
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: tf.DataId): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  incRef(dataId: tf.DataId): void;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** The wasm kernels the replacements take over or call. */
export const WASM_KERNELS_USED = ['Identity', 'Slice', 'SplitV', 'BatchMatMul', 'Transpose'];

const isFunction = (x: unknown): boolean => typeof x === 'function';

/**
 * Why `backend` (a running BackendWasm of tfjs-backend-wasm `version`) cannot host the replacements,
 * or null when every internal they touch is there with the expected shape. A tiny output tensor is
 * made and released to check that the data table maps it to a heap offset.
 */
export function wasmInternalsProblem(backend: unknown, version: string): string | null {
  if (version !== WASM_INTERNALS_VERSION) {
    return `tfjs-backend-wasm is ${version}; the replacements are written for ${WASM_INTERNALS_VERSION}`;
  }
  const b = backend as Partial<Record<keyof WasmBackendInternals, unknown>> | null;
  const wasm = b?.wasm as { tfjs?: Record<string, unknown>; cwrap?: unknown } | undefined;
  const members: [string, boolean][] = [
    ['wasm.tfjs.registerTensor()', isFunction(wasm?.tfjs?.['registerTensor'])],
    ['wasm.tfjs.disposeData()', isFunction(wasm?.tfjs?.['disposeData'])],
    ['wasm.cwrap()', isFunction(wasm?.cwrap)],
    ['dataIdNextNumber (a number)', Number.isInteger(b?.dataIdNextNumber)],
    ['dataIdMap.get()', isFunction((b?.dataIdMap as { get?: unknown } | undefined)?.get)],
    ['makeOutput()', isFunction(b?.makeOutput)],
    ['disposeData()', isFunction(b?.disposeData)],
    ['incRef()', isFunction(b?.incRef)],
    ['typedArrayFromHeap()', isFunction(b?.typedArrayFromHeap)],
  ];
  const missing = members.filter(([, ok]) => !ok).map(([name]) => name);
  if (missing.length > 0) return `the wasm backend lacks ${missing.join(', ')}`;
  const absent = WASM_KERNELS_USED.filter((k) => !tf.getKernel(k, 'wasm'));
  if (absent.length > 0) return `the wasm backend has no ${absent.join(', ')} kernel`;
  const internals = backend as WasmBackendInternals;
  try {
    const probe = internals.makeOutput([3], 'float32');
    const entry = internals.dataIdMap.get(probe.dataId);
    const heap = internals.typedArrayFromHeap(probe);
    internals.disposeData(probe.dataId);
    if (!Number.isInteger(entry?.id) || !Number.isInteger(entry?.memoryOffset)) {
      return 'the wasm backend data table has no integer id and memoryOffset for a tensor';
    }
    if (!(heap instanceof Float32Array) || heap.length !== 3 || heap.byteOffset !== entry.memoryOffset) {
      return "typedArrayFromHeap() does not return a tensor's floats at its memoryOffset";
    }
  } catch (e) {
    return `making and releasing a tensor on the wasm backend threw: ${(e as Error).message}`;
  }
  return null;
}
