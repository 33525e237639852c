import { cpus, totalmem } from 'node:os';
import { initBackend } from '@vitkit/core/node';
import { defineCommand } from '../command.js';
import { packageVersion, VITKIT_PACKAGES } from '../versions.js';

export const info = defineCommand({
  name: 'info',
  summary: 'backend, its version and threads, Node and package versions',
  usage: 'vitkit info [--json]',
  options: [],
  async run() {
    const backend = await initBackend({ quiet: true });
    const packages = Object.fromEntries(VITKIT_PACKAGES.map((p) => [p, packageVersion(p)]));
    const data = {
      backend: backend.backend,
      provider: backend.provider,
      tfjs: backend.tfjsVersion,
      threads: backend.threads,
      simd: backend.simd,
      fallbacks: backend.fallbacks,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      packages,
    };
    const lines = [
      `backend   ${data.backend} (${data.provider} ${data.tfjs}), ${data.threads} thread(s)${data.simd === null ? '' : `, SIMD ${data.simd ? 'on' : 'off'}`}`,
      ...data.fallbacks.map((f) => `          not used: ${f}`),
      `node      ${data.node} ${data.platform}`,
      `machine   ${data.cpus} x ${data.cpuModel}, ${data.memoryGiB} GiB`,
      ...Object.entries(packages).map(([p, v]) => `${p.padEnd(20)} ${v ?? 'not installed'}`),
    ];
    return { ok: true, lines, data };
  },
});
