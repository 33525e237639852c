// `vitkit validate`: timm's validate.py on an ImageNet-style folder: top-1 and
// top-5 of a model under its own evaluation preprocessing, written with
// validate.py's result columns as CSV and JSON, so the numbers sit beside
// timm's in the same tables.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluate } from '@vitkit/core';
import { ImageFolder, initBackend, parseDatasetSpec, readClassMap, writeFileAtomic } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { evalLoader, modelInput } from '../datasets.js';
import { pythonFloat, pythonRound, textTable } from '../format.js';
import { CHECKPOINT_OPTION, loadCommandModel, MODEL_OPTION } from '../model-loading.js';
import { ONNX_RUNTIME_OPTIONS, OnnxSession, resolveDevice, resolveRuntime } from '../onnx/session.js';

/** validate.py's result row, in its column order. */
export interface ValidateResult {
  model: string;
  top1: number;
  top1_err: number;
  top5: number;
  top5_err: number;
  /** Millions, two decimals. */
  param_count: number;
  img_size: number;
  crop_pct: number;
  interpolation: string;
}

const COLUMNS = ['model', 'top1', 'top1_err', 'top5', 'top5_err', 'param_count', 'img_size', 'crop_pct', 'interpolation'] as const;
const FLOAT_COLUMNS = new Set(['top1', 'top1_err', 'top5', 'top5_err', 'param_count', 'crop_pct']);

/** One CSV field as Python's csv module writes it (quoted when it holds a comma, quote or newline). */
const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

function csv(r: ValidateResult): string {
  const cell = (c: (typeof COLUMNS)[number]) => {
    const v = r[c];
    return csvField(typeof v === 'number' && FLOAT_COLUMNS.has(c) ? pythonFloat(v) : String(v));
  };
  return `${COLUMNS.join(',')}\r\n${COLUMNS.map(cell).join(',')}\r\n`;
}

export const validate = defineCommand({
  name: 'validate',
  summary: "timm's validate.py on an image folder: top-1/top-5 with the model's preprocessing, as CSV and JSON",
  usage:
    'vitkit validate --model NAME.TAG|hf-hub:ORG/REPO|local-dir:DIR|NAME [--checkpoint F] --data folder:DIR [--class-map F] [--out DIR] [--runtime tfjs|onnx] [--json]',
  details:
    'DIR holds one folder per class (ImageNet-style). Without --class-map the sorted folder names are the class\n' +
    "indices; with it (timm's class_map: one folder name per line, its line number the model's class index) the\n" +
    "images of folders it does not name are left out. Images go through the model's eval config (its\n" +
    "pretrained_cfg). --out writes validate.csv and validate.json with timm's columns: model, top1, top1_err, top5,\n" +
    'top5_err (percent, 4 decimals), param_count (millions, 2 decimals), img_size, crop_pct, interpolation.\n' +
    '--runtime onnx (or VITKIT_RUNTIME=onnx) runs the model exported to ONNX (cached in --cache-dir) in ONNX Runtime.',
  options: [
    MODEL_OPTION,
    CHECKPOINT_OPTION,
    { name: 'data', type: 'string', value: 'folder:DIR', description: 'image folder, one sub-folder per class', required: true },
    { name: 'class-map', type: 'string', value: 'FILE', description: "folder name per line, in the model's class order" },
    { name: 'batch-size', type: 'number', value: 'B', description: 'batch size', default: 64 },
    { name: 'out', type: 'string', value: 'DIR', description: 'write validate.csv and validate.json here' },
    ...ONNX_RUNTIME_OPTIONS,
  ],
  async run({ options }, io) {
    const name = options.model;
    let spec: ReturnType<typeof parseDatasetSpec>;
    try {
      spec = parseDatasetSpec(options.data);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (spec.kind !== 'folder') throw new UsageError(`--data must be folder:DIR (got '${options.data}')`);
    const runtime = resolveRuntime(options.runtime);
    const device = resolveDevice(options.device, runtime);
    await initBackend({ quiet: true });
    let data: ImageFolder;
    try {
      const classMap = options['class-map'] ? await readClassMap(options['class-map']) : undefined;
      data = await ImageFolder.open(spec.dir!, options.data, classMap);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    const loaded = await loadCommandModel(name, { checkpoint: options.checkpoint }, io.progress);
    const { model, evalConfig } = loaded;
    let r: Awaited<ReturnType<typeof evaluate>>;
    let session: OnnxSession | null = null;
    try {
      if (data.classes.length > model.numClasses) {
        throw new InputError(
          `${options.data} has ${data.classes.length} classes and ${name} ${model.numClasses}; give --class-map to map the folders to the model's classes`,
        );
      }
      model.eval();
      if (runtime === 'onnx') session = await OnnxSession.forModel(loaded.architecture, model, { device, cacheDir: options['cache-dir'] });
      io.progress(`validating ${name} on ${options.data} (${data.size} images${session ? `, ${session.description}` : ''})`);
      r = await evaluate(model, evalLoader(data, modelInput(evalConfig, loaded.inChannels), options['batch-size']), {
        forward: session?.batchForward(),
      });
    } finally {
      await session?.release();
      model.dispose();
    }
    const top1 = 100 * r.top1;
    const top5 = 100 * r.top5;
    const result: ValidateResult = {
      model: name,
      top1: pythonRound(top1, 4),
      top1_err: pythonRound(100 - top1, 4),
      top5: pythonRound(top5, 4),
      top5_err: pythonRound(100 - top5, 4),
      param_count: pythonRound(model.numParams() / 1e6, 2),
      img_size: evalConfig.imgSize,
      crop_pct: evalConfig.cropPct,
      interpolation: evalConfig.interpolation,
    };
    const lines = textTable([...COLUMNS], [COLUMNS.map((c) => result[c])]);
    if (options.out) {
      await mkdir(options.out, { recursive: true });
      await writeFileAtomic(join(options.out, 'validate.csv'), csv(result));
      await writeFileAtomic(join(options.out, 'validate.json'), `${JSON.stringify(result, null, 4)}\n`);
      lines.push(`wrote ${join(options.out, 'validate.csv')} and validate.json`);
    }
    return { ok: true, lines, data: result };
  },
});
