// Compares a model with a reference export: logits and every intermediate the
// family's adapter can map, as max absolute differences against a tolerance.
import * as tf from '@tensorflow/tfjs-core';
import { loadWeights } from './load-weights.js';
import type { StateDict } from './module.js';
import { getReferenceAdapter } from './reference.js';

/** The fixture's config.json (the fields parity needs). */
export interface ParityConfig {
  name: string;
  family: string;
  /** Which reference implementation made the export; picks the adapter when the family has several. */
  reference?: string;
  reference_args: Record<string, unknown>;
  num_params?: number;
  tolerance: { max_abs: number };
}

export interface ParityRow {
  /** 'logits' or the reference sub-module, e.g. 'blocks.0'. */
  tensor: string;
  shape: number[];
  maxAbs: number;
  ok: boolean;
}

export interface ParityReport {
  fixture: string;
  family: string;
  numParams: number;
  expectedParams: number | null;
  tolerance: number;
  rows: ParityRow[];
  /** Intermediates in the fixture that the adapter does not produce. */
  unmapped: string[];
  ok: boolean;
}

/** Builds the reference model, loads its weights strictly (`source` names them in errors) and compares on the fixture's input. */
export async function runParity(
  config: ParityConfig,
  weights: StateDict,
  io: StateDict,
  source = `${config.name} weights`,
): Promise<ParityReport> {
  const adapter = getReferenceAdapter(config.family, config.reference);
  const model = adapter.fromReferenceConfig(config.reference_args);
  try {
    loadWeights(model, weights, { family: config.family, reference: config.reference, source });
    model.eval();
    const input = io['input'];
    if (!input) throw new Error(`${config.name}: io.safetensors has no 'input'`);
    const tol = config.tolerance.max_abs;
    const unmapped: string[] = [];
    // The largest differences stay on the backend until all are computed, then come back in one read.
    const compared: { name: string; shape: number[] }[] = [];
    const maxAbs = tf.tidy(() => {
      const x = tf.transpose(input, [0, 2, 3, 1]) as tf.Tensor4D;
      const { logits, intermediates } = adapter.forwardWithIntermediates(model, x);
      const diffs: tf.Scalar[] = [];
      const compare = (name: string, got: tf.Tensor, want: tf.Tensor) => {
        if (got.shape.join() !== want.shape.join()) {
          throw new Error(`${config.name}: '${name}' has shape [${got.shape}], the reference [${want.shape}]`);
        }
        compared.push({ name, shape: [...want.shape] });
        diffs.push(tf.max(tf.abs(tf.sub(got, want))));
      };
      compare('logits', logits, io['logits']!);
      for (const key of Object.keys(io).sort()) {
        if (!key.startsWith('inter.')) continue;
        const name = key.slice('inter.'.length);
        const got = intermediates[name];
        if (got) compare(name, got, io[key]!);
        else unmapped.push(name);
      }
      return tf.stack(diffs);
    });
    const values = await maxAbs.data();
    maxAbs.dispose();
    const rows: ParityRow[] = compared.map((c, i) => ({ tensor: c.name, shape: c.shape, maxAbs: values[i]!, ok: values[i]! <= tol }));
    return {
      fixture: config.name,
      family: config.family,
      numParams: model.numParams(),
      expectedParams: config.num_params ?? null,
      tolerance: tol,
      rows,
      unmapped,
      ok: rows.every((r) => r.ok) && (config.num_params === undefined || config.num_params === model.numParams()),
    };
  } finally {
    model.dispose();
  }
}
