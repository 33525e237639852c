import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { exportOnnx, getReferenceAdapter, type ImageClassifier, loadWeights, type OnnxModel, type StateDict } from '@vitkit/core';
import { loadSafetensors } from '@vitkit/core/node';
import { describe, expect, it } from 'vitest';
import { encodeOnnx } from '../src/onnx/encode.js';
import { hasOnnxRuntime, loadOnnxRuntime } from '../src/onnx/runtime.js';
import '../src/register-models.js';
import { readFileSync } from 'node:fs';

const parityDir = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'parity');
const FIXTURES = ['vit_tiny', 'vitc_tiny', 'vitp_tiny', 'cswin_tiny', 'crossvit_tiny', 'crossvit_dagger_tiny'];

interface Fixture {
  model: ImageClassifier;
  input: tf.Tensor4D;
  reference: tf.Tensor;
}

async function loadFixture(name: string): Promise<Fixture> {
  const dir = join(parityDir, name);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { family: string; reference_args: Record<string, unknown> };
  const model = getReferenceAdapter(config.family).fromReferenceConfig(config.reference_args);
  const weights: StateDict = await loadSafetensors(join(dir, 'weights.safetensors'));
  loadWeights(model, weights, { family: config.family, source: name });
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
  for (const name of FIXTURES) {
    it(`${name}: ORT logits equal vitkit's and the reference's`, async () => {
      const { model, input, reference } = await loadFixture(name);
      try {
        const mine = tf.tidy(() => model.forward(tf.transpose(input, [0, 2, 3, 1]))).dataSync() as Float32Array;
        const graph = exportOnnx(model, { batchSize: input.shape[0] });
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
        console.log(
          `${name}: ORT vs vitkit ${vsVitkit.toExponential(2)}, ORT vs reference ${vsReference.toExponential(2)}, ${graph.nodes.length} nodes`,
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
