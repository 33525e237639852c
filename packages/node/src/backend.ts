// Backend selection under Node: WebGPU on a hardware adapter, then the native
// TensorFlow binding where it installed (tfjs-node-gpu, then tfjs-node), else
// WebAssembly, else the plain CPU backend. The native packages download
// libtensorflow at install time, so on machines without that network npm drops
// them and WebAssembly is the default. A software WebGPU adapter (llvmpipe) is
// used only when asked for: it is correct and slower than WebAssembly.
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  type BackendInfo,
  backendInfo,
  installWasmKernels,
  type WasmKernelStatus,
  wasmKernelStatus,
  installWebGpuKernels,
} from '@vitkit/core';
import { findGpuAdapter, type GpuAdapterInfo, provideNavigatorGpu, watchGpuErrors } from './webgpu.js';

export type BackendChoice = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

export const BACKEND_CHOICES: readonly BackendChoice[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'];

export interface InitBackendOptions {
  /** Force a backend; defaults to $VITKIT_BACKEND, else the best that loads. */
  backend?: BackendChoice;
  /** Do not print which backend was chosen (warnings are printed regardless). */
  quiet?: boolean;
}

export interface NodeBackendInfo extends BackendInfo {
  /** Why a better backend was not used, one line per attempt. */
  fallbacks: string[];
  /** The npm package that provides the backend. */
  provider: string;
  /** The WebGPU adapter (webgpu only). */
  gpu: GpuAdapterInfo | null;
  /** vitkit's WebAssembly kernels (wasm only). */
  wasmKernels: WasmKernelStatus | null;
}

let current: NodeBackendInfo | null = null;

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]!;
}

/** The adapter of the webgpu backend once it ran: tfjs keeps that backend and its device. */
let webgpuAdapter: GpuAdapterInfo | null = null;

async function tryWebGpu(forced: boolean, fallbacks: string[]): Promise<GpuAdapterInfo | null> {
  if (webgpuAdapter && (await tf.setBackend('webgpu'))) return webgpuAdapter;
  const found = await findGpuAdapter(forced);
  if ('problem' in found) {
    fallbacks.push(`webgpu: ${found.problem}`);
    return null;
  }
  provideNavigatorGpu(found.gpu, found.adapter);
  try {
    // The package registers its backend on import, and only when navigator.gpu exists.
    await import('@tensorflow/tfjs-backend-webgpu');
    if (await tf.setBackend('webgpu')) {
      watchGpuErrors((tf.backend() as unknown as { device: unknown }).device);
      installWebGpuKernels();
      webgpuAdapter = found.info;
      return found.info;
    }
    fallbacks.push(`@tensorflow/tfjs-backend-webgpu: the backend did not initialise on ${found.info.device || found.info.description}`);
  } catch (e) {
    fallbacks.push(`@tensorflow/tfjs-backend-webgpu: ${firstLine(e)}`);
  }
  return null;
}

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

/** VITKIT_WASM_KERNELS=0 keeps tfjs-backend-wasm's stock kernels; 1 (the default) installs vitkit's. */
function wasmKernelsOff(): string | undefined {
  const value = process.env['VITKIT_WASM_KERNELS'];
  if (value === undefined || value === '' || value === '1') return undefined;
  if (value === '0') return 'turned off by VITKIT_WASM_KERNELS=0';
  throw new Error(`VITKIT_WASM_KERNELS must be 0 or 1 (got '${value}')`);
}

async function tryWasm(fallbacks: string[]): Promise<boolean> {
  try {
    const { version_wasm } = await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) {
      fallbacks.push('@tensorflow/tfjs-backend-wasm: backend did not initialise');
      return false;
    }
    const off = wasmKernelsOff();
    const status = installWasmKernels(tf.backend(), version_wasm, off);
    if (!status.installed && !off) console.error(`vitkit: warning: keeping tfjs-backend-wasm's stock kernels: ${status.reason}`);
    return true;
  } catch (e) {
    fallbacks.push(`@tensorflow/tfjs-backend-wasm: ${firstLine(e)}`);
  }
  return false;
}

/** Chooses and initialises the backend once; later calls return the same answer. */
export async function initBackend(options: InitBackendOptions = {}): Promise<NodeBackendInfo> {
  const forced = options.backend ?? ((process.env['VITKIT_BACKEND'] || undefined) as BackendChoice | undefined);
  if (current && (!forced || current.backend === forced)) return current;
  if (forced && !BACKEND_CHOICES.includes(forced)) {
    throw new Error(`VITKIT_BACKEND must be webgpu, tensorflow, wasm or cpu (got '${forced}')`);
  }
  // A bad VITKIT_WASM_KERNELS is an error whichever backend is chosen.
  wasmKernelsOff();
  await import('@tensorflow/tfjs-backend-cpu');
  const fallbacks: string[] = [];
  let provider = '@tensorflow/tfjs-backend-cpu';
  let gpu: GpuAdapterInfo | null = null;
  if (!forced || forced === 'webgpu') {
    gpu = await tryWebGpu(forced === 'webgpu', fallbacks);
    if (gpu) provider = '@tensorflow/tfjs-backend-webgpu';
    else if (forced) throw new Error(`VITKIT_BACKEND=webgpu, but WebGPU is not usable:\n  ${fallbacks.join('\n  ')}`);
    if (gpu?.software) {
      console.error(`vitkit: warning: webgpu runs on a software adapter (${gpu.device || gpu.description}): correct, but slower than wasm`);
    }
  }
  if (provider === '@tensorflow/tfjs-backend-cpu' && (!forced || forced === 'tensorflow')) {
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
  current = {
    ...info,
    threads: info.backend === 'tensorflow' ? availableParallelism() : info.threads,
    fallbacks,
    provider,
    gpu: info.backend === 'webgpu' ? gpu : null,
    wasmKernels: info.backend === 'wasm' ? wasmKernelStatus() : null,
  };
  if (!options.quiet) {
    const webgpuSkipped = !forced && fallbacks.find((f) => f.startsWith('webgpu'));
    const why = webgpuSkipped ? `; ${webgpuSkipped.replace(': ', ' not used: ')}` : '';
    console.error(`vitkit: backend ${current.backend} (${provider} ${info.tfjsVersion}, ${current.threads} thread(s))${why}`);
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
