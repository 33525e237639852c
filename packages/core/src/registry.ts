// The model registry, as timm's create_model/list_models: every standard
// configuration is registered by name with its default config, so the bench and
// the tests can build, count and check any model by name.
import { parsePretrainedSource } from './pretrained-source.js';
import type { ImageClassifier } from './classifier.js';
import type { Cost } from './complexity.js';
import type { CropMode } from './data/eval-transform.js';
import { nearestName } from './nearest-name.js';
import type { DeclaredOptions } from './options.js';

/** The reference counts and the paper's figures a registered model must reproduce. */
export interface ReferenceFigures {
  /** Row in ../shared/tables/reference-models.json, e.g. 'timm/vit_small_patch16_224'. */
  reference?: string;
  params?: number;
  macs?: number;
  /** false where the reference MACs are only given to 0.01 G. */
  macsExact?: boolean;
  paperParamsM?: number | null;
  paperGflops?: number | null;
  paperTop1?: number | null;
  paperTop1Source?: string | null;
}

export interface ModelDefaults {
  family: string;
  imgSize: number;
  inChannels: number;
  numClasses: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Center-crop fraction at evaluation, as timm's crop_pct. */
  cropPct: number;
  interpolation: 'bilinear' | 'bicubic';
  /** timm's crop_mode at evaluation; absent means 'center'. */
  cropMode?: CropMode;
  /** The implementation this model mirrors (parity and checkpoints). */
  implementation: string;
  paper: string;
  figures: ReferenceFigures;
}

/** Options every model accepts; families accept more (see their packages). */
export interface CreateOptions {
  numClasses?: number;
  imgSize?: number;
  inChannels?: number;
  dropRate?: number;
  dropPathRate?: number;
  [option: string]: unknown;
}

export interface ModelEntry {
  name: string;
  defaults: ModelDefaults;
  /** The options `create` and `cost` accept (the family's one declaration of them). */
  options: DeclaredOptions;
  create(options?: CreateOptions): ImageClassifier;
  /** Complexity for one image without allocating any weight. */
  cost(options?: CreateOptions): Cost;
}

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
/** timm's ViT default for the original Google weights. */
export const INCEPTION_MEAN: [number, number, number] = [0.5, 0.5, 0.5];
export const INCEPTION_STD: [number, number, number] = [0.5, 0.5, 0.5];

/**
 * The default config of a micro model (`*_micro_32`, the bench's models for
 * 32x32 experiments): 32x32 RGB input, 10 classes, mean/std 0.5, no crop, and
 * no reference figures (nothing published to reproduce). The family gives the
 * rest: its name, interpolation, the implementation it mirrors and the paper.
 */
export function microDefaults(own: Pick<ModelDefaults, 'family' | 'interpolation' | 'implementation' | 'paper'>): ModelDefaults {
  return {
    family: own.family,
    imgSize: 32,
    inChannels: 3,
    numClasses: 10,
    mean: INCEPTION_MEAN,
    std: INCEPTION_STD,
    cropPct: 1,
    interpolation: own.interpolation,
    implementation: own.implementation,
    paper: own.paper,
    figures: {},
  };
}

const registry = new Map<string, ModelEntry>();
/** The entry each model built by `createModel` came from, so its weights load without naming the family again. */
const origins = new WeakMap<ImageClassifier, ModelEntry>();

export function registerModel(entry: ModelEntry): void {
  if (registry.has(entry.name)) throw new Error(`registerModel: '${entry.name}' is already registered`);
  registry.set(entry.name, entry);
}

export function getModelEntry(name: string): ModelEntry {
  const entry = registry.get(name);
  if (!entry) {
    const known = [...registry.keys()].sort();
    const near = nearestName(name, known);
    throw new Error(
      `unknown model '${name}'${near ? `; did you mean ${near}?` : ''} (${known.length} registered; listModels() shows them)`,
    );
  }
  return entry;
}

/**
 * Whether `name` points at pretrained weights (`hf-hub:`, `local-dir:`, or
 * `NAME.TAG` of a registered NAME) rather than a model to build fresh; a
 * malformed name is an error naming it.
 */
export function isPretrainedName(name: string): boolean {
  const source = parsePretrainedSource(name);
  return source.kind !== 'registry' || (source.tag !== null && registry.has(source.name));
}

export function createModel(name: string, options: CreateOptions = {}): ImageClassifier {
  if (isPretrainedName(name)) {
    throw new Error(
      `createModel('${name}'): this name points at pretrained weights, which cannot be fetched synchronously; ` +
        `use await loadPretrained('${name}') from '@vitkit/node'`,
    );
  }
  const entry = getModelEntry(name);
  const model = entry.create(options);
  origins.set(model, entry);
  return model;
}

/** The registry entry a model was built from by `createModel` (undefined for a model constructed directly). */
export function registeredEntryOf(model: ImageClassifier): ModelEntry | undefined {
  return origins.get(model);
}

/**
 * Registered model names, sorted. `filter` is a wildcard pattern ('vit_*', '*384')
 * matched against the whole name; `family` restricts to one family.
 */
export function listModels(filter = '*', options: { family?: string } = {}): string[] {
  const re = new RegExp(`^${filter.split('*').map(escapeRegExp).join('.*')}$`);
  return [...registry.values()]
    .filter((e) => re.test(e.name) && (!options.family || e.defaults.family === options.family))
    .map((e) => e.name)
    .sort();
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
