// The parts of tfjs-backend-wasm's BackendWasm (4.22) that vitkit's kernel
// replacements use: not public API, so they are named in one place.
import type * as tf from '@tensorflow/tfjs-core';

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
