// BatchMatMul for the WebAssembly backend that keeps every product on XNNPACK.
// tfjs-backend-wasm sends any batch > 1 or transpose flag to a scalar loop at
// 2-3 GFLOP/s; only a plain [1, M, K] x [1, K, N] product reaches XNNPACK's
// fully-connected operator (25-35 GFLOP/s). Here a transposed operand is
// transposed once, whole, and each batch slice is multiplied by that fast
// path in place: the slices of the inputs and the output are registered with
// the backend's C++ side as tensors that point into the middle of the real
// buffers, so nothing is copied or stacked. Registering and disposing such a
// view only touches the C++ tensor table (dispose_data never frees memory;
// the JavaScript side owns the allocation), and disposing the weights view
// also drops the operator XNNPACK packed for it.
import * as tf from '@tensorflow/tfjs-core';
import type { WasmBackendInternals } from './wasm-backend-internals.js';

/**
 * Below this many multiply-accumulates a slice, the backend's scalar loop is about as fast as a
 * call per slice (each costs ~7 us). 96 slices, one run of scripts/perf/matmul-slices.mjs:
 * 17x32x17 1.04 ms looped, 0.87 ms sliced; 20x32x20 1.10 / 0.47 ms; 65x64x65 24.2 / 3.7 ms.
 */
const MIN_SLICE_MACS = 8_000;

type MatMul2d = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: number,
  transposeB: number,
  outId: number,
) => void;

const matMulByBackend = new WeakMap<object, MatMul2d>();

function matMul2d(backend: WasmBackendInternals): MatMul2d {
  let f = matMulByBackend.get(backend);
  if (!f) {
    f = backend.wasm.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]) as MatMul2d;
    matMulByBackend.set(backend, f);
  }
  return f;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);

/** [batch, rows, cols] -> [batch, cols, rows] through the backend's own Transpose kernel. */
function transposeSlices(x: tf.TensorInfo, batch: number, rows: number, cols: number, backend: WasmBackendInternals): tf.TensorInfo {
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
  const view: tf.TensorInfo = { dataId: x.dataId, shape: [batch, rows, cols], dtype: x.dtype };
  return transpose({ inputs: { x: view }, backend: backend as unknown as tf.KernelBackend, attrs: { perm: [0, 2, 1] } }) as tf.TensorInfo;
}

/**
 * The replacement kernel; `own` is the backend's original, kept for what it does well (plain 2-D
 * products, slices under `minSliceMacs` multiply-accumulates).
 */
export function batchMatMulBySlices(own: tf.KernelFunc, minSliceMacs = MIN_SLICE_MACS): tf.KernelFunc {
  return (args) => {
    const a = args.inputs['a'] as tf.TensorInfo;
    const b = args.inputs['b'] as tf.TensorInfo;
    const transposeA = Boolean(args.attrs!['transposeA']);
    const transposeB = Boolean(args.attrs!['transposeB']);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const [m, k] = transposeA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!];
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    const plain = batchA === 1 && batchB === 1 && !transposeA && !transposeB;
    const batch = Math.max(batchA, batchB);
    const supported = a.dtype === 'float32' && b.dtype === 'float32' && (batchA === batchB || batchA === 1 || batchB === 1);
    if (plain || !supported || m * k * n === 0 || m * k * n < minSliceMacs) return own(args);
    tf.util.assert(
      k === (transposeB ? b.shape[rb - 1] : b.shape[rb - 2]),
      () => `matMul: inner sizes of [${a.shape}] and [${b.shape}] differ`,
    );

    const backend = args.backend as unknown as WasmBackendInternals;
    const temporaries: tf.TensorInfo[] = [];
    const aRows = transposeA ? transposeSlices(a, batchA, k, m, backend) : a;
    const bRows = transposeB ? transposeSlices(b, batchB, n, k, backend) : b;
    if (transposeA) temporaries.push(aRows);
    if (transposeB) temporaries.push(bRows);
    const outShape = [...tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), m, n];
    const out = backend.makeOutput([batch, m, n], 'float32');
    const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
    /** Registers `size` floats at byte `at` as a tensor of the C++ side; returns its id. */
    const view = (at: number, size: number): number => {
      const id = backend.dataIdNextNumber++;
      backend.wasm.tfjs.registerTensor(id, size, at);
      return id;
    };
    const release = (...ids: number[]) => {
      for (const id of ids) backend.wasm.tfjs.disposeData(id);
    };
    const run = matMul2d(backend);
    if (batchB === 1) {
      // One set of weights for every slice: a single [batch*M, K] x [K, N] product, on the real b (XNNPACK caches its packing).
      const aId = view(offset(aRows), batch * m * k);
      const outId = view(offset(out), batch * m * n);
      run(aId, shapeBytes([1, batch * m, k]), 3, backend.dataIdMap.get(bRows.dataId).id, shapeBytes([1, k, n]), 3, 0, 0, outId);
      release(aId, outId);
    } else {
      const aShape = shapeBytes([1, m, k]);
      const bShape = shapeBytes([1, k, n]);
      const [aBase, bBase, outBase] = [offset(aRows), offset(bRows), offset(out)];
      const aStep = batchA === 1 ? 0 : m * k * 4;
      for (let i = 0; i < batch; i++) {
        const ids = [view(aBase + i * aStep, m * k), view(bBase + i * k * n * 4, k * n), view(outBase + i * m * n * 4, m * n)] as const;
        run(ids[0], aShape, 3, ids[1], bShape, 3, 0, 0, ids[2]);
        release(...ids);
      }
    }
    for (const t of temporaries) backend.disposeData(t.dataId);
    return { dataId: out.dataId, shape: outShape, dtype: 'float32' };
  };
}
