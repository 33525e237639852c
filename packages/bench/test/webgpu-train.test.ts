// Training on the WebGPU backend, for real (Dawn over Mesa's llvmpipe where there
// is no GPU): one step against WebAssembly, memory over 100 steps, weights released
// by dispose(), and what `vitkit info` and `vitkit throughput` say about the adapter.
import * as tf from '@tensorflow/tfjs-core';
import { createModel, createOptimizer, localGradients, trainStep } from '@vitkit/core';
import { gpuBufferCounts, gpuErrors, initBackend } from '@vitkit/node';
import { afterEach, describe, expect, it } from 'vitest';
import '../src/register-models.js';
import type { ThroughputCase } from '../src/commands/throughput.js';
import { vitkit } from './cli-helpers.js';

function batchOf(size: number, imgSize: number, classes: number) {
  const shape: [number, number, number, number] = [size, imgSize, imgSize, 3];
  const images = Float32Array.from({ length: size * imgSize * imgSize * 3 }, (_, i) => Math.sin(i * 0.37));
  return { images, shape, labels: Int32Array.from({ length: size }, (_, i) => i % classes) };
}

/**
 * max |a - b| / max |a|, the error relative to the tensor's scale, with the scale at least `floor`:
 * some gradients are zero in exact arithmetic (a key bias: softmax ignores a shift shared by a row),
 * and there both backends return rounding noise, which has no relative error.
 */
function relativeError(a: Float32Array, b: Float32Array, floor: number): number {
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return diff / scale;
}

// WebGPU reports an invalid kernel asynchronously, and tfjs does not listen: its output is zeros.
afterEach(() => {
  expect(gpuErrors()).toEqual([]);
});

describe('kernels vitkit replaces on webgpu', () => {
  it('AddN over more tensors than a shader can bind (clipping by the global norm adds one per parameter)', async () => {
    await initBackend({ backend: 'webgpu', quiet: true });
    const terms = Array.from({ length: 20 }, (_, i) => tf.fill([5], i + 1));
    const sum = tf.tidy(() => tf.addN(terms.map((t) => tf.mul(t, 2))));
    expect(Array.from(await sum.data())).toEqual(new Array(5).fill(420));
    tf.dispose([sum, ...terms]);
  });
});

describe('training on webgpu', () => {
  // Small inputs: llvmpipe is slow. Each family's micro model has its own backward kernels.
  const cases: [string, Record<string, number>][] = [
    ['vit_micro_32', {}],
    ['vitc_micro_32', { imgSize: 16 }],
    ['cswin_micro_32', {}],
    ['crossvit_micro_32', {}],
  ];
  it.each(cases)('one step of %s: loss and every gradient agree with wasm to 1e-3 relative', async (name, options) => {
    await initBackend({ backend: 'wasm', quiet: true });
    const model = createModel(name, options);
    model.train();
    const batch = batchOf(2, model.imgSize[0], model.numClasses);
    const onWasm = await localGradients(model)(batch, 0.1);
    const wasmGrads = new Map<string, Float32Array>();
    for (const [name, g] of onWasm.grads) wasmGrads.set(name, (await g.data()) as Float32Array);
    const largest = Math.max(...[...wasmGrads.values()].map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
    tf.dispose([...onWasm.grads.values()]);

    // The weights move from wasm to webgpu on first use, so both steps start from the same values.
    await initBackend({ backend: 'webgpu', quiet: true });
    expect(tf.getBackend()).toBe('webgpu');
    const onGpu = await localGradients(model)(batch, 0.1);
    expect(Math.abs(onGpu.loss - onWasm.loss) / Math.abs(onWasm.loss)).toBeLessThanOrEqual(1e-3);
    expect([...onGpu.grads.keys()].sort()).toEqual([...wasmGrads.keys()].sort());
    for (const [name, g] of onGpu.grads) {
      const error = relativeError(wasmGrads.get(name)!, (await g.data()) as Float32Array, 1e-5 * largest);
      expect(error, name).toBeLessThanOrEqual(1e-3);
    }
    tf.dispose([...onGpu.grads.values()]);
    model.dispose();
  });

  it('100 AdamW steps keep tensors and GPU buffers flat; dispose() releases the weights', async () => {
    await initBackend({ backend: 'webgpu', quiet: true });
    const backend = tf.backend();
    const tensorsBefore = tf.memory().numTensors;
    const buffersBefore = gpuBufferCounts(backend)!.used;
    const model = createModel('vit_micro_32', { imgSize: 8, depth: 1, embedDim: 16, numHeads: 2 });
    model.train();
    const optimizer = createOptimizer('adamw', model, { weightDecay: 0.05 });
    const gradients = localGradients(model);
    const batch = batchOf(2, 8, model.numClasses);
    const step = (i: number) => trainStep(gradients, optimizer, batch, { lr: 1e-3, step: i, clipGradNorm: 1 });
    // The first steps create AdamW's moments and fill the buffer pool.
    for (let i = 0; i < 5; i++) await step(i);
    const tensors = tf.memory().numTensors;
    const buffers = gpuBufferCounts(backend)!;
    let last = 0;
    for (let i = 5; i < 105; i++) last = (await step(i)).loss;
    expect(Number.isFinite(last)).toBe(true);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(gpuBufferCounts(backend)).toEqual(buffers);
    optimizer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    // tfjs-backend-webgpu releases the buffers of tensors that recorded commands still use at the
    // next submission, which a read causes.
    const flush = tf.tidy(() => tf.sum(tf.ones([256])));
    await flush.data();
    flush.dispose();
    expect(gpuBufferCounts(backend)!.used).toBe(buffersBefore);
  });
});

describe('the vitkit command on webgpu', () => {
  it('info names the adapter, its limits and the webgpu flags', async () => {
    const r = await vitkit('info', '--backend', 'webgpu', '--json');
    expect(r.code).toBe(0);
    const data = r.json() as {
      backend: string;
      gpu: { device: string; api: string; software: boolean; limits: Record<string, number> };
      flags: Record<string, unknown>;
    };
    expect(data.backend).toBe('webgpu');
    expect(data.gpu.device).toBeTruthy();
    expect(['vulkan', 'metal', 'd3d12', 'opengles']).toContain(data.gpu.api);
    expect(data.gpu.limits['maxBufferSize']).toBeGreaterThan(0);
    expect(data.gpu.limits['maxStorageBufferBindingSize']).toBeGreaterThan(0);
    expect(data.flags['WEBGPU_CPU_FORWARD']).toBeTypeOf('boolean');
    const text = r.stderr.join('\n');
    expect(text).toMatch(/^adapter {3}\S/m);
    expect(text).toContain('maxStorageBufferBindingSize');
  });

  it('throughput records the adapter in its JSON', async () => {
    const args = ['--model', 'vit_micro_32', '--img-size', '8', '--batch-size', '1', '--runs', '1', '--warmup', '0'];
    const r = await vitkit('throughput', ...args, '--backend', 'webgpu', '--json');
    expect(r.code).toBe(0);
    const c = r.json() as ThroughputCase;
    expect(c.backend).toBe('webgpu');
    expect(c.adapter?.device).toBeTruthy();
    expect(c.tensor_growth).toBe(0);
  });
});
