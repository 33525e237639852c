// Helpers shared by every package's tests: where the reference fixtures and
// tables live (../shared beside the repository) and tensor comparison. The
// checks every registered model gets are packages/bench/test/registry-models.test.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
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
