import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  createModel,
  exportOnnx,
  getReferenceAdapter,
  type ImageClassifier,
  loadWeights,
  type OnnxModel,
  type StateDict,
} from '@vitkit/core';
import { loadSafetensors, saveSafetensors } from '@vitkit/node';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { Prediction } from '../src/commands/predict.js';
import { encodeOnnx } from '../src/onnx/encode.js';
import { vitkit } from './cli-helpers.js';
import { hasOnnxRuntime, loadOnnxRuntime } from '../src/onnx/runtime.js';
import '../src/register-models.js';

const parityDir = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'parity');
const FIXTURES = [
  'vit_tiny',
  'vitc_tiny',
  'vitp_tiny',
  'cswin_tiny',
  'crossvit_tiny',
  'crossvit_dagger_tiny',
  'vit_hybrid_tiny',
  'vit_hybrid_stem_tiny',
];

interface Fixture {
  model: ImageClassifier;
  input: tf.Tensor4D;
  reference: tf.Tensor;
}

async function loadFixture(name: string): Promise<Fixture> {
  const dir = join(parityDir, name);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as {
    family: string;
    reference: string;
    reference_args: Record<string, unknown>;
  };
  const model = getReferenceAdapter(config.family, config.reference).fromReferenceConfig(config.reference_args);
  const weights: StateDict = await loadSafetensors(join(dir, 'weights.safetensors'));
  loadWeights(model, weights, { family: config.family, reference: config.reference, source: name });
  tf.dispose(Object.values(weights));
  const io = await loadSafetensors(join(dir, 'io.safetensors'));
  const input = io['input'] as tf.Tensor4D;
  const reference = io['logits']!;
  for (const [k, t] of Object.entries(io)) if (k !== 'input' && k !== 'logits') t.dispose();
  return { model: model.eval(), input, reference };
}

