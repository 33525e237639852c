// Helpers shared by every package's tests: where the reference fixtures and
// tables live (../shared beside the repository), tensor comparison, and Node
// child processes of the TypeScript sources. The checks every registered model
// gets are packages/bench/test/registry-models.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { type FeatureTensors, type ImageClassifier, type Module } from '@vitkit/core';
import { expect } from 'vitest';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const sharedDir = fileURLToPath(new URL('../../shared/', import.meta.url));

export function fixtureDir(name: string): string {
  return `${sharedDir}fixtures/parity/${name}`;
}

export interface ReferenceRow {
  reference: string;
  input_size: number;
  num_classes: number;
  params: number;
  macs: number;
  macs_exact?: boolean;
  paper: { params_M: number | null; gflops: number | null; top1: number | null };
}

let rows: ReferenceRow[] | null = null;
/** A row of ../shared/tables/reference-models.json by its `reference` name. */
export function referenceRow(reference: string): ReferenceRow {
  rows ??= (JSON.parse(readFileSync(`${sharedDir}tables/reference-models.json`, 'utf8')) as { rows: ReferenceRow[] }).rows;
  const row = rows.find((r) => r.reference === reference);
  if (!row) throw new Error(`no row '${reference}' in reference-models.json`);
  return row;
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** A file from a header (object or raw text) and a data section, with an optional lying header length. */
export function craftSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0), headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

export function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-4): void {
  expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(tol);
}

/** A model with timm's features API (forwardFeatures, forwardHead, resetClassifier). */
export interface FeaturesModel extends ImageClassifier {
  readonly head: Module;
  numClasses: number;
  forwardFeatures(x: tf.Tensor): FeatureTensors;
  forwardHead(features: FeatureTensors, options?: { preLogits?: boolean }): tf.Tensor;
  resetClassifier(numClasses: number): void;
}

/**
 * resetClassifier as timm's users rely on it, on x [B, H, W, C]: a zero head
 * for the new class count (zero logits) in the model's train/eval mode, 0
 * classes giving forwardHead's pre-logits, the cost following the head, and
 * the old head's tensors freed. Leaves the model in train mode.
 */
export function checkResetClassifier(model: FeaturesModel, x: tf.Tensor): void {
  const headModes = () => model.head.namedModules().map(([, m]) => m.training);
  model.eval();
  const headTensors = model.head.parameters().length;
  const before = tf.memory().numTensors;
  model.resetClassifier(3);
  expect(tf.memory().numTensors).toBe(before);
  expect(model.numClasses).toBe(3);
  expect(headModes().every((t) => !t)).toBe(true);
  expect(model.complexity().params).toBe(model.numParams());
  tf.tidy(() => {
    const logits = model.forward(x);
    expect(logits.shape).toEqual([x.shape[0], 3]);
    expect(tf.max(tf.abs(logits)).dataSync()[0]).toBe(0);
  });

  model.resetClassifier(0);
  expect(tf.memory().numTensors).toBe(before - headTensors);
  expect(model.numClasses).toBe(0);
  expect(Object.keys(model.stateShapes()).filter((k) => k.startsWith('head.'))).toEqual([]);
  expect(model.complexity().params).toBe(model.numParams());
  tf.tidy(() => expectClose(model.forward(x), model.forwardHead(model.forwardFeatures(x), { preLogits: true }), 0));

  model.train();
  model.resetClassifier(5);
  expect(headModes().every((t) => t)).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
  expect(() => model.resetClassifier(-1)).toThrow(/numClasses must be a whole number >= 0 \(got -1\)/);
  expect(() => model.resetClassifier(2.5)).toThrow(/numClasses must be a whole number >= 0 \(got 2.5\)/);
}

/**
 * Runs `code` (an ES module that may import `@vitkit/node`) in a fresh Node process with
 * `env` added, the workspace's TypeScript sources bundled by esbuild as vitest resolves them:
 * for what is decided once per process, such as environment variables read at backend start.
 */
export async function runNode(code: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const { build } = await import('esbuild');
  const dir = mkdtempSync(`${repoRoot}node_modules/.vitkit-test-`);
  try {
    const out = `${dir}/main.mjs`;
    await build({
      stdin: { contents: code, resolveDir: repoRoot, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      alias: { '@vitkit/node': `${repoRoot}packages/node/src/index.ts`, '@vitkit/core': `${repoRoot}packages/core/src/index.ts` },
      packages: 'external',
      // As vitest runs the sources: every import evaluated, even side-effect imports of files that a
      // package.json `sideEffects` list names only by their built paths (e.g. @vitkit/node's gradients).
      ignoreAnnotations: true,
      logLevel: 'error',
    });
    return await new Promise((resolve) => {
      execFile(process.execPath, [out], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
