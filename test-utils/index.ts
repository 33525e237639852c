// Helpers shared by every package's tests: where the reference fixtures and
// tables live (../shared beside the repository), tensor comparison, and the
// checks every registered model must pass (as timm's test_models).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createModel, type FeatureTensors, getModelEntry, type ImageClassifier, type Module } from '@vitkit/core';
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
