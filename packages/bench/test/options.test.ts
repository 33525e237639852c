// The command line as a layer of its own: options typed from their
// declarations, one spelling each, required ones marked, -h and --version,
// and the nearest name suggested for a typo.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parseArgs, UsageError } from '../src/args.js';
import { commands } from '../src/commands/index.js';
import { type ThroughputOptions, throughput } from '../src/commands/throughput.js';
import { recipeFromOptions, train } from '../src/commands/train.js';
import { TRAIN_DEFAULTS, type TrainRecipe, type TrainResult, trainModel } from '../src/training.js';
import { vitkit } from './cli-helpers.js';

const SPECS = [
  { name: 'model', type: 'string', description: 'model', required: true },
  { name: 'batch-size', type: 'number', description: 'batch', default: 8 },
  { name: 'limit', type: 'number', description: 'limit' },
  { name: 'train', type: 'boolean', description: 'train' },
  { name: 'optimizer', type: 'string', description: 'optimizer', choices: ['adamw', 'sgd'], default: 'adamw' },
  { name: 'help', type: 'boolean', description: 'help' },
] as const;

describe('parseArgs', () => {
  it('types the parsed options from the declarations', () => {
    const { options } = parseArgs(['--model', 'm', '--limit', '3'], SPECS);
    expectTypeOf(options.model).toEqualTypeOf<string>();
    expectTypeOf(options['batch-size']).toEqualTypeOf<number>();
    expectTypeOf(options.limit).toEqualTypeOf<number | undefined>();
    expectTypeOf(options.train).toEqualTypeOf<boolean>();
    expectTypeOf(options.optimizer).toEqualTypeOf<'adamw' | 'sgd'>();
    expectTypeOf<ThroughputOptions['batch-size']>().toEqualTypeOf<number>();
    expect(options).toEqual({ model: 'm', 'batch-size': 8, limit: 3, train: false, optimizer: 'adamw', help: false });
  });

  it('refuses a missing required option, a value outside the choices, and suggests the nearest option for a typo', () => {
    expect(() => parseArgs(['--limit', '3'], SPECS)).toThrow(new UsageError('missing required option --model'));
    expect(() => parseArgs(['--model', 'm', '--optimizer', 'adam'], SPECS)).toThrow("--optimizer must be one of adamw, sgd (got 'adam')");
    expect(() => parseArgs(['--model', 'm', '--batch', '4'], SPECS)).toThrow('unknown option --batch; did you mean --batch-size?');
    expect(() => parseArgs(['--model', 'm', '--frobnicate'], SPECS)).toThrow(/^unknown option --frobnicate$/);
  });

  it('takes -h for --help, before checking required options', () => {
    expect(parseArgs(['-h'], SPECS).options.help).toBe(true);
  });
});

describe('the vitkit command line', () => {
  it('answers -h and --version', async () => {
    const help = await vitkit('-h');
    expect(help.code).toBe(0);
    expect(help.stdout.join('\n')).toContain('vitkit --version');
    const version = await vitkit('--version');
    const { version: expected } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version.code).toBe(0);
    expect(version.stdout).toEqual([`vitkit ${expected}`]);
    const trainHelp = await vitkit('train', '-h');
    expect(trainHelp.code).toBe(0);
    expect(trainHelp.stdout.join('\n')).toContain('usage: vitkit train');
  });

  it('marks required options in --help, and a command without them is bad usage naming them', async () => {
    const help = (await vitkit('eval', '--help')).stdout.join('\n');
    for (const name of ['model', 'dataset']) expect(help).toMatch(new RegExp(`--${name} .*\\(required\\)`));
    expect(help).not.toMatch(/--limit .*\(required\)/);
    const r = await vitkit('eval', '--model', 'vit_micro_32');
    expect(r.code).toBe(2);
    expect(r.stderr.join('\n')).toContain('missing required option --dataset');
  });

  it('spells the batch size --batch-size in every command that takes one', () => {
    for (const c of commands) {
      const names = c.options.map((o) => o.name);
      expect(names, c.name).not.toContain('batch');
      if (names.some((n) => n.includes('batch'))) expect(names, c.name).toContain('batch-size');
    }
    expect(throughput.options.map((o) => o.name)).toContain('batch-size');
  });

  it('suggests the nearest option, model and command for a typo', async () => {
    const option = await vitkit('throughput', '--model', 'vit_micro_32', '--batch', '4');
    expect(option.code).toBe(2);
    expect(option.stderr.join('\n')).toContain('unknown option --batch; did you mean --batch-size?');
    const model = await vitkit('throughput', '--model', 'vit_micro_23', '--runs', '1');
    expect(model.code).toBe(1);
    expect(model.stderr.join('\n')).toContain("unknown model 'vit_micro_23'; did you mean vit_micro_32?");
    const command = await vitkit('trian');
    expect(command.code).toBe(2);
    expect(command.stderr.join('\n')).toContain("unknown command 'trian'; did you mean train?");
  });
});

describe('the training recipe', () => {
  it("is plain data, and vitkit train's defaults are trainModel's", () => {
    const { options } = parseArgs(['--model', 'vit_micro_32', '--dataset', 'mnist'], train.options);
    const recipe = recipeFromOptions(options);
    expect(JSON.parse(JSON.stringify(recipe))).toEqual(recipe);
    expect(recipe).toMatchObject({ model: 'vit_micro_32', dataset: 'mnist', seed: 0, budget: { epochs: 1 }, out: 'runs/train' });
    expect(JSON.parse(JSON.stringify(recipe.hyperparameters))).toEqual(TRAIN_DEFAULTS);
  });

  it('runs through trainModel after a JSON round trip (as a worker would receive it) and gives a plain result', async () => {
    const out = await mkdtemp(join(tmpdir(), 'vitkit-recipe-'));
    try {
      const recipe: TrainRecipe = {
        model: 'vit_micro_32',
        dataset: 'mnist',
        seed: 3,
        budget: { epochs: 1, trainImages: 32, evalImages: 32 },
        hyperparameters: { ...TRAIN_DEFAULTS, batchSize: 16 },
        out,
        workers: 1,
      };
      const lines: string[] = [];
      const result: TrainResult = await trainModel(JSON.parse(JSON.stringify(recipe)) as TrainRecipe, {
        json: true,
        progress: (l) => lines.push(l),
      });
      expect(JSON.parse(JSON.stringify(result))).toEqual(result);
      expect(result).toMatchObject({ model: 'vit_micro_32', num_classes: 10, img_size: 32, images: 32, steps: 2, interrupted: false });
      expect(result.checkpoint).toBe(join(out, 'model.safetensors'));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