/** Every node input is a graph input, an initializer or an earlier node's output; names are unique. */
function checkStructure(m: OnnxModel): void {
  const defined = new Set<string>([...m.inputs.map((i) => i.name), ...m.initializers.map((t) => t.name)]);
  expect(defined.size).toBe(m.inputs.length + m.initializers.length);
  for (const t of m.initializers) expect(t.data.length).toBe(t.dims.reduce((a, d) => a * d, 1));
  for (const node of m.nodes) {
    for (const input of node.inputs)
      if (input !== '') expect(defined.has(input), `${node.name}: input ${input} used before it is defined`).toBe(true);
    for (const out of node.outputs) {
      expect(defined.has(out), `${node.name}: output ${out} defined twice`).toBe(false);
      defined.add(out);
    }
  }
  for (const out of m.outputs) expect(defined.has(out.name)).toBe(true);
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe.skipIf(!hasOnnxRuntime())('exportOnnx on ONNX Runtime', () => {
  const cases = [...FIXTURES.map((name) => [name, 17] as const), ['cswin_tiny', 18] as const, ['vit_tiny', 20] as const];
  for (const [name, opset] of cases) {
    it(`${name} (opset ${opset}): ORT logits equal vitkit's and the reference's`, async () => {
      const { model, input, reference } = await loadFixture(name);
      try {
        const mine = tf.tidy(() => model.forward(tf.transpose(input, [0, 2, 3, 1]))).dataSync() as Float32Array;
        const graph = exportOnnx(model, { batchSize: input.shape[0], opset });
        checkStructure(graph);
        const ort = loadOnnxRuntime();
        const session = await ort.InferenceSession.create(encodeOnnx(graph));
        expect(session.inputNames).toEqual(['pixel_values']);
        expect(session.outputNames).toEqual(['logits']);
        const feeds = { pixel_values: new ort.Tensor('float32', input.dataSync() as Float32Array, input.shape) };
        const { logits } = await session.run(feeds);
        expect(logits!.dims).toEqual(reference.shape);
        const got = logits!.data as Float32Array;
        const vsVitkit = maxAbs(got, mine);
        const vsReference = maxAbs(got, reference.dataSync() as Float32Array);
        if (opset >= 20) expect(graph.nodes.some((n) => n.opType === 'Gelu')).toBe(true);
        else expect(graph.nodes.some((n) => n.opType === 'Erf')).toBe(true);
        if (name.startsWith('vit_hybrid')) {
          // GroupNorm as LayerNormalization over [B, G, -1]; TensorFlow's "SAME" as static pads, the extra pixel after.
          expect(graph.nodes.some((n) => n.opType === 'GroupNormalization')).toBe(false);
          const pads = graph.nodes
            .filter((n) => n.opType === 'MaxPool' || n.opType === 'Conv')
            .map((n) => n.attributes['pads']!.value as number[]);
          expect(pads.some(([top, left, bottom, right]) => bottom! > top! && right! > left!)).toBe(true);
        }
        console.log(
          `${name} (opset ${opset}): ORT vs vitkit ${vsVitkit.toExponential(2)}, ORT vs reference ${vsReference.toExponential(2)}, ${graph.nodes.length} nodes`,
        );
        expect(vsVitkit).toBeLessThan(1e-4);
        expect(vsReference).toBeLessThan(1e-4);
        await session.release();
      } finally {
        model.dispose();
        tf.dispose([input, reference]);
      }
    });
  }
});

describe.skipIf(!hasOnnxRuntime())('exportOnnx --dynamic-batch', () => {
  it('a 224 ViT runs at batch 1 and 8 with the logits of vitkit', async () => {
    const model = createModel('vit_tiny_patch16_224', { depth: 2 }).eval();
    try {
      const graph = exportOnnx(model, { dynamicBatch: true });
      checkStructure(graph);
      expect(JSON.parse(graph.metadata['pretrained_cfg']!)).toMatchObject({
        input_size: [3, 224, 224],
        crop_pct: 0.9,
        interpolation: 'bicubic',
      });
      expect(graph.metadata['architecture']).toBe('vit_tiny_patch16_224');
      const ort = loadOnnxRuntime();
      const session = await ort.InferenceSession.create(encodeOnnx(graph));
      const meta = session.inputMetadata[0] as { name: string; isTensor: boolean; shape?: (number | string)[] };
      expect(meta).toMatchObject({ name: 'pixel_values', isTensor: true, shape: ['batch', 3, 224, 224] });
      expect((session.outputMetadata[0] as { shape?: unknown[] }).shape).toEqual(['batch', 1000]);
      for (const batch of [1, 8]) {
        const x = tf.randomNormal([batch, 3, 224, 224], 0, 1, 'float32', batch) as tf.Tensor4D;
        const mine = tf.tidy(() => model.forward(tf.transpose(x, [0, 2, 3, 1]))).dataSync() as Float32Array;
        const { logits } = await session.run({ pixel_values: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
        x.dispose();
        expect(logits!.dims).toEqual([batch, 1000]);
        expect(maxAbs(logits!.data as Float32Array, mine)).toBeLessThan(1e-4);
      }
      await session.release();
    } finally {
      model.dispose();
    }
  });
});

/** The initializers whose dtype, dims and values equal an earlier one's, by name. */
function duplicateInitializers(m: OnnxModel): string[] {
  const seen = new Map<string, string>();
  const duplicates: string[] = [];
  for (const t of m.initializers) {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64');
    const key = `${t.data.constructor.name}[${t.dims.join(',')}]${bytes}`;
    const first = seen.get(key);
    if (first) duplicates.push(`${t.name} = ${first}`);
    else seen.set(key, t.name);
  }
  return duplicates;
}

describe('exportOnnx constants', () => {
  it('a ResNet hybrid stores each constant once: one unit scale per GroupNorm group size', () => {
    const model = createModel('vit_hybrid_micro_32').eval();
    try {
      // Random parameters, so that only constants can repeat (at init every norm's weight is ones and its bias zeros).
      tf.tidy(() => {
        for (const [i, p] of model.parameters().entries()) p.assign(tf.randomNormal(p.shape, 0, 1, 'float32', i));
      });
      const graph = exportOnnx(model);
      checkStructure(graph);
      expect(duplicateInitializers(graph)).toEqual([]);
      const layerNorms = graph.nodes.filter((n) => n.opType === 'LayerNormalization');
      const groupNorms = layerNorms.filter((n) => n.name.startsWith('patch_embed.backbone.'));
      const groupSizes = new Set(groupNorms.map((n) => graph.initializers.find((t) => t.name === n.inputs[1])!.dims[0]));
      // The stem's norm (32 channels at 16x16), the bottleneck's mid norms (32 at 8x8) and its output and shortcut norms (128 at 8x8).
      expect([...groupSizes].sort((a, b) => a! - b!)).toEqual([64, 256]);
      expect(groupNorms.length).toBe(5);
      expect(new Set(groupNorms.map((n) => n.inputs[1])).size).toBe(groupSizes.size);
      // No bias input: LayerNormalization's is optional and zero when absent.
      expect(groupNorms.every((n) => n.inputs.length === 2)).toBe(true);
    } finally {
      model.dispose();
    }
  });
});

describe('exportOnnx errors', () => {
  const tiny = { imgSize: 32, depth: 1 };
  it('names the layer whose options cannot be exported', () => {
    const model = createModel('vit_tiny_patch16_224', { ...tiny, localityAttention: true }).eval();
    expect(() => exportOnnx(model)).toThrow(/^blocks\.0\.attn: locality self-attention .* cannot be exported/);
    model.dispose();
  });
  it('names a layer without a lowering', () => {
    const model = createModel('vit_tiny_patch16_224', { ...tiny, shiftedPatches: true }).eval();
    expect(() => exportOnnx(model)).toThrow(/^patch_embed: ShiftedPatchEmbed has no ONNX lowering/);
    model.dispose();
  });
  it('refuses a model in training mode and an opset without LayerNormalization', () => {
    const model = createModel('vit_tiny_patch16_224', tiny);
    expect(() => exportOnnx(model)).toThrow(/^VisionTransformer: the model is in training mode/);
    expect(() => exportOnnx(model.eval(), { opset: 14 })).toThrow(/opset 14 is not supported/);
    model.dispose();
  });
});

describe.skipIf(!hasOnnxRuntime())('vitkit export', () => {
  it("writes a checkpoint as an ONNX file whose logits are the model's; predict --runtime onnx agrees with TF.js", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitkit-export-'));
    const model = createModel('vit_tiny_patch16_224', { imgSize: 64, numClasses: 10 }).eval();
    try {
      const sd = model.stateDict();
      await saveSafetensors(join(dir, 'w.safetensors'), sd);
      tf.dispose(Object.values(sd));
      const out = join(dir, 'model.onnx');
      const args = [
        '--model',
        'vit_tiny_patch16_224',
        '--checkpoint',
        join(dir, 'w.safetensors'),
        '--img-size',
        '64',
        '--num-classes',
        '10',
      ];
      const run = await vitkit('export', ...args, '--out', out, '--batch-size', '2', '--json');
      expect(run.code, run.stderr.join('\n')).toBe(0);
      expect(run.json()).toMatchObject({ file: out, opset: 17, input: [2, 3, 64, 64], output: [2, 10] });
      const ort = loadOnnxRuntime();
      const session = await ort.InferenceSession.create(out);
      const x = tf.randomNormal([2, 3, 64, 64], 0, 1, 'float32', 3) as tf.Tensor4D;
      const mine = tf.tidy(() => model.forward(tf.transpose(x, [0, 2, 3, 1]))).dataSync() as Float32Array;
      const { logits } = await session.run({ pixel_values: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
      x.dispose();
      expect(maxAbs(logits!.data as Float32Array, mine)).toBeLessThan(1e-4);
      await session.release();
      const image = join(dir, 'noise.png');
      const pixels = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 251));
      await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } })
        .png()
        .toFile(image);
      const predictArgs = ['predict', '--model', 'vit_tiny_patch16_224', '--checkpoint', join(dir, 'w.safetensors'), '--num-classes', '10'];
      const viaTfjs = await vitkit(...predictArgs, image, '--json');
      const viaOnnx = await vitkit(...predictArgs, image, '--runtime', 'onnx', '--cache-dir', join(dir, 'cache'), '--json');
      expect(viaOnnx.code, viaOnnx.stderr.join('\n')).toBe(0);
      const [a, b] = [viaTfjs, viaOnnx].map((r) => (r.json() as Prediction[])[0]!.top);
      expect(b!.map((t) => t.index)).toEqual(a!.map((t) => t.index));
      for (const [i, t] of b!.entries()) expect(t.probability).toBeCloseTo(a![i]!.probability, 5);
      const bad = await vitkit('export', '--model', 'vit_micro_32', '--out', join(dir, 'micro.onnx'));
      expect(bad.code).toBe(1);
      expect(bad.stderr.join('\n')).toMatch(/vit_micro_32: patch_embed: ShiftedPatchEmbed has no ONNX lowering/);
    } finally {
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
