// Backend selection under Node: the native TensorFlow binding where it
// installed (tfjs-node-gpu, then tfjs-node), else WebAssembly, else the plain
// CPU backend. The native packages download libtensorflow at install time, so
// on machines without that network npm drops them and WebAssembly is the default.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendInfo, backendInfo } from '../backend.js';
import { patchWasmKernels } from '../wasm-kernels.js';

export type BackendChoice = 'tensorflow' | 'wasm' | 'cpu';

export interface InitBackendOptions {
  /** Force a backend; defaults to $VITKIT_BACKEND, else the best that loads. */
  backend?: BackendChoice;
  /** Do not print which backend was chosen. */
  quiet?: boolean;
}

export interface NodeBackendInfo extends BackendInfo {
  /** Why a better backend was not used, one line per attempt. */
  fallbacks: string[];
  /** The npm package that provides the backend. */
  provider: string;
}

let current: NodeBackendInfo | null = null;

async function tryTensorflow(fallbacks: string[]): Promise<string | null> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return pkg;
      fallbacks.push(`${pkg}: loaded but the tensorflow backend did not initialise`);
    } catch (e) {
      // With --ignore-scripts the package is present but throws a plain Error after
      // registering kernels, so every error means "not usable here".
      fallbacks.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  return null;
}

async function tryWasm(fallbacks: string[]): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    patchWasmKernels();
    if (await tf.setBackend('wasm')) return true;
    fallbacks.push('@tensorflow/tfjs-backend-wasm: backend did not initialise');
  } catch (e) {
    fallbacks.push(`@tensorflow/tfjs-backend-wasm: ${firstLine(e)}`);
  }
  return false;
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

/** Chooses and initialises the backend once; later calls return the same answer. */
export async function initBackend(options: InitBackendOptions = {}): Promise<NodeBackendInfo> {
  const forced = options.backend ?? (process.env['VITKIT_BACKEND'] as BackendChoice | undefined);
  if (current && (!forced || current.backend === forced)) return current;
  if (forced && !['tensorflow', 'wasm', 'cpu'].includes(forced)) {
    throw new Error(`VITKIT_BACKEND must be tensorflow, wasm or cpu (got '${forced}')`);
  }
  await import('@tensorflow/tfjs-backend-cpu');
  const fallbacks: string[] = [];
  let provider = '@tensorflow/tfjs-backend-cpu';
  if (!forced || forced === 'tensorflow') {
    const pkg = await tryTensorflow(fallbacks);
    if (pkg) provider = pkg;
    else if (forced) throw new Error(`VITKIT_BACKEND=tensorflow, but no native binding loads:\n  ${fallbacks.join('\n  ')}`);
  }
  if (provider === '@tensorflow/tfjs-backend-cpu' && (!forced || forced === 'wasm')) {
    if (await tryWasm(fallbacks)) provider = '@tensorflow/tfjs-backend-wasm';
    else if (forced) throw new Error(`VITKIT_BACKEND=wasm, but the WebAssembly backend does not load:\n  ${fallbacks.join('\n  ')}`);
  }
  if (provider === '@tensorflow/tfjs-backend-cpu') await tf.setBackend('cpu');
  await tf.ready();
  const info = backendInfo();
  current = { ...info, threads: info.backend === 'tensorflow' ? availableParallelism() : info.threads, fallbacks, provider };
  if (!options.quiet) {
    console.error(`vitkit: backend ${current.backend} (${provider} ${info.tfjsVersion}, ${current.threads} thread(s))`);
  }
  return current;
}

/** The backend chosen by initBackend, or null before it ran. */
export function currentBackend(): NodeBackendInfo | null {
  return current;
}

/**
 * Size of the WebAssembly backend's heap in bytes (null on other backends). The
 * heap only grows, so this is the high-water mark of the process so far; unlike
 * tf.memory(), it counts data shared by several tensors once.
 */
export function wasmHeapBytes(): number | null {
  const backend = tf.backend() as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? null;
}
