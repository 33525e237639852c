// Backend selection in a web page: WebGPU, then WebGL, then WebAssembly (the
// order tfjs's own backends rank themselves in a browser). The backend
// packages are the app's choice: it passes loaders (usually dynamic imports,
// so a bundler splits each backend into its own chunk and only the one used is
// fetched), and core imports none of them. On WebAssembly vitkit's kernel
// replacements go in exactly as under Node (installWasmKernels, guarded by
// the same check of the backend's internals), and on WebGPU its AddN.
import * as tf from '@tensorflow/tfjs-core';
import { type BackendInfo, backendInfo } from './backend.js';
import { installWasmKernels, type WasmKernelStatus } from './wasm-kernels.js';
import { installWebGpuKernels } from './webgpu-kernels.js';

export type BrowserBackendName = 'webgpu' | 'webgl' | 'wasm';

export const BROWSER_BACKENDS: readonly BrowserBackendName[] = ['webgpu', 'webgl', 'wasm'];

/** What initBrowserBackend needs of `@tensorflow/tfjs-backend-wasm`. */
export interface WasmBackendModule {
  setWasmPaths(prefixOrFileMap: string): void;
  getThreadsCount(): number;
  version_wasm: string;
}

/** Loaders of the backend packages the app installed, e.g. `wasm: () => import('@tensorflow/tfjs-backend-wasm')`. */
export interface BrowserBackendLoaders {
  webgpu?: () => Promise<unknown>;
  webgl?: () => Promise<unknown>;
  wasm?: () => Promise<WasmBackendModule>;
}

export interface InitBrowserBackendOptions {
  backends: BrowserBackendLoaders;
  /** Tried first; the others follow in the default order when it does not initialise. */
  prefer?: BrowserBackendName;
  /** URL of the folder holding tfjs-backend-wasm's .wasm files (with a trailing slash); needed for wasm. */
  wasmPaths?: string;
}

export interface BrowserBackendInfo extends BackendInfo {
  backend: BrowserBackendName;
  /** Why a backend before the chosen one was not used, one line each. */
  fallbacks: string[];
  /**
   * Whether the page is cross-origin isolated: WebAssembly's threaded build
   * needs it, and then runs min(navigator.hardwareConcurrency / 2, 8) threads
   * (tfjs takes half the logical cores to skip hyper-threads).
   */
  crossOriginIsolated: boolean;
  /** vitkit's WebAssembly kernels (wasm only): installed, or why tfjs's own stay. */
  wasmKernels: WasmKernelStatus | null;
}

let wasmModule: WasmBackendModule | null = null;
let wasmKernels: WasmKernelStatus | null = null;

async function tryBackend(name: BrowserBackendName, options: InitBrowserBackendOptions): Promise<string | null> {
  const load = options.backends[name];
  if (!load) return 'no loader given in options.backends';
  try {
    if (name === 'wasm') {
      if (!wasmModule) {
        if (!options.wasmPaths) return 'options.wasmPaths (the URL of the .wasm files) is not set';
        const mod = await options.backends.wasm!();
        mod.setWasmPaths(options.wasmPaths);
        wasmModule = mod;
      }
    } else {
      await load();
    }
    if (!tf.findBackendFactory(name)) return 'the package did not register the backend (not supported in this browser)';
    if (!(await tf.setBackend(name))) return 'the backend did not initialise';
    if (name === 'wasm') wasmKernels = installWasmKernels(tf.backend(), wasmModule!.version_wasm);
    if (name === 'webgpu') installWebGpuKernels();
    return null;
  } catch (e) {
    return String(e instanceof Error ? e.message : e).split('\n')[0]!;
  }
}

/**
 * Initialises the best backend of the page (`prefer` first) and reports it.
 * Call again with another `prefer` to switch; tensors move with tfjs's own data
 * migration, models keep working.
 */
export async function initBrowserBackend(options: InitBrowserBackendOptions): Promise<BrowserBackendInfo> {
  if (options.prefer && !BROWSER_BACKENDS.includes(options.prefer)) {
    throw new Error(`initBrowserBackend: prefer must be one of ${BROWSER_BACKENDS.join(', ')} (got '${options.prefer}')`);
  }
  const order = options.prefer ? [options.prefer, ...BROWSER_BACKENDS.filter((b) => b !== options.prefer)] : BROWSER_BACKENDS;
  const fallbacks: string[] = [];
  for (const name of order) {
    const problem = await tryBackend(name, options);
    if (problem === null) {
      const info = backendInfo();
      const threads = name === 'wasm' ? wasmModule!.getThreadsCount() : info.threads;
      return {
        ...info,
        backend: name,
        threads,
        fallbacks,
        wasmKernels: name === 'wasm' ? wasmKernels : null,
        crossOriginIsolated: globalThis.crossOriginIsolated === true,
      };
    }
    fallbacks.push(`${name}: ${problem}`);
  }
  throw new Error(`initBrowserBackend: no backend initialised:\n  ${fallbacks.join('\n  ')}`);
}
