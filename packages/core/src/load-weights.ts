// The one way weights get into a model, for every command and API: a
// checkpoint in vitkit's names or a reference library's (timm, the official
// repositories, pycls) is renamed through the family's reference adapter,
// its learned position embeddings are resampled to the model's token grid (as
// timm does when a model is created at another image size), and it is
// checked key by key. Strict by default; for fine-tuning only the classifier
// may be dropped, as timm's load_pretrained does when the class count changes.
import * as tf from '@tensorflow/tfjs-core';
import type { ImageClassifier } from './classifier.js';
import { resamplePositionEmbedding } from './layers/position-embedding.js';
import { type LoadReport, type StateDict, StateDictError } from './module.js';
import { getReferenceAdapter, type PositionEmbeddingSlot } from './reference.js';
import { registeredEntryOf } from './registry.js';
import { decodeSafetensors } from './safetensors.js';

/** The module holding the classifier in every family here (timm's `default_cfg['classifier']`). */
const CLASSIFIER = 'head';

/** The prefix DataParallel and DistributedDataParallel training put before every key. */
const DATA_PARALLEL_PREFIX = 'module.';

export interface LoadWeightsOptions {
  /**
   * The model's family ('vit', 'hybrid-stem', 'cswin', 'crossvit'): its adapter
   * renames foreign keys. Known for a model built by `createModel`; needed for
   * one constructed directly.
   */
  family?: string;
  /**
   * Which of the family's references the model mirrors (its registry entry's
   * `implementation`, e.g. 'pycls ...' or 'timm ...'), where the family has several.
   */
  reference?: string;
  /** Where the weights come from (a file name), for the messages. */
  source?: string;
  /** Throw one error listing every missing, unexpected and mis-shaped key (default true). */
  strict?: boolean;
  /**
   * Fine-tuning: drop the checkpoint's classifier keys that do not fit the
   * model (another class count, or a model without a head) and keep the
   * model's fresh classifier. Every other key is still checked.
   */
  dropClassifier?: boolean;
  /** The checkpoint's token grid per position-embedding key, where it is not square (as timm assumes). */
  checkpointGrids?: Record<string, [number, number]>;
}

export interface WeightsReport extends LoadReport {
  /** Tensors of the model that took the checkpoint's values. */
  loaded: number;
  /** Position embeddings resampled to the model's grid. */
  resampled: { key: string; from: [number, number]; to: [number, number] }[];
  /** Classifier keys of the checkpoint left out (`dropClassifier`), with their shapes. */
  dropped: string[];
  /** What loading changed, in words, for the user to see (empty when the checkpoint loaded as it was). */
  notes: string[];
}

