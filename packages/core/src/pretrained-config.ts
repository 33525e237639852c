// config.json of a pretrained model, in the layout timm publishes on the
// Hugging Face Hub and vitkit saves: the architecture (a registry name),
// optional constructor arguments (`model_args`), the class count and the
// preprocessing the weights were trained with (`pretrained_cfg`). Arguments of
// a family timm publishes use timm's snake_case names, translated by that
// family's table (registerTimmArgs); other families use vitkit's option names.
import { CROP_MODES, type CropMode, checkEvalConfig, type EvalConfig, evalConfigOf } from './data/eval-transform.js';
import type { Interpolation } from './data/resize.js';
import { type CreateOptions, getModelEntry } from './registry.js';

/** timm's pretrained_cfg: what a model's input must look like. */
export interface PretrainedCfg {
  /** [channels, height, width]. */
  inputSize: [number, number, number];
  /** PIL resampling name: 'bicubic', 'bilinear', ... */
  interpolation: string;
  /** Fraction of the resized image the centre crop keeps. */
  cropPct: number;
  cropMode: CropMode;
  mean: number[];
  std: number[];
  /** Parameter name prefix of the first convolution (a list for multi-branch models). */
  firstConv: string | string[] | null;
  /** Parameter name prefix of the classifier (a list for multi-head models). */
  classifier: string | string[] | null;
  /** Other keys timm writes (tag, license, fixed_input_size, ...), kept as they are. */
  extra: Record<string, unknown>;
}

export interface PretrainedConfig {
  architecture: string;
  /** As written, in timm's or vitkit's argument names (see `modelOptionsFromConfig`). */
  modelArgs: Record<string, unknown>;
  numClasses: number;
  numFeatures: number | null;
  globalPool: string | null;
  pretrainedCfg: PretrainedCfg;
  labelNames: string[] | null;
  labelDescriptions: Record<string, string> | null;
}

const INTERPOLATIONS = ['nearest', 'bilinear', 'bicubic', 'box', 'hamming', 'lanczos'];
const CFG_KEYS = ['input_size', 'interpolation', 'crop_pct', 'crop_mode', 'mean', 'std', 'num_classes', 'first_conv', 'classifier'];

