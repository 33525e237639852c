import { cpus, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vitkit/node';
import { defineCommand } from '../command.js';
import { packageVersion, VITKIT_PACKAGES } from '../versions.js';

const BACKEND_NAMES = ['WEBGL', 'WEBGPU', 'WASM', 'TENSORFLOW'];

export const info = defineCommand({
  name: 'info',
  summary: 'backend, its version, threads, GPU adapter and flags, Node and package versions',
  usage: 'vitkit info [--backend B] [--json]',
  options: [],
  async run() {
    const backend = await initBackend({ quiet: true });
    const packages = Object.fromEntries(VITKIT_PACKAGES.map((p) => [p, packageVersion(p)]));
    // The registered flags of tfjs-core and of the backend in use, evaluated: the ones tfjs has not
    // read yet still decide what it does. Other backends' flags may need their device (WebGL's a canvas).
    const env = tf.env() as unknown as { flagRegistry: Record<string, unknown>; get(name: string): number | boolean | string };
    const own = backend.backend.toUpperCase();
    const flags = Object.fromEntries(
      Object.keys(env.flagRegistry)
        .filter((name) => name.startsWith(`${own}_`) || !BACKEND_NAMES.some((b) => name.includes(b)))
        .sort()
        .map((name) => [name, env.get(name)]),
    );
    const data = {
      backend: backend.backend,
      provider: backend.provider,
      tfjs: backend.tfjsVersion,
      threads: backend.threads,
      simd: backend.simd,
      fallbacks: backend.fallbacks,
      gpu: backend.gpu,
      wasmKernels: backend.wasmKernels,
      flags,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      packages,
    };
    const gpu = data.gpu;
    const kernels = data.wasmKernels;
    const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
    const lines = [
      `backend   ${data.backend} (${data.provider} ${data.tfjs}), ${data.threads} thread(s)${data.simd === null ? '' : `, SIMD ${data.simd ? 'on' : 'off'}`}`,
      ...data.fallbacks.map((f) => `          not used: ${f}`),
      ...(gpu
        ? [
            `adapter   ${gpu.device || 'unnamed device'} (vendor '${gpu.vendor}', architecture '${gpu.architecture}'), ${gpu.description}`,
            `          Dawn backend ${gpu.api}, ${gpu.software ? 'software (a CPU implementation: slow)' : 'hardware'}`,
            `          maxBufferSize ${mib(gpu.limits.maxBufferSize)}, maxStorageBufferBindingSize ${mib(gpu.limits.maxStorageBufferBindingSize)}`,
          ]
        : []),
      ...(kernels
        ? [`kernels   ${kernels.installed ? `vitkit's ${kernels.kernels.join(', ')}` : `tfjs-backend-wasm's own (${kernels.reason})`}`]
        : []),
      `flags     ${Object.entries(flags)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
      `node      ${data.node} ${data.platform}`,
      `machine   ${data.cpus} x ${data.cpuModel}, ${data.memoryGiB} GiB`,
      ...Object.entries(packages).map(([p, v]) => `${p.padEnd(20)} ${v ?? 'not installed'}`),
    ];
    return { ok: true, lines, data };
  },
});
