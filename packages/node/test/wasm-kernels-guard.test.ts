import * as tf from '@tensorflow/tfjs-core';
import { currentBackend } from '../src/index.js';
import { describe, expect, it } from 'vitest';
import { runNode } from '../../../test-utils/index.js';
import { WASM_INTERNALS_VERSION, wasmInternalsProblem } from '../../core/src/wasm-backend-internals.js';
import { wasmKernelStatus } from '@vitkit/core';

const onWasm = (process.env['VITKIT_BACKEND'] ?? 'wasm') === 'wasm';

describe.runIf(onWasm)('the WebAssembly kernel replacements are guarded', () => {
  it('are installed on the wasm backend of this suite', () => {
    expect(tf.getBackend()).toBe('wasm');
    const status = wasmKernelStatus();
    expect(status).toEqual({ installed: true, kernels: ['Identity', 'Slice', 'SplitV', 'BatchMatMul'], reason: null });
    expect(currentBackend()!.wasmKernels).toEqual(status);
  });

  it('find every internal they use on the running backend', () => {
    expect(wasmInternalsProblem(tf.backend(), WASM_INTERNALS_VERSION)).toBeNull();
  });

  it('name what is missing: another version, absent members, a data table of another shape', () => {
    expect(wasmInternalsProblem(tf.backend(), '4.23.0')).toBe('tfjs-backend-wasm is 4.23.0; the replacements are written for 4.22.0');
    expect(wasmInternalsProblem({}, '4.22.0')).toMatch(/^the wasm backend lacks wasm\.tfjs\.registerTensor\(\), .*typedArrayFromHeap\(\)$/);
    const real = tf.backend() as unknown as Record<string, unknown>;
    // A data table that answers with its entries under another name.
    const table = real['dataIdMap'] as Map<object, object>;
    const renamed = {
      get: (id: object) => ({ entry: table.get(id) }),
      set: (id: object, v: object) => table.set(id, v),
      has: (id: object) => table.has(id),
      delete: (id: object) => table.delete(id),
    };
    const other = Object.create(real, { dataIdMap: { value: renamed } });
    expect(wasmInternalsProblem(other, '4.22.0')).toBe('the wasm backend data table has no integer id and memoryOffset for a tensor');
  });

  it('VITKIT_WASM_KERNELS=0 keeps the stock kernels, silently; another value is an error naming the variable', async () => {
    const script = `
      import * as tf from '@tensorflow/tfjs-core';
      import { initBackend } from '@vitkit/node';
      const info = await initBackend({ quiet: true });
      const a = tf.tensor([1, 2, 3]);
      const before = tf.memory().numDataBuffers;
      tf.clone(a);
      console.log(JSON.stringify({ kernels: info.wasmKernels, copies: tf.memory().numDataBuffers - before }));
    `;
    const off = await runNode(script, { VITKIT_WASM_KERNELS: '0', VITKIT_BACKEND: 'wasm' });
    expect(off.stderr).toBe('');
    // tfjs-backend-wasm's own Identity copies; vitkit's shares the data.
    expect(JSON.parse(off.stdout)).toEqual({
      kernels: { installed: false, kernels: [], reason: 'turned off by VITKIT_WASM_KERNELS=0' },
      copies: 1,
    });
    const on = await runNode(script, { VITKIT_WASM_KERNELS: '1', VITKIT_BACKEND: 'wasm' });
    expect(JSON.parse(on.stdout)).toMatchObject({ kernels: { installed: true }, copies: 0 });
    const bad = await runNode(script, { VITKIT_WASM_KERNELS: 'no', VITKIT_BACKEND: 'wasm' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("VITKIT_WASM_KERNELS must be 0 or 1 (got 'no')");
  });
});
