// Helpers shared by every package's tests: where the reference fixtures and
// tables live (../shared beside the repository), tensor comparison, and the
// checks every registered model must pass (as timm's test_models).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, getModelEntry } from '@vitkit/core';
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

export function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-4): void {
  expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(tol);
}

/**
 * The checks every registered model gets on a tiny input: forward shape,
 * finite gradients reaching every parameter, a state-dict round trip that
 * reproduces the output, and no tensor leaked across repeated steps.
 */
export function checkRegisteredModel(name: string, options: Record<string, unknown> & { imgSize: number }): void {
  const entry = getModelEntry(name);
  const numClasses = 7;
  const model = createModel(name, { ...options, numClasses });
  const other = createModel(name, { ...options, numClasses });
  try {
    const c = entry.defaults.inChannels;
    const x = tf.randomNormal([2, options.imgSize, options.imgSize, c], 0, 1, 'float32', 3);
    const labels = tf.oneHot(tf.tensor1d([1, 4], 'int32'), numClasses);
    model.eval();
    const y0 = tf.tidy(() => model.forward(x));
    expect(y0.shape).toEqual([2, numClasses]);
    expect(Number.isFinite(tf.sum(y0).dataSync()[0]!)).toBe(true);
    y0.dispose();

    model.train();
    const step = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forward(x)) as tf.Scalar, model.parameters());
        const norms = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.sum(tf.abs(g)).dataSync()[0]!]));
        return norms;
      });
    const norms = step();
    const named = model.namedParameters();
    const zero = named.filter(([, v]) => !(norms[v.name]! > 0) || !Number.isFinite(norms[v.name]!)).map(([n]) => n);
    expect(zero, 'parameters without a finite non-zero gradient').toEqual([]);
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);

    // After the training steps (which move BatchNorm's running statistics), so
    // the round trip compares the state that is actually saved.
    model.eval();
    other.eval();
    const y = tf.tidy(() => model.forward(x));
    const sd = model.stateDict();
    other.loadStateDict(sd);
    tf.dispose(Object.values(sd));
    const y2 = tf.tidy(() => other.forward(x));
    expectClose(y, y2, 1e-6);
    tf.dispose([x, labels, y, y2]);
  } finally {
    model.dispose();
    other.dispose();
  }
}

/**
 * Runs `code` (an ES module that may import `@vitkit/core/node`) in a fresh Node process with
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
      alias: { '@vitkit/core/node': `${repoRoot}packages/core/src/node.ts`, '@vitkit/core': `${repoRoot}packages/core/src/index.ts` },
      packages: 'external',
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
