// WebGPU under Node: Dawn from the npm package `webgpu` (prebuilt, no download)
// gives tfjs-backend-webgpu its `navigator.gpu`. Dawn's native API (Vulkan,
// Metal, D3D12) comes first for a GPU; its OpenGL ES backend reaches Mesa's
// llvmpipe on machines without one, which tfjs accepts only as a
// compatibility-level adapter (it refuses Vulkan's lavapipe). Mesa's EGL needs
// a writable XDG_RUNTIME_DIR and, without a display, EGL_PLATFORM=surfaceless:
// vitkit sets both when they are unset.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The adapter WebGPU runs on, as `vitkit info` reports it. */
export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The graphics API Dawn drives: vulkan, metal, d3d12 or opengles. */
  api: string;
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader): correct, and slow. */
  software: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

interface DawnAdapter {
  info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean };
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

interface DawnGpu {
  requestAdapter(options?: { featureLevel?: string; powerPreference?: string }): Promise<DawnAdapter | null>;
}

interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

/** An adapter found, or why none is usable. */
export type AdapterSearch = { gpu: DawnGpu; adapter: DawnAdapter; info: GpuAdapterInfo } | { problem: string };

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader/i;

const NATIVE_API: Record<string, string> = { linux: 'vulkan', darwin: 'metal', win32: 'd3d12' };

/** Linux exposes every GPU as a render node or, with NVIDIA's driver, /dev/nvidia0. */
function linuxGpuDevice(): boolean {
  const dri = existsSync('/dev/dri') ? readdirSync('/dev/dri').some((f) => f.startsWith('renderD')) : false;
  return dri || existsSync('/dev/nvidia0');
}

function describe(adapter: DawnAdapter, api: string): GpuAdapterInfo {
  const { vendor, architecture, device, description } = adapter.info;
  return {
    vendor,
    architecture,
    device,
    description,
    api,
    software: Boolean(adapter.info.isFallbackAdapter) || SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`),
    limits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize },
  };
}

let xdgDir: string | null = null;

function prepareEnvironment(): void {
  if (process.platform !== 'linux') return;
  if (!process.env['XDG_RUNTIME_DIR']) {
    xdgDir = mkdtempSync(join(tmpdir(), 'vitkit-xdg-'));
    process.env['XDG_RUNTIME_DIR'] = xdgDir;
    process.on('exit', () => rmSync(xdgDir!, { recursive: true, force: true }));
  }
  process.env['EGL_PLATFORM'] ??= 'surfaceless';
}

let dawn: DawnModule | null = null;

/**
 * Finds a WebGPU adapter through Dawn: a hardware one if there is one, else (with `allowSoftware`)
 * a software one. Installs WebGPU's globals (GPUBufferUsage and friends) on the way.
 */
export async function findGpuAdapter(allowSoftware: boolean): Promise<AdapterSearch> {
  const native = NATIVE_API[process.platform] ?? 'vulkan';
  const gpuDevice = process.platform !== 'linux' || linuxGpuDevice();
  if (!gpuDevice && !allowSoftware) return { problem: 'no GPU device on this machine (/dev/dri/renderD*, /dev/nvidia0)' };
  try {
    dawn ??= (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    return { problem: `the optional package 'webgpu' does not load (${String((e as Error).message ?? e).split('\n')[0]})` };
  }
  prepareEnvironment();
  Object.assign(globalThis, dawn.globals);
  let software: AdapterSearch | null = null;
  for (const api of gpuDevice ? [native, 'opengles'] : ['opengles']) {
    const gpu = dawn.create([`backend=${api}`]);
    // OpenGL ES offers WebGPU only at the compatibility feature level.
    const adapter = await gpu.requestAdapter(
      api === 'opengles' ? { featureLevel: 'compatibility' } : { powerPreference: 'high-performance' },
    );
    if (!adapter) continue;
    const found = { gpu, adapter, info: describe(adapter, api) };
    if (!found.info.software) return found;
    software ??= found;
  }
  if (software && allowSoftware) return software;
  if (software) return { problem: `only a software adapter (${software.info.device || software.info.description})` };
  return { problem: `Dawn found no adapter (tried ${gpuDevice ? `${native}, ` : ''}opengles)` };
}

/**
 * Gives tfjs-backend-webgpu `navigator.gpu`, answering its adapter request with `adapter`. The Dawn
 * instance stays referenced from it: Dawn stops serving the device's callbacks (buffer reads never
 * resolve, or the process crashes) once its instance is garbage-collected.
 */
export function provideNavigatorGpu(instance: DawnGpu, adapter: DawnAdapter): void {
  const gpu = { requestAdapter: async () => adapter, dawn: instance };
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

const errors: string[] = [];

/**
 * Records the device's uncaptured errors. WebGPU reports an invalid pipeline or command
 * asynchronously and tfjs does not listen, so without this a failed kernel only leaves zeros.
 */
export function watchGpuErrors(device: unknown): void {
  (device as { onuncapturederror: ((e: { error: { message: string } }) => void) | null }).onuncapturederror = (e) => {
    errors.push(e.error.message);
  };
}

/** The WebGPU device's uncaptured errors so far (validation, out of memory), oldest first. */
export function gpuErrors(): readonly string[] {
  return errors;
}

/** Used and pooled GPU buffers of the running webgpu backend (null on other backends). */
export function gpuBufferCounts(backend: unknown): { used: number; free: number; bytesAllocated: number } | null {
  const manager = (
    backend as {
      bufferManager?: { getNumUsedBuffers(): number; getNumFreeBuffers(): number; numBytesAllocated: number };
    }
  ).bufferManager;
  if (!manager) return null;
  return { used: manager.getNumUsedBuffers(), free: manager.getNumFreeBuffers(), bytesAllocated: manager.numBytesAllocated };
}
