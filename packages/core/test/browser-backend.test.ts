// initBrowserBackend's choices that need no page (the pages themselves are
// driven in Chromium by packages/bench/test/demo.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type BrowserBackendName, initBrowserBackend } from '../src/index.js';

describe('initBrowserBackend', () => {
  it('names every backend it could not use, and why, when none initialises', async () => {
    const before = tf.getBackend();
    const attempt = initBrowserBackend({ backends: { webgl: async () => ({}) } });
    await expect(attempt).rejects.toThrow(
      [
        'initBrowserBackend: no backend initialised:',
        '  webgpu: no loader given in options.backends',
        '  webgl: the package did not register the backend (not supported in this browser)',
        '  wasm: no loader given in options.backends',
      ].join('\n'),
    );
    expect(tf.getBackend()).toBe(before);
  });

  it('asks for wasmPaths before loading the WebAssembly backend', async () => {
    let loaded = false;
    const wasm = async () => {
      loaded = true;
      return { setWasmPaths: () => {}, getThreadsCount: () => 1, version_wasm: '4.22.0' };
    };
    await expect(initBrowserBackend({ prefer: 'wasm', backends: { wasm } })).rejects.toThrow(
      'wasm: options.wasmPaths (the URL of the .wasm files) is not set',
    );
    expect(loaded).toBe(false);
  });

  it('rejects an unknown preference', async () => {
    await expect(initBrowserBackend({ prefer: 'cpu' as BrowserBackendName, backends: {} })).rejects.toThrow(
      "initBrowserBackend: prefer must be one of webgpu, webgl, wasm (got 'cpu')",
    );
  });
});
