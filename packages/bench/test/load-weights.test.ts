// Every command loads weights the one way (core's loadWeights): reference names
// through the family's adapter, position embeddings resampled to the model's
// grid (and said so), strict by default, the classifier dropped only when
// fine-tuning. The checkpoints are real files written to a temporary folder.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  declareOptions,
  type CreateOptions,
  createModel,
  getReferenceAdapter,
  IMAGENET_MEAN,
  IMAGENET_STD,
  registerModel,
  type StateDict,
} from '@vitkit/core';
import { loadSafetensors, saveSafetensors } from '@vitkit/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir } from '../../../test-utils/index.js';
import type { Prediction } from '../src/commands/predict.js';
import '../src/register-models.js';
import { vitkit } from './cli-helpers.js';

let dir: string;
let image: string;

/**
 * Registers a parity fixture's reference configuration as a model, so the
 * commands can build it by name (in this process only: hence --workers 1).
 */
function registerFixtureModel(name: string, fixture: string): void {
  const config = JSON.parse(readFileSync(join(fixtureDir(fixture), 'config.json'), 'utf8')) as {
    family: string;
    reference: string;
    input_size: number;
    reference_args: Record<string, unknown>;
  };
  const adapter = getReferenceAdapter(config.family, config.reference);
  const build = (o: CreateOptions = {}) =>
    adapter.fromReferenceConfig({ ...config.reference_args, ...(o.numClasses === undefined ? {} : { num_classes: o.numClasses }) });
  registerModel({
    name,
    defaults: {
      family: config.family,
      imgSize: config.input_size,
      inChannels: 3,
      numClasses: config.reference_args['num_classes'] as number,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      cropPct: 1,
      interpolation: 'bicubic',
      implementation: config.reference,
      paper: '',
      figures: {},
    },
    options: declareOptions(name, { numClasses: config.reference_args['num_classes'] as number }),
    create: build,
    cost: (o) => {
      const m = build(o);
      try {
        return m.complexity();
      } finally {
        m.dispose();
      }
    },
  });
}

async function save(name: string, sd: StateDict): Promise<string> {
  const file = join(dir, name);
  await saveSafetensors(file, sd);
  return file;
}

/** A model's fresh weights as a file; `edit` may change the state dict first (disposing what it replaces). */
async function modelFile(file: string, model: string, options: CreateOptions, edit: (sd: StateDict) => void = () => {}): Promise<string> {
  const m = createModel(model, options);
  const sd = m.stateDict();
  m.dispose();
  edit(sd);
  try {
    return await save(file, sd);
  } finally {
    tf.dispose(Object.values(sd));
  }
}

const stderr = (r: { stderr: string[] }) => r.stderr.join('\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitkit-load-weights-'));
  image = join(dir, 'square.png');
  const size = 64;
  const pixels = Buffer.alloc(size * size * 3, 20);
  for (let y = 16; y < 48; y++) for (let x = 24; x < 40; x++) pixels.fill(230, (y * size + x) * 3, (y * size + x) * 3 + 3);
  await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(image);
  registerFixtureModel('fixture_crossvit_tiny', 'crossvit_tiny');
  registerFixtureModel('fixture_vitc_tiny', 'vitc_tiny');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const evalArgs = (model: string, checkpoint: string) =>
  ['eval', '--model', model, '--checkpoint', checkpoint, '--dataset', 'mnist', '--limit', '4', '--workers', '1', '--json'] as const;

/** `vitkit eval` and `vitkit predict` give the same under both checkpoints (the same weights, named two ways). */
async function expectSameResults(model: string, reference: string, ours: string): Promise<void> {
  const a = await vitkit(...evalArgs(model, reference));
  const b = await vitkit(...evalArgs(model, ours));
  expect(a.code, stderr(a)).toBe(0);
  expect(b.code, stderr(b)).toBe(0);
  expect((a.json() as { loss: number }).loss).toBe((b.json() as { loss: number }).loss);
  const p = await vitkit('predict', '--model', model, '--checkpoint', reference, image, '--json');
  const q = await vitkit('predict', '--model', model, '--checkpoint', ours, image, '--json');
  expect(p.code, stderr(p)).toBe(0);
  expect((p.json() as Prediction[])[0]!.top).toEqual((q.json() as Prediction[])[0]!.top);
}

describe('reference checkpoints through vitkit eval and vitkit predict', () => {
  it('a timm-named CrossViT checkpoint (cls_token_0, pos_embed_0) gives what the official names give', async () => {
    const official = join(fixtureDir('crossvit_tiny'), 'weights.safetensors');
    const sd = await loadSafetensors(official);
    const timm = await save(
      'crossvit-timm.safetensors',
      Object.fromEntries(Object.entries(sd).map(([k, t]) => [k.replace(/^(cls_token|pos_embed)\.(\d)$/, '$1_$2'), t])),
    );
    tf.dispose(Object.values(sd));
    await expectSameResults('fixture_crossvit_tiny', timm, official);
  });

  it('a pycls ViTC checkpoint gives what the same weights under vitkit names give', async () => {
    const pycls = join(fixtureDir('vitc_tiny'), 'weights.safetensors');
    const sd = await loadSafetensors(pycls);
    const converted = getReferenceAdapter('hybrid-stem', 'pycls').convertStateDict(sd);
    const ours = await save('vitc-vitkit.safetensors', converted);
    tf.dispose([...Object.values(sd), ...Object.values(converted)]);
    await expectSameResults('fixture_vitc_tiny', pycls, ours);
  });

  it('vitkit attention on pycls weights leaves the tensor count flat from run to run', async () => {
    const pycls = join(fixtureDir('vitc_tiny'), 'weights.safetensors');
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await vitkit(
        'attention',
        '--model',
        'fixture_vitc_tiny',
        '--checkpoint',
        pycls,
        '--image',
        image,
        '--out',
        join(dir, 'a.png'),
      );
      expect(r.code, stderr(r)).toBe(0);
      counts.push(tf.memory().numTensors);
    }
    expect(counts[2]).toBe(counts[1]);
    expect(counts[1]).toBe(counts[0]);
  });
});