/** The keys of a report's `mismatched` entries (`name: got [..], expected [..]`). */
function misShapedKeys(report: LoadReport): Set<string> {
  return new Set(report.mismatched.map((m) => m.slice(0, m.indexOf(':'))));
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function squareGrid(t: tf.Tensor, slot: PositionEmbeddingSlot, source: string): [number, number] {
  const patches = t.shape[1]! - slot.prefixTokens;
  const side = Math.round(Math.sqrt(patches));
  if (!(patches > 0) || side * side !== patches) {
    throw new Error(
      `${source}: '${slot.key}' ${shapeText(t.shape)} has ${patches} entries after ${slot.prefixTokens} prefix token(s), not a square ` +
        `grid to resample to the model's ${slot.grid.join('x')}; give the checkpoint's grid in checkpointGrids`,
    );
  }
  return [side, side];
}

/**
 * Loads `sd` (PyTorch layouts, any of the family's naming conventions) into
 * `model` and reports what it did. Throws before changing anything when the
 * checkpoint does not fit (unless `strict: false`). The caller keeps
 * ownership of `sd`; every tensor made on the way is freed here.
 */
export function loadWeights(model: ImageClassifier, sd: StateDict, options: LoadWeightsOptions = {}): WeightsReport {
  const source = options.source ?? 'checkpoint';
  const entry = registeredEntryOf(model);
  const family = options.family ?? entry?.defaults.family;
  if (!family) throw new Error(`loadWeights: ${model.constructor.name} was not built by createModel; pass its family`);
  const adapter = getReferenceAdapter(family, options.reference ?? entry?.defaults.implementation);
  const unprefixed: StateDict = {};
  for (const [key, t] of Object.entries(sd)) {
    unprefixed[key.startsWith(DATA_PARALLEL_PREFIX) ? key.slice(DATA_PARALLEL_PREFIX.length) : key] = t;
  }
  const converted = adapter.convertStateDict(unprefixed);
  const originals = new Set(Object.values(sd));
  try {
    const shapes = model.stateShapes();
    const notes: string[] = [];
    const resampled: WeightsReport['resampled'] = [];
    for (const slot of adapter.positionEmbeddings?.(model) ?? []) {
      const t = converted[slot.key];
      const want = shapes[slot.key];
      if (!t || !want || t.rank !== 3 || t.shape[2] !== want[2] || t.shape[1] === want[1]) continue;
      const from = options.checkpointGrids?.[slot.key] ?? squareGrid(t, slot, source);
      const to: [number, number] = [slot.grid[0], slot.grid[1]];
      converted[slot.key] = resamplePositionEmbedding(t, from, to, { prefixTokens: slot.prefixTokens, mode: 'bicubic' });
      if (!originals.has(t)) t.dispose();
      resampled.push({ key: slot.key, from: [from[0], from[1]], to });
      notes.push(`${slot.key} resampled bicubically from a ${from.join('x')} to a ${to.join('x')} token grid`);
    }

    const dropped: string[] = [];
    let report = model.checkStateDict(converted);
    if (options.dropClassifier) {
      const isClassifier = (key: string) => key.startsWith(`${CLASSIFIER}.`);
      const unfit = misShapedKeys(report);
      for (const key of Object.keys(converted)) {
        if (isClassifier(key) && (unfit.has(key) || !(key in shapes))) {
          const t = converted[key]!;
          dropped.push(`${key} ${shapeText(t.shape)}`);
          if (!originals.has(t)) t.dispose();
          delete converted[key];
        }
      }
      const fresh = report.missing.filter(isClassifier);
      report = model.checkStateDict(converted);
      report.missing = report.missing.filter((k) => !isClassifier(k));
      if (dropped.length)
        notes.push(`dropped the checkpoint's classifier (${dropped.join(', ')}); the model's new one is trained from scratch`);
      else if (fresh.length)
        notes.push(`the checkpoint has no classifier; the model's new one (${fresh.join(', ')}) is trained from scratch`);
    }
    const problems = report.missing.length + report.unexpected.length + report.mismatched.length;
    if (problems > 0 && (options.strict ?? true)) {
      const unexpected = Object.fromEntries(report.unexpected.map((k) => [k, converted[k]!.shape]));
      throw new StateDictError(report, source, { ...shapes, ...unexpected });
    }
    model.loadStateDict(converted, { strict: false });
    const misShaped = misShapedKeys(report);
    const loaded = Object.keys(shapes).filter((k) => k in converted && !misShaped.has(k)).length;
    if (problems > 0) {
      const parts = [
        report.missing.length ? `missing, left at their initial values: ${report.missing.join(', ')}` : '',
        report.unexpected.length ? `unexpected, ignored: ${report.unexpected.join(', ')}` : '',
        report.mismatched.length ? `mis-shaped, ignored: ${report.mismatched.join('; ')}` : '',
      ];
      notes.push(`loaded non-strictly (${parts.filter(Boolean).join('; ')})`);
    }
    return { ...report, loaded, resampled, dropped, notes };
  } finally {
    // The adapter and the resampling may make new tensors; the caller's stay theirs.
    tf.dispose(Object.values(converted).filter((t) => !originals.has(t)));
  }
}

/**
 * The learned position embeddings of a model whose token grids are square:
 * every `pos_embed` or `pos_embed.<branch>` in its state, each with
 * `prefixTokens` entries before the grid. Read from the model's own shapes, so
 * it serves any class that keeps timm's names.
 */
export function squarePositionEmbeddings(model: ImageClassifier, prefixTokens: number): PositionEmbeddingSlot[] {
  return Object.entries(model.stateShapes())
    .filter(([key, shape]) => /^pos_embed(\.\d+)?$/.test(key) && shape.length === 3)
    .map(([key, shape]) => {
      const side = Math.round(Math.sqrt(shape[1]! - prefixTokens));
      if (side * side !== shape[1]! - prefixTokens) {
        throw new Error(`'${key}' [${shape.join(', ')}] is not ${prefixTokens} prefix token(s) and a square grid`);
      }
      return { key, prefixTokens, grid: [side, side] as [number, number] };
    });
}

/** Safetensors bytes as a page or a server has them: in memory, a fetch Response, or where to fetch them. */
export type WeightsSource = ArrayBuffer | Uint8Array | Response | URL | string;

export interface LoadWeightsFromOptions extends LoadWeightsOptions {
  /** The fetch for a URL (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** Where a weights source came from, for messages: its URL, else `fallback`. */
function sourceName(source: WeightsSource, fallback: string): string {
  if (typeof source === 'string' || source instanceof URL) return String(source);
  return source instanceof Response && source.url ? source.url : fallback;
}

/** The bytes of a weights source (fetched when it is a URL); errors name the URL. */
export async function weightsBytes(source: WeightsSource, options: { fetch?: typeof fetch } = {}): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  const where = sourceName(source, 'the weights response');
  let response = source;
  if (!(response instanceof Response)) {
    try {
      response = await (options.fetch ?? fetch)(where);
    } catch (e) {
      throw new Error(`${where}: cannot fetch (${(e as Error).message})`, { cause: e });
    }
  }
  if (!response.ok) throw new Error(`${where}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * `loadWeights` from a safetensors file in memory or at a URL, for a page or
 * a server without a file system: decodes it, loads it into `model`, frees
 * the decoded tensors. Messages name `options.source`, else the URL.
 */
export async function loadWeightsFrom(
  model: ImageClassifier,
  source: WeightsSource,
  options: LoadWeightsFromOptions = {},
): Promise<WeightsReport> {
  const { fetch: fetchFn, ...loadOptions } = options;
  const name = loadOptions.source ?? sourceName(source, 'safetensors data');
  const sd = decodeSafetensors(await weightsBytes(source, fetchFn ? { fetch: fetchFn } : {}), name);
  try {
    return loadWeights(model, sd, { ...loadOptions, source: name });
  } finally {
    tf.dispose(Object.values(sd));
  }
}
