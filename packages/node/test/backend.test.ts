import * as tf from '@tensorflow/tfjs-core';
import { currentBackend, initBackend } from '../src/index.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backendInfo } from '@vitkit/core';

// The tests run where tfjs-node is not installed (its install step needs
// Google's storage), so the default is WebAssembly unless VITKIT_BACKEND says otherwise.
const expected = process.env['VITKIT_BACKEND'] ?? 'wasm';
const envBefore = process.env['VITKIT_BACKEND'];

afterEach(async () => {
  if (envBefore === undefined) delete process.env['VITKIT_BACKEND'];
  else process.env['VITKIT_BACKEND'] = envBefore;
  await initBackend({ backend: expected as 'wasm', quiet: true });
  vi.restoreAllMocks();
});

describe('initBackend', () => {
  it('picks the best backend that loads and says why the better ones did not', async () => {
    const info = await initBackend({ quiet: true });
    expect(info.backend).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(currentBackend()).toBe(info);
    expect(info.tfjsVersion).toBe(tf.version_core);
    expect(info.tfjsVersion).toMatch(/^4\.22\./);
    if (expected === 'wasm') {
      expect(info.provider).toBe('@tensorflow/tfjs-backend-wasm');
      // tfjs turns WebAssembly threads off under Node; SIMD works.
      expect(info.threads).toBe(1);
      expect(info.simd).toBe(true);
      // A software WebGPU adapter (llvmpipe here) is never chosen unless asked for.
      expect(info.fallbacks.map((f) => f.split(':')[0])).toEqual(['webgpu', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      expect(info.wasmKernels).toMatchObject({ installed: true, reason: null });
      expect(info.gpu).toBeNull();
    }
    expect(backendInfo()).toEqual({ backend: info.backend, tfjsVersion: info.tfjsVersion, threads: info.threads, simd: info.simd });
  });

  it('a forced cpu backend is used, computes, and WebAssembly comes back when asked', async () => {
    const cpu = await initBackend({ backend: 'cpu', quiet: true });
    expect(cpu).toMatchObject({ backend: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', threads: 1, simd: null });
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0])).toBe(6);
    const wasm = await initBackend({ backend: 'wasm', quiet: true });
    expect(wasm.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('VITKIT_BACKEND=cpu forces cpu, and prints the choice unless quiet', async () => {
    process.env['VITKIT_BACKEND'] = 'cpu';
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    const info = await initBackend();
    expect(info.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0]![0])).toMatch(/^vitkit: backend cpu \(@tensorflow\/tfjs-backend-cpu 4\.22\.\d+, 1 thread\(s\)\)$/);
  });

  it('an invalid choice is a clear error and changes nothing', async () => {
    await expect(initBackend({ backend: 'gpu' as never, quiet: true })).rejects.toThrow(
      "VITKIT_BACKEND must be webgpu, tensorflow, wasm or cpu (got 'gpu')",
    );
    process.env['VITKIT_BACKEND'] = 'webgl';
    await expect(initBackend({ quiet: true })).rejects.toThrow(/got 'webgl'/);
    expect(tf.getBackend()).toBe(expected);
  });

  // Where the native binding is installed, forcing it succeeds: nothing to report.
  it.skipIf(expected === 'tensorflow')('forcing tensorflow without a native binding says which packages failed', async () => {
    await expect(initBackend({ backend: 'tensorflow', quiet: true })).rejects.toThrow(
      /VITKIT_BACKEND=tensorflow, but no native binding loads:\n {2}@tensorflow\/tfjs-node-gpu: .*\n {2}@tensorflow\/tfjs-node: /,
    );
    expect(tf.getBackend()).toBe(expected);
  });
});