describe('a 224-pixel ViT checkpoint in a 384-pixel model', () => {
  let file: string;
  const note = () => `${file}: pos_embed resampled bicubically from a 14x14 to a 24x24 token grid`;
  beforeAll(async () => {
    file = await modelFile('vit-224.safetensors', 'vit_tiny_patch16_224', { numClasses: 10 });
  });

  it('vitkit eval resamples the position embedding and says so', async () => {
    const r = await vitkit(
      'eval',
      '--model',
      'vit_tiny_patch16_384',
      '--checkpoint',
      file,
      '--dataset',
      'mnist',
      '--limit',
      '2',
      '--batch-size',
      '2',
      '--workers',
      '1',
      '--json',
    );
    expect(r.code, stderr(r)).toBe(0);
    expect(stderr(r)).toContain(note());
  });

  it('vitkit predict resamples the position embedding and says so', async () => {
    const r = await vitkit('predict', '--model', 'vit_tiny_patch16_384', '--checkpoint', file, '--num-classes', '10', image, '--json');
    expect(r.code, stderr(r)).toBe(0);
    expect(stderr(r)).toContain(note());
  });

  it('vitkit attention resamples the position embedding, says so, and draws a 24x24 grid', async () => {
    const r = await vitkit(
      'attention',
      '--model',
      'vit_tiny_patch16_384',
      '--checkpoint',
      file,
      '--num-classes',
      '10',
      '--image',
      image,
      '--out',
      join(dir, 'vit384.png'),
      '--json',
    );
    expect(r.code, stderr(r)).toBe(0);
    expect(stderr(r)).toContain(note());
    expect((r.json() as { groups: { grid: number[] }[] }).groups[0]!.grid).toEqual([24, 24]);
  });

  it('vitkit train --pretrained resamples the position embedding, says so, and loads every tensor', async () => {
    const r = await vitkit(
      'train',
      '--model',
      'vit_tiny_patch16_384',
      '--dataset',
      'mnist',
      '--pretrained',
      file,
      '--limit',
      '1',
      '--eval-limit',
      '1',
      '--batch-size',
      '1',
      '--eval-batch-size',
      '1',
      '--workers',
      '1',
      '--out',
      join(dir, 'train-384'),
      '--json',
    );
    expect(r.code, stderr(r)).toBe(0);
    expect(stderr(r)).toContain(note());
    expect(stderr(r)).toMatch(/--pretrained .*vit-224\.safetensors: (\d+) of \1 tensors loaded/);
  });
});

describe('fine-tuning and strict loading', () => {
  const quick = ['--dataset', 'mnist', '--limit', '32', '--eval-limit', '32', '--workers', '1', '--json'];

  it('train --pretrained with another class count drops only the classifier and lists it', async () => {
    const file = await modelFile('micro-5-classes.safetensors', 'vit_micro_32', { numClasses: 5 });
    const r = await vitkit('train', '--model', 'vit_micro_32', ...quick, '--pretrained', file, '--out', join(dir, 'finetune'));
    expect(r.code, stderr(r)).toBe(0);
    expect(stderr(r)).toMatch(/dropped the checkpoint's classifier \(head\.bias \[5\], head\.weight \[5, 64\]\)/);
    const total = Object.keys(createModel('vit_micro_32').stateShapes()).length;
    expect(stderr(r)).toContain(`: ${total - 2} of ${total} tensors loaded`);
  });

  it('train --pretrained refuses any other unmatched key unless --allow-missing', async () => {
    const file = await modelFile('micro-no-norm.safetensors', 'vit_micro_32', { numClasses: 5 }, (sd) => {
      sd['norm.weight']!.dispose();
      delete sd['norm.weight'];
    });
    const args = ['train', '--model', 'vit_micro_32', ...quick, '--pretrained', file] as const;
    const strict = await vitkit(...args, '--out', join(dir, 'strict'));
    expect(strict.code).toBe(1);
    expect(stderr(strict)).toContain(`${file} does not match the model:\n  missing keys (1): norm.weight [64]`);
    expect(stderr(strict)).toContain('--allow-missing');
    const lenient = await vitkit(...args, '--allow-missing', '--out', join(dir, 'lenient'));
    expect(lenient.code, stderr(lenient)).toBe(0);
    expect(stderr(lenient)).toContain('loaded non-strictly (missing, left at their initial values: norm.weight)');
  });

  it('strict loading fails with one error naming the file and every missing, unexpected and mis-shaped key with shapes', async () => {
    const file = await modelFile('broken.safetensors', 'vit_micro_32', { numClasses: 10 }, (sd) => {
      sd['norm.bias']!.dispose();
      delete sd['norm.bias'];
      sd['extra.weight'] = tf.zeros([3]);
      sd['head.bias']!.dispose();
      sd['head.bias'] = tf.zeros([7]);
    });
    const r = await vitkit('eval', '--model', 'vit_micro_32', '--checkpoint', file, '--dataset', 'mnist', '--limit', '4', '--json');
    expect(r.code).toBe(1);
    const message = (r.json() as { error: string }).error;
    expect(message).toBe(
      `${file} does not match the model:\n` +
        '  missing keys (1): norm.bias [64]\n' +
        '  unexpected keys (1): extra.weight [3]\n' +
        '  mis-shaped keys (1): head.bias: got [7], expected [10]',
    );
  });
});
