import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import { commands } from '../src/commands/index.js';
import { vitkit } from './cli-helpers.js';

const envBackend = process.env['VITKIT_BACKEND'];

describe('vitkit command line', () => {
  it('lists the commands and exits 2 without one', async () => {
    const r = await vitkit();
    expect(r.code).toBe(2);
    for (const c of commands) expect(r.stdout.join('\n')).toContain(c.name);
  });

  it('gives every command --help (exit 0) and rejects unknown options with exit 2', async () => {
    for (const c of commands) {
      const help = await vitkit(c.name, '--help');
      expect(help.code, c.name).toBe(0);
      expect(help.stdout.join('\n')).toContain(`usage: ${c.usage}`);
      const bad = await vitkit(c.name, '--no-such-option');
      expect(bad.code, c.name).toBe(2);
      expect(bad.stderr.join('\n')).toContain('unknown option --no-such-option');
    }
    expect((await vitkit('frobnicate')).code).toBe(2);
  });

  it('info reports the backend in use (WebAssembly here, as tfjs-node cannot install)', async () => {
    const r = await vitkit('info', '--json');
    expect(r.code).toBe(0);
    const data = r.json() as { backend: string; tfjs: string; threads: number; node: string; packages: Record<string, string | null> };
    expect(data.backend).toBe(process.env['VITKIT_BACKEND'] ?? 'wasm');
    expect(data.tfjs).toBe('4.22.0');
    expect(data.threads).toBeGreaterThanOrEqual(1);
    expect(data.node).toBe(process.version);
    expect(data.packages['@vitkit/core']).toMatch(/^\d+\.\d+\.\d+/);
    const more = data as unknown as { wasmKernels: { installed: boolean } | null; gpu: unknown; flags: Record<string, unknown> };
    if (data.backend === 'wasm') {
      expect(more.wasmKernels).toMatchObject({ installed: true });
      expect(r.stderr.join('\n')).toContain("kernels   vitkit's Identity, Slice, SplitV, BatchMatMul");
      expect(more.flags['WASM_HAS_SIMD_SUPPORT']).toBe(true);
    }
    expect(more.gpu).toBeNull();
  });

  it('--backend chooses the backend for the command and is checked', async () => {
    const r = await vitkit('info', '--backend', 'cpu', '--json');
    expect(r.code).toBe(0);
    expect((r.json() as { backend: string }).backend).toBe('cpu');
    expect(process.env['VITKIT_BACKEND']).toBe(envBackend);
    const bad = await vitkit('info', '--backend', 'gpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('\n')).toContain("--backend must be one of webgpu, tensorflow, wasm, cpu (got 'gpu')");
    await initBackend({ backend: (envBackend ?? 'wasm') as 'wasm', quiet: true });
  });

  it('inspect lists every tensor and counts the parameters of a reference checkpoint', async () => {
    const file = join(fixtureDir('vitc_tiny'), 'weights.safetensors');
    const config = JSON.parse(await readFile(join(fixtureDir('vitc_tiny'), 'config.json'), 'utf8')) as { num_params: number };
    const r = await vitkit('inspect', file, '--json');
    expect(r.code).toBe(0);
    const data = r.json() as { tensors: { name: string; dtype: string; shape: number[] }[]; parameters: number };
    // BatchNorm running statistics are float tensors but not parameters; num_batches_tracked is I64.
    const runningStats = data.tensors.filter((t) => t.name.includes('running_')).reduce((n, t) => n + t.shape[0]!, 0);
    expect(data.parameters - runningStats).toBe(config.num_params);
    expect(data.tensors.find((t) => t.name === 'stem.cstem0_bn.num_batches_tracked')).toEqual({
      name: 'stem.cstem0_bn.num_batches_tracked',
      dtype: 'I64',
      shape: [],
      numel: 1,
    });
    expect(r.stderr.join('\n')).toContain('stem.cstem0_conv.weight');
  });

  it('inspect exits 1 naming the file and the reason for a malformed file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitkit-inspect-'));
    const file = join(dir, 'broken.safetensors');
    const header = Buffer.alloc(8);
    header.writeBigUInt64LE(1n << 40n);
    await writeFile(file, Buffer.concat([header, Buffer.from('{}')]));
    const r = await vitkit('inspect', file, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain(file);
    expect(r.stderr.join('\n')).toMatch(/header length \d+ runs past the end/);
    expect((r.json() as { error: string }).error).toContain(file);
    const missing = await vitkit('inspect', join(dir, 'absent.safetensors'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.join('\n')).toContain('ENOENT');
    expect((await vitkit('inspect')).code).toBe(2);
  });
});