export class PretrainedConfigError extends Error {
  constructor(source: string, key: string, reason: string) {
    super(`${source}: ${key ? `'${key}' ` : ''}${reason}`);
    this.name = 'PretrainedConfigError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Parses and checks a config.json (text or parsed); `source` (a path or repository) names it in errors. */
export function parsePretrainedConfig(input: string | unknown, source = 'config.json'): PretrainedConfig {
  const fail = (key: string, reason: string): never => {
    throw new PretrainedConfigError(source, key, reason);
  };
  let json: unknown = input;
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input);
    } catch (e) {
      fail('', `is not JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(json)) return fail('', 'is not a JSON object');
  const architecture = json['architecture'];
  if (!isName(architecture)) fail('architecture', `must name a model (got ${JSON.stringify(architecture)})`);
  const modelArgs = json['model_args'] ?? {};
  if (!isObject(modelArgs)) fail('model_args', `must be an object of constructor arguments (got ${JSON.stringify(modelArgs)})`);

  const cfg = json['pretrained_cfg'];
  if (!isObject(cfg)) return fail('pretrained_cfg', 'is missing or not an object');
  const numClasses = json['num_classes'] ?? cfg['num_classes'];
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 0) {
    fail('num_classes', `must be a whole number >= 0 (got ${JSON.stringify(numClasses)})`);
  }
  const numFeatures = json['num_features'] ?? null;
  if (numFeatures !== null && !(typeof numFeatures === 'number' && Number.isInteger(numFeatures) && numFeatures > 0)) {
    fail('num_features', `must be a positive whole number (got ${JSON.stringify(numFeatures)})`);
  }
  const globalPool = json['global_pool'] ?? null;
  if (globalPool !== null && typeof globalPool !== 'string') fail('global_pool', `must be a string (got ${JSON.stringify(globalPool)})`);

  const labelNames = json['label_names'] ?? null;
  if (labelNames !== null) {
    if (!Array.isArray(labelNames) || !labelNames.every((l) => typeof l === 'string')) fail('label_names', 'must be a list of strings');
    if ((labelNames as string[]).length !== numClasses) {
      fail('label_names', `has ${(labelNames as string[]).length} names for ${numClasses} classes`);
    }
  }
  const labelDescriptions = json['label_descriptions'] ?? null;
  if (
    labelDescriptions !== null &&
    !(isObject(labelDescriptions) && Object.values(labelDescriptions).every((d) => typeof d === 'string'))
  ) {
    fail('label_descriptions', 'must map label names to strings');
  }

  return {
    architecture: architecture as string,
    modelArgs: modelArgs as Json,
    numClasses: numClasses as number,
    numFeatures: numFeatures as number | null,
    globalPool: globalPool as string | null,
    pretrainedCfg: parseCfg(cfg, fail),
    labelNames: labelNames as string[] | null,
    labelDescriptions: labelDescriptions as Record<string, string> | null,
  };
}

function parseCfg(cfg: Json, fail: (key: string, reason: string) => never): PretrainedCfg {
  const key = (k: string) => `pretrained_cfg.${k}`;
  const inputSize = cfg['input_size'];
  if (!Array.isArray(inputSize) || inputSize.length !== 3 || !inputSize.every((d) => Number.isInteger(d) && d > 0)) {
    fail(key('input_size'), `must be [channels, height, width] (got ${JSON.stringify(inputSize)})`);
  }
  const channels = (inputSize as number[])[0]!;
  const interpolation = cfg['interpolation'] ?? 'bicubic';
  if (typeof interpolation !== 'string' || !INTERPOLATIONS.includes(interpolation)) {
    fail(key('interpolation'), `must be one of ${INTERPOLATIONS.join(', ')} (got ${JSON.stringify(interpolation)})`);
  }
  const cropPct = cfg['crop_pct'] ?? 0.875;
  if (typeof cropPct !== 'number' || !(cropPct > 0 && cropPct <= 1))
    fail(key('crop_pct'), `must be a number in (0, 1] (got ${JSON.stringify(cropPct)})`);
  const cropMode = cfg['crop_mode'] ?? 'center';
  if (!CROP_MODES.includes(cropMode as CropMode))
    fail(key('crop_mode'), `must be one of ${CROP_MODES.join(', ')} (got ${JSON.stringify(cropMode)})`);
  const perChannel = (name: 'mean' | 'std', positive: boolean): number[] => {
    const v = cfg[name];
    if (!Array.isArray(v) || (v.length !== channels && v.length !== 1) || !v.every((x) => typeof x === 'number' && (!positive || x > 0))) {
      fail(key(name), `must be ${channels} ${positive ? 'positive ' : ''}numbers, one per input channel (got ${JSON.stringify(v)})`);
    }
    return v as number[];
  };
  const prefix = (name: 'first_conv' | 'classifier'): string | string[] | null => {
    const v = cfg[name] ?? null;
    if (v === null || isName(v)) return v;
    if (Array.isArray(v) && v.length > 0 && v.every(isName)) return v as string[];
    return fail(key(name), `must be a parameter name or a list of them (got ${JSON.stringify(v)})`);
  };
  return {
    inputSize: inputSize as [number, number, number],
    interpolation: interpolation as string,
    cropPct: cropPct as number,
    cropMode: cropMode as CropMode,
    mean: perChannel('mean', false),
    std: perChannel('std', true),
    firstConv: prefix('first_conv'),
    classifier: prefix('classifier'),
    extra: Object.fromEntries(Object.entries(cfg).filter(([k]) => !CFG_KEYS.includes(k))),
  };
}

/**
 * The evaluation transform a pretrained_cfg describes (timm's
 * resolve_data_config at eval): square inputs only, and the resampling
 * filters vitkit implements; anything else is an error naming `source`.
 */
export function evalConfigFromPretrained(cfg: PretrainedCfg, source: string): EvalConfig {
  const [, height, width] = cfg.inputSize;
  if (height !== width)
    throw new PretrainedConfigError(source, 'pretrained_cfg.input_size', `must be square (got ${JSON.stringify(cfg.inputSize)})`);
  return checkEvalConfig(
    {
      imgSize: height,
      cropPct: cfg.cropPct,
      interpolation: cfg.interpolation as Interpolation,
      cropMode: cfg.cropMode,
      mean: cfg.mean,
      std: cfg.std,
    },
    `${source}: pretrained_cfg`,
  );
}

/** The pretrained_cfg that records an evaluation config, for an input of `inChannels` channels. */
export function pretrainedCfgFromEval(evalConfig: EvalConfig, inChannels: number): PretrainedCfg {
  return {
    inputSize: [inChannels, evalConfig.imgSize, evalConfig.imgSize],
    interpolation: evalConfig.interpolation,
    cropPct: evalConfig.cropPct,
    cropMode: evalConfig.cropMode,
    mean: [...evalConfig.mean],
    std: [...evalConfig.std],
    firstConv: null,
    classifier: null,
    extra: {},
  };
}

/** The JSON object of a config, in timm's key names and order (what `pretrainedConfigJson` writes). */
export function pretrainedConfigObject(config: PretrainedConfig): Json {
  const c = config.pretrainedCfg;
  const out: Json = { architecture: config.architecture, num_classes: config.numClasses };
  if (config.numFeatures !== null) out['num_features'] = config.numFeatures;
  if (config.globalPool !== null) out['global_pool'] = config.globalPool;
  if (Object.keys(config.modelArgs).length) out['model_args'] = config.modelArgs;
  out['pretrained_cfg'] = {
    ...c.extra,
    input_size: c.inputSize,
    interpolation: c.interpolation,
    crop_pct: c.cropPct,
    crop_mode: c.cropMode,
    mean: c.mean,
    std: c.std,
    num_classes: config.numClasses,
    first_conv: c.firstConv,
    classifier: c.classifier,
  };
  if (config.labelNames) out['label_names'] = config.labelNames;
  if (config.labelDescriptions) out['label_descriptions'] = config.labelDescriptions;
  return out;
}

/** config.json text, indented as timm writes it. */
export function pretrainedConfigJson(config: PretrainedConfig): string {
  return `${JSON.stringify(pretrainedConfigObject(config), null, 2)}\n`;
}

/**
 * A family's timm constructor arguments: timm name -> the vitkit option it
 * sets, or `{ fixed }` for an argument accepted only at that value (timm's
 * default, which vitkit's model always has).
 */
export type TimmArgTable = Record<string, string | { fixed: unknown }>;

const timmArgTables = new Map<string, TimmArgTable>();

/** Declares that `family`'s config.json model_args are timm's, named as in `table`. */
export function registerTimmArgs(family: string, table: TimmArgTable): void {
  timmArgTables.set(family, table);
}

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The createModel options a config describes for its architecture (a
 * registered model): the class count and the model_args, translated from
 * timm's names for the families timm publishes. An unregistered architecture,
 * an argument the family's table does not know, or a fixed one at another
 * value is an error naming it and `source`.
 */
export function modelOptionsFromConfig(config: PretrainedConfig, source = 'config.json'): CreateOptions {
  let family: string;
  try {
    family = getModelEntry(config.architecture).defaults.family;
  } catch (e) {
    throw new PretrainedConfigError(source, 'architecture', `names no model vitkit has: ${(e as Error).message}`);
  }
  const options: CreateOptions = { numClasses: config.numClasses };
  const table = timmArgTables.get(family);
  for (const [name, value] of Object.entries(config.modelArgs)) {
    if (!table) {
      options[name] = value;
      continue;
    }
    const entry = Object.hasOwn(table, name) ? table[name] : undefined;
    if (entry === undefined) {
      throw new PretrainedConfigError(
        source,
        `model_args.${name}`,
        `is not a timm argument vitkit's ${family} models take (they take: ${Object.keys(table).join(', ')})`,
      );
    }
    if (typeof entry === 'string') {
      options[entry] = value;
    } else if (!sameValue(value, entry.fixed)) {
      throw new PretrainedConfigError(
        source,
        `model_args.${name}`,
        `is supported only at ${JSON.stringify(entry.fixed)} by vitkit's ${family} models (got ${JSON.stringify(value)})`,
      );
    }
  }
  return options;
}

