// Kernel replacements for the WebAssembly backend.
// - Identity: its own copies the tensor, and tfjs runs Identity (tensor.clone)
//   for every tensor it saves for the backward pass, so a training step held
//   two copies of most activations (ViT-Ti at 32 px, batch 16: 783 MiB of
//   Identity output). Sharing the data, as the CPU backend's Identity and
//   wasm's own Reshape do, is safe: tfjs tensors are immutable and
//   Variable.assign replaces the data id.
// - Slice and SplitV: its own first copy the whole input out of the heap, then
//   cut the slice from that copy (attention's qkv split: ~10 ms a block for
//   ViT-Ti at batch 32). These copy the slice's contiguous runs inside the heap.
// - BatchMatMul: see wasm-batch-matmul.ts.
// They use the backend's private internals, so installWasmKernels first checks
// that the running backend has them (wasm-backend-internals.ts) and keeps the
// stock kernels, with the reason in wasmKernelStatus(), when it does not.
import * as tf from '@tensorflow/tfjs-core';
import { type WasmBackendInternals, wasmInternalsProblem } from './wasm-backend-internals.js';
import { batchMatMulBySlices } from './wasm-batch-matmul.js';

/**
 * Copies x[begin : begin + size] (row-major, any rank) from `src` to `dst`: the
 * trailing axes the slice covers whole merge into one contiguous run per step.
 */
export function copySlice(
  src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  shape: number[],
  begin: number[],
  size: number[],
  dst: { set(a: ArrayLike<number>, offset: number): void },
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1), 0);
    return;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  let axis = rank - 1;
  while (axis > 0 && begin[axis] === 0 && size[axis] === shape[axis]) axis--;
  const run = size[axis]! * strides[axis]!;
  let steps = 1;
  for (let i = 0; i < axis; i++) steps *= size[i]!;
  const index = new Array<number>(axis).fill(0);
  for (let n = 0, out = 0; n < steps; n++, out += run) {
    let offset = begin[axis]! * strides[axis]!;
    for (let i = 0; i < axis; i++) offset += (begin[i]! + index[i]!) * strides[i]!;
    dst.set(src.subarray(offset, offset + run), out);
    for (let i = axis - 1; i >= 0; i--) {
      if (++index[i]! < size[i]!) break;
      index[i] = 0;
    }
  }
}

function sliceInHeap(backend: WasmBackendInternals, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (size.some((d) => d === 0)) return out;
  copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
  return out;
}

/** Whether vitkit's wasm kernels are in use, and why not when they are not. */
export interface WasmKernelStatus {
  installed: boolean;
  /** The kernels replaced (empty unless installed). */
  kernels: string[];
  /** Why the stock kernels are in use (null when installed). */
  reason: string | null;
}

const REPLACED = ['Identity', 'Slice', 'SplitV', 'BatchMatMul'];

let status: WasmKernelStatus | null = null;

/** The outcome of installWasmKernels in this process. */
export function wasmKernelStatus(): WasmKernelStatus {
  return status ?? { installed: false, kernels: [], reason: 'the wasm backend has not been initialised' };
}

/** Registers `make(own)` as the wasm kernel `name`, where `own` is the backend's original. */
function replaceKernel(name: string, make: (own: tf.KernelFunc) => tf.KernelFunc): void {
  const config = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  // The setup function (which binds the kernel's WebAssembly export) stays, so the original still works.
  tf.registerKernel({ ...config, kernelFunc: make(config.kernelFunc) });
}

/**
 * Installs the replacements once, on the running wasm `backend` of tfjs-backend-wasm `version`,
 * unless `off` gives a reason to keep the stock kernels or the backend lacks an internal they
 * use. Later calls return the first outcome.
 */
export function installWasmKernels(backend: tf.KernelBackend, version: string, off?: string): WasmKernelStatus {
  if (status) return status;
  const problem = off ?? wasmInternalsProblem(backend, version);
  if (problem) {
    status = { installed: false, kernels: [], reason: problem };
    return status;
  }
  replaceKernel('Identity', () => ({ inputs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    (backend as unknown as WasmBackendInternals).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  // Strings do not live in the heap: they keep the backend's own kernels.
  replaceKernel('Slice', (own) => (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return own(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x, args.attrs!['begin'] as number[], args.attrs!['size'] as number[]);
    return sliceInHeap(args.backend as unknown as WasmBackendInternals, x, begin!, size!);
  });
  replaceKernel('SplitV', (own) => (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return own(args);
    const axis = tf.util.parseAxisParam(args.attrs!['axis'] as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs!['numOrSizeSplits'] as number[] | number, axis);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[axis] = s;
      const piece = sliceInHeap(args.backend as unknown as WasmBackendInternals, x, [...begin], size);
      begin[axis]! += s;
      return piece;
    });
  });
  replaceKernel('BatchMatMul', batchMatMulBySlices);
  status = { installed: true, kernels: REPLACED, reason: null };
  return status;
}