/**
 * The model_args a config.json records for createModel `options` of a model
 * of `family` (numClasses goes to num_classes, not here): timm's names for the
 * families timm publishes, vitkit's otherwise. Options must be JSON values.
 */
export function modelArgsFromOptions(options: CreateOptions, family: string): Record<string, unknown> {
  const table = timmArgTables.get(family);
  const byOption = new Map(table ? Object.entries(table).flatMap(([timm, e]) => (typeof e === 'string' ? [[e, timm]] : [])) : []);
  const args: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (name === 'numClasses' || value === undefined) continue;
    if (!isJsonValue(value))
      throw new Error(`modelArgsFromOptions: option '${name}' is not a JSON value and cannot be saved in config.json`);
    const timm = table ? byOption.get(name) : name;
    if (!timm) throw new Error(`modelArgsFromOptions: option '${name}' of a ${family} model has no timm argument to save it as`);
    args[timm] = value;
  }
  return args;
}

function isJsonValue(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJsonValue);
  return isObject(v) && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(isJsonValue);
}

export interface SavedModelDetails {
  labelNames?: string[];
  labelDescriptions?: Record<string, string>;
  /** The preprocessing the weights expect; default the registry's for the model at its image size. */
  evalConfig?: EvalConfig;
}

/**
 * The config.json of a model vitkit built as `createModel(name, options)` and
 * saves: the registry name as architecture, the options as model_args, its
 * evaluation config as pretrained_cfg.
 */
export function savedModelConfig(name: string, options: CreateOptions = {}, details: SavedModelDetails = {}): PretrainedConfig {
  const d = getModelEntry(name).defaults;
  const evalConfig = details.evalConfig ?? evalConfigOf(d, options.imgSize);
  const config: PretrainedConfig = {
    architecture: name,
    modelArgs: modelArgsFromOptions(options, d.family),
    numClasses: options.numClasses ?? d.numClasses,
    numFeatures: null,
    globalPool: typeof options['globalPool'] === 'string' ? options['globalPool'] : null,
    pretrainedCfg: pretrainedCfgFromEval(evalConfig, options.inChannels ?? d.inChannels),
    labelNames: details.labelNames ?? null,
    labelDescriptions: details.labelDescriptions ?? null,
  };
  // Checked as a loader would read it back, so a saved folder never fails to load.
  return parsePretrainedConfig(pretrainedConfigObject(config), `config.json of ${name}`);
}
