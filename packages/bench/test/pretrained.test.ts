// Pretrained models by name, end to end against a local Hub (test-utils/fake-hub.ts,
// which answers the requests @huggingface/hub really makes): repositories made
// here in timm's layout (config.json + model.safetensors), loaded by
// `vitkit predict --model hf-hub:...` and compared with the same files loaded by hand.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  createModel,
  decodeSafetensors,
  encodeSafetensors,
  evalConfigFromPretrained,
  imagenet1kClasses,
  loadWeights,
  modelOptionsFromConfig,
  parsePretrainedConfig,
  preprocessImage,
  readSafetensorsHeader,
  type StateDict,
} from '@vitkit/core';
import { classifyFiles, decodeImage, initBackend, loadPretrained, loadSafetensors } from '@vitkit/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeHub } from '../../../test-utils/fake-hub.js';
import { sharedDir } from '../../../test-utils/index.js';
import type { Prediction } from '../src/commands/predict.js';
import { pythonRound } from '../src/format.js';
import '../src/register-models.js';
import { vitkit } from './cli-helpers.js';
import { hasOnnxRuntime } from '../src/onnx/runtime.js';

const images = `${sharedDir}fixtures/preprocess/images`;
const coffee = `${images}/coffee.png`;
const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

let hub: FakeHub;
let tmp: string;
let cache: string;
const saved = { ...process.env };

beforeAll(async () => {
  await initBackend({ quiet: true });
  hub = await FakeHub.start();
  tmp = mkdtempSync(join(tmpdir(), 'vitkit-pretrained-'));
  process.env['HF_ENDPOINT'] = hub.url;
  process.env['HF_HUB_DISABLE_PROGRESS_BARS'] = '1';
  delete process.env['HF_TOKEN'];
});
afterAll(async () => {
  await hub.close();
  process.env = { ...saved };
  rmSync(tmp, { recursive: true, force: true });
});
let caches = 0;
beforeEach(() => {
  cache = join(tmp, `cache-${caches++}`);
  process.env['HF_HUB_CACHE'] = cache;
  delete process.env['HF_HUB_OFFLINE'];
  hub.requests.length = 0;
});

/** Every float tensor of a freshly built model, replaced by seeded noise so no two classes tie. */
function randomWeights(name: string, options: Record<string, unknown>, seed: number): StateDict {
  const model = createModel(name, options);
  const sd = model.stateDict();
  model.dispose();
  let i = 0;
  const out: StateDict = {};
  for (const [k, t] of Object.entries(sd)) {
    out[k] = t.dtype === 'float32' ? tf.randomNormal(t.shape, 0, 0.2, 'float32', seed * 1000 + i++) : t.clone();
  }
  tf.dispose(Object.values(sd));
  return out;
}

interface Repo {
  config: Record<string, unknown>;
  weights: Uint8Array;
}

async function makeRepo(config: Record<string, unknown>, sd: StateDict, rename: (key: string) => string = (k) => k): Promise<Repo> {
  const renamed = Object.fromEntries(Object.entries(sd).map(([k, t]) => [rename(k), t]));
  const weights = await encodeSafetensors(renamed, { metadata: { format: 'pt' } });
  tf.dispose(Object.values(sd));
  return { config, weights };
}

const files = (r: Repo) => ({ 'config.json': JSON.stringify(r.config), 'model.safetensors': r.weights, 'README.md': '# test model' });

/** The logits of `image` from the files loaded by hand: the config's model, its weights, its pretrained_cfg. */
async function logitsByHand(repo: Repo, image: string, input?: Float32Array): Promise<Float32Array> {
  const config = parsePretrainedConfig(repo.config);
  const model = createModel(config.architecture, modelOptionsFromConfig(config));
  const sd = decodeSafetensors(repo.weights);
  loadWeights(model, sd);
  tf.dispose(Object.values(sd));
  const cfg = evalConfigFromPretrained(config.pretrainedCfg, 'config.json');
  const x = input ?? preprocessImage(await decodeImage(image), cfg);
  model.eval();
  const s = cfg.imgSize;
  const logits = tf.tidy(() => model.forward(tf.tensor4d(x, [1, s, s, 3])).dataSync() as Float32Array);
  model.dispose();
  return logits;
}

/** timm's own eval tensor for coffee.png at 32 px, bilinear, crop_pct 0.9 (../shared fixture), as HWC. */
async function timmInput(): Promise<Float32Array> {
  const sd = await loadSafetensors(`${sharedDir}fixtures/preprocess/expected.safetensors`);
  const hwc = tf.tidy(() => sd['coffee.png@bilinear32']!.transpose([1, 2, 0]).dataSync() as Float32Array);
  tf.dispose(Object.values(sd));
  return hwc;
}

/** An ImageNet-style folder of real images: `layout` lists [class folder, image file] pairs. */
function imageFolder(name: string, layout: readonly (readonly [string, string])[]): string {
  const dir = join(tmp, name);
  for (const [cls, file] of layout) {
    mkdirSync(join(dir, cls), { recursive: true });
    writeFileSync(join(dir, cls, file), readFileSync(`${images}/${file}`));
  }
  return dir;
}

function expectClose(got: number[], want: Float32Array, tol = 1e-6): void {
  expect(got).toHaveLength(want.length);
  const worst = Math.max(...got.map((v, i) => Math.abs(v - want[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
}

async function predict(...args: string[]): Promise<Prediction[]> {
  const r = await vitkit('predict', ...args, '--json');
  expect(r.code, r.stderr.join('\n')).toBe(0);
  return r.json() as Prediction[];
}

async function failure(...args: string[]): Promise<string> {
  const r = await vitkit(...args);
  expect(r.code, r.stdout.join('\n')).toBe(1);
  return r.stderr.join('\n');
}

const VIT_ARGS = { img_size: 32, patch_size: 8, embed_dim: 32, depth: 2, num_heads: 2, qkv_bias: true };
const VIT_LABELS = ['n0001', 'n0002', 'n0003', 'n0004', 'n0005'];
const VIT_DESCRIPTIONS = Object.fromEntries(VIT_LABELS.map((l, i) => [l, `class ${i}`]));

function timmVit(seed: number): Promise<Repo> {
  return makeRepo(
    {
      architecture: 'vit_tiny_patch16_224',
      num_classes: 5,
      global_pool: 'token',
      model_args: VIT_ARGS,
      pretrained_cfg: {
        tag: 'test',
        input_size: [3, 32, 32],
        interpolation: 'bilinear',
        crop_pct: 0.9,
        crop_mode: 'center',
        ...IMAGENET,
        num_classes: 5,
        first_conv: 'patch_embed.proj',
        classifier: 'head',
      },
      label_names: VIT_LABELS,
      label_descriptions: VIT_DESCRIPTIONS,
    },
    randomWeights('vit_tiny_patch16_224', { imgSize: 32, patchSize: 8, embedDim: 32, depth: 2, numHeads: 2, numClasses: 5 }, seed),
  );
}

/** A tiny ViT-family model with an ImageNet-1k head and no label_names. */
function in1kVit(architecture: string, seed: number): Promise<Repo> {
  return makeRepo(
    {
      architecture,
      num_classes: 1000,
      model_args: VIT_ARGS,
      pretrained_cfg: { input_size: [3, 32, 32], interpolation: 'bicubic', crop_pct: 0.875, ...IMAGENET },
    },
    randomWeights(architecture, { imgSize: 32, patchSize: 8, embedDim: 32, depth: 2, numHeads: 2, numClasses: 1000 }, seed),
  );
}

describe('vitkit predict --model hf-hub:ORG/REPO', () => {
  it("a timm-style ViT (model_args, timm names): the logits of the files loaded by hand on timm's own input, labels from label_descriptions, then the cache", async () => {
    const repo = await timmVit(1);
    hub.commit('test/vit-tiny', files(repo));
    const [p] = await predict('--model', 'hf-hub:test/vit-tiny', coffee, '--topk', '3');
    const want = await logitsByHand(repo, coffee, await timmInput());
    expectClose(p!.logits, want);
    const top = want.indexOf(Math.max(...want));
    expect(p!.top).toHaveLength(3);
    expect(p!.top[0]).toMatchObject({ index: top, label: `class ${top}` });
    // The second run reads the Hub cache and makes no request at all.
    hub.requests.length = 0;
    const [again] = await predict('--model', 'hf-hub:test/vit-tiny', coffee);
    expect(again!.logits).toEqual(p!.logits);
    expect(hub.requests).toEqual([]);
    // Offline, the cache is enough.
    process.env['HF_HUB_OFFLINE'] = '1';
    expect((await predict('--model', 'hf-hub:test/vit-tiny', coffee))[0]!.logits).toEqual(p!.logits);
    expect(hub.requests).toEqual([]);
  });

  it('a CrossViT with timm state-dict names (cls_token_0, pos_embed_0)', async () => {
    const sd = randomWeights('crossvit_tiny_240', { imgSize: 48, depth: [[1, 1, 0]], numClasses: 4 }, 2);
    expect(Object.keys(sd)).toContain('pos_embed.0');
    const repo = await makeRepo(
      {
        architecture: 'crossvit_tiny_240',
        num_classes: 4,
        model_args: { img_size: 48, depth: [[1, 1, 0]] },
        pretrained_cfg: {
          input_size: [3, 48, 48],
          interpolation: 'bicubic',
          crop_pct: 0.875,
          ...IMAGENET,
          classifier: ['head.0', 'head.1'],
        },
        label_names: ['cat', 'cup', 'camera', 'galaxy'],
      },
      sd,
      (k) => k.replace(/^(cls_token|pos_embed)\.(\d+)$/, '$1_$2'),
    );
    expect(Object.keys(readSafetensorsHeader(repo.weights).entries)).toEqual(expect.arrayContaining(['pos_embed_0', 'cls_token_1']));
    hub.commit('test/crossvit-tiny', files(repo));
    const [p] = await predict('--model', 'hf-hub:test/crossvit-tiny', coffee);
    const want = await logitsByHand(repo, coffee);
    expectClose(p!.logits, want);
    const top = want.indexOf(Math.max(...want));
    expect(p!.top[0]).toMatchObject({ index: top, label: ['cat', 'cup', 'camera', 'galaxy'][top] });
  });

  it("a CSWin in vitkit's layout (model_args in vitkit's option names)", async () => {
    const options = { depths: [1, 1, 1, 1], numClasses: 3 };
    const repo = await makeRepo(
      {
        architecture: 'cswin_micro_32',
        num_classes: 3,
        model_args: { depths: [1, 1, 1, 1] },
        pretrained_cfg: { input_size: [3, 32, 32], interpolation: 'bicubic', crop_pct: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
        label_names: ['a', 'b', 'c'],
      },
      randomWeights('cswin_micro_32', options, 3),
    );
    hub.commit('test/cswin-micro', files(repo));
    const [p] = await predict('--model', 'hf-hub:test/cswin-micro', `${images}/chelsea.png`);
    const want = await logitsByHand(repo, `${images}/chelsea.png`);
    expectClose(p!.logits, want);
    expect(p!.top[0]!.label).toBe(['a', 'b', 'c'][want.indexOf(Math.max(...want))]);
  });

  it('a 1000-class model without label_names is labelled with the ImageNet-1k names', async () => {
    const repo = await in1kVit('vit_tiny_patch16_224', 4);
    hub.commit('test/vit-in1k', files(repo));
    const [p] = await predict('--model', 'hf-hub:test/vit-in1k', `${images}/palette_color.png`);
    const want = await logitsByHand(repo, `${images}/palette_color.png`);
    expectClose(p!.logits, want);
    const top = want.indexOf(Math.max(...want));
    expect(p!.top[0]).toMatchObject({ index: top, label: imagenet1kClasses()[top]!.lemma });
    const text = await vitkit('predict', '--model', 'hf-hub:test/vit-in1k', `${images}/palette_color.png`, '--topk', '2');
    expect(text.stdout[1]).toContain(imagenet1kClasses()[top]!.lemma);
    expect(text.stdout).toHaveLength(3);
  });

  it("a registry NAME.TAG loads timm's repository for that tag", async () => {
    const repo = await in1kVit('deit_tiny_patch16_224', 15);
    hub.commit('timm/deit_tiny_patch16_224.fb_in1k', files(repo));
    const [p] = await predict('--model', 'deit_tiny_patch16_224.fb_in1k', coffee);
    expectClose(p!.logits, await logitsByHand(repo, coffee));
    expect(hub.requests[0]!.url.split('?')[0]).toBe('/api/models/timm/deit_tiny_patch16_224.fb_in1k/revision/main');
  });

  it('a revision (@tag) loads that commit, not the branch head', async () => {
    const v1 = await timmVit(5);
    hub.commit('test/vit-revisions', files(v1), { tag: 'v1' });
    const v2 = await timmVit(6);
    hub.commit('test/vit-revisions', files(v2));
    const [old] = await predict('--model', 'hf-hub:test/vit-revisions@v1', coffee);
    const [head] = await predict('--model', 'hf-hub:test/vit-revisions', coffee);
    expectClose(old!.logits, await logitsByHand(v1, coffee));
    expectClose(head!.logits, await logitsByHand(v2, coffee));
    expect(old!.logits).not.toEqual(head!.logits);
    expect(hub.requests.some((r) => r.url.startsWith('/api/models/test/vit-revisions/revision/v1'))).toBe(true);
  });
});

describe('errors name the repository and the file', () => {
  it('HF_HUB_OFFLINE with nothing cached', async () => {
    hub.commit('test/vit-offline', files(await timmVit(7)));
    process.env['HF_HUB_OFFLINE'] = '1';
    const message = await failure('predict', '--model', 'hf-hub:test/vit-offline', coffee);
    expect(message).toContain("hf-hub:test/vit-offline@main: revision 'main' (config.json, model.safetensors) not in the Hub cache");
    expect(message).toContain('HF_HUB_OFFLINE is set');
  });

  it('a repository without model.safetensors, and one that does not exist', async () => {
    hub.commit('test/no-weights', { 'config.json': JSON.stringify((await timmVit(8)).config) });
    expect(await failure('predict', '--model', 'hf-hub:test/no-weights', coffee)).toMatch(
      /hf-hub:test\/no-weights@main \(commit [0-9a-f]{40}\) has no model\.safetensors; its files: config\.json/,
    );
    expect(await failure('predict', '--model', 'hf-hub:test/nowhere', coffee)).toContain(
      'hf-hub:test/nowhere@main: cannot download config.json, model.safetensors',
    );
  });

  it('a truncated download is an error naming the file, and nothing of it is trusted later', async () => {
    const repo = await timmVit(9);
    hub.commit('test/vit-truncated', files(repo));
    hub.spoil('test/vit-truncated', 'model.safetensors', 'short');
    expect(await failure('predict', '--model', 'hf-hub:test/vit-truncated', coffee)).toMatch(
      /hf-hub:test\/vit-truncated@main: the download of model\.safetensors \(commit [0-9a-f]{40}\) is not the Hub's file/,
    );
    hub.spoil('test/vit-truncated', 'model.safetensors', 'truncate');
    expect(await failure('predict', '--model', 'hf-hub:test/vit-truncated', coffee)).toContain(
      'hf-hub:test/vit-truncated@main: cannot download model.safetensors',
    );
    const [p] = await predict('--model', 'hf-hub:test/vit-truncated', coffee);
    expectClose(p!.logits, await logitsByHand(repo, coffee));
  });

  it('a wrong config.json: unknown architecture, bad model_args, weights that do not fit', async () => {
    const good = await timmVit(10);
    const commit = (repo: string, config: Record<string, unknown>, weights = good.weights) =>
      hub.commit(repo, { 'config.json': JSON.stringify(config), 'model.safetensors': weights });
    const configPath = (repo: string, sha: string) => join(cache, `models--${repo.replace('/', '--')}`, 'snapshots', sha, 'config.json');

    const unknown = commit('test/bad-arch', { ...good.config, architecture: 'vit_tinny_patch16_224' });
    const a = await failure('predict', '--model', 'hf-hub:test/bad-arch', coffee);
    expect(a).toContain(`hf-hub:test/bad-arch (${configPath('test/bad-arch', unknown)}): 'architecture' names no model vitkit has`);
    expect(a).toContain('vit_tiny_patch16_224');

    const unknownArg = commit('test/bad-arg', { ...good.config, model_args: { ...VIT_ARGS, embed_dims: 32 } });
    expect(await failure('predict', '--model', 'hf-hub:test/bad-arg', coffee)).toContain(
      `hf-hub:test/bad-arg (${configPath('test/bad-arg', unknownArg)}): 'model_args.embed_dims' is not a timm argument vitkit's vit models take`,
    );
    const badValue = commit('test/bad-value', { ...good.config, model_args: { ...VIT_ARGS, num_heads: 5 } });
    expect(await failure('predict', '--model', 'hf-hub:test/bad-value', coffee)).toContain(
      `hf-hub:test/bad-value (${configPath('test/bad-value', badValue)}): 'vit_tiny_patch16_224' with model_args`,
    );
    expect(await failure('predict', '--model', 'hf-hub:test/bad-value', coffee)).toContain('embedDim 32 is not divisible by numHeads 5');

    const sd = decodeSafetensors(good.weights);
    const partial = await encodeSafetensors(Object.fromEntries(Object.entries(sd).filter(([k]) => k !== 'norm.weight')));
    tf.dispose(Object.values(sd));
    const missing = commit('test/missing-weights', good.config, partial);
    const weightsPath = configPath('test/missing-weights', missing).replace(/config\.json$/, 'model.safetensors');
    const m = await failure('predict', '--model', 'hf-hub:test/missing-weights', coffee);
    expect(m).toContain(`hf-hub:test/missing-weights (${weightsPath})`);
    expect(m).toContain('norm.weight');

    const broken = hub.commit('test/not-json', { 'config.json': '{"architecture": ', 'model.safetensors': good.weights });
    expect(await failure('predict', '--model', 'hf-hub:test/not-json', coffee)).toContain(
      `hf-hub:test/not-json (${configPath('test/not-json', broken)}): is not JSON`,
    );
  });
});

describe('the API', () => {
  it('loadPretrained + classifyFiles; createModel refuses a name it cannot fetch synchronously', async () => {
    const repo = await timmVit(11);
    hub.commit('test/vit-api', files(repo));
    const loaded = await loadPretrained('hf-hub:test/vit-api');
    try {
      expect(loaded.architecture).toBe('vit_tiny_patch16_224');
      expect(loaded.evalConfig).toEqual({ imgSize: 32, cropPct: 0.9, interpolation: 'bilinear', cropMode: 'center', ...IMAGENET });
      expect(loaded.labels).toEqual(VIT_LABELS.map((l) => VIT_DESCRIPTIONS[l]));
      const [top] = await classifyFiles(loaded.model, coffee, { topk: 2, evalConfig: loaded.evalConfig, labels: loaded.labels });
      const want = await logitsByHand(repo, coffee);
      const best = want.indexOf(Math.max(...want));
      expect(top).toHaveLength(2);
      expect(top![0]).toMatchObject({ index: best, label: `class ${best}` });
      expect(top![0]!.probability).toBeGreaterThan(top![1]!.probability);
    } finally {
      loaded.model.dispose();
    }
    expect(() => createModel('hf-hub:test/vit-api')).toThrow(
      "createModel('hf-hub:test/vit-api'): this name points at pretrained weights, which cannot be fetched synchronously; use await loadPretrained('hf-hub:test/vit-api')",
    );
  });
});

describe('local-dir: and models saved by vitkit train', () => {
  const quick = ['--dataset', 'mnist', '--limit', '64', '--eval-limit', '16', '--batch-size', '32', '--workers', '1', '--epochs', '1'];

  it('a trained run folder is a pretrained model: config.json beside model.safetensors, the same logits through local-dir:', async () => {
    const run = join(tmp, 'run');
    const r = await vitkit('train', '--model', 'vit_micro_32', ...quick, '--out', run, '--json');
    expect(r.code, r.stderr.join('\n')).toBe(0);
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architecture: 'vit_micro_32',
      num_classes: 10,
      label_names: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      pretrained_cfg: { input_size: [3, 32, 32] },
    });
    const [byDir] = await predict('--model', `local-dir:${run}`, coffee);
    const [byCheckpoint] = await predict('--model', 'vit_micro_32', '--checkpoint', run, coffee);
    expect(byDir!.logits).toEqual(byCheckpoint!.logits);
    expect(byDir!.top).toEqual(byCheckpoint!.top);
  });

  it('vitkit train fine-tunes from a Hub model (--pretrained hf-hub:...): its classifier dropped, its preprocessing kept', async () => {
    hub.commit('test/vit-finetune', files(await timmVit(12)));
    const data = imageFolder('folder-data', [
      ['cat', 'chelsea.png'],
      ['cup', 'coffee.png'],
      ['cam', 'camera.png'],
    ]);
    const run = join(tmp, 'finetune');
    const r = await vitkit(
      'train',
      '--model',
      'vit_tiny_patch16_224',
      '--pretrained',
      'hf-hub:test/vit-finetune',
      '--dataset',
      `folder:${data}`,
      '--batch-size',
      '3',
      '--workers',
      '1',
      '--warmup',
      '0',
      '--out',
      run,
      '--json',
    );
    expect(r.code, r.stderr.join('\n')).toBe(0);
    expect(r.stderr.join('\n')).toContain(
      "hf-hub:test/vit-finetune: dropped the checkpoint's classifier (head.bias [5], head.weight [5, 32])",
    );
    expect(r.stderr.join('\n')).toContain('--pretrained hf-hub:test/vit-finetune: 30 of 32 tensors loaded');
    const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architecture: 'vit_tiny_patch16_224',
      num_classes: 3,
      model_args: { img_size: 32, patch_size: 8, embed_dim: 32, depth: 2, num_heads: 2 },
      label_names: ['cam', 'cat', 'cup'],
      pretrained_cfg: { input_size: [3, 32, 32], interpolation: 'bilinear', crop_pct: 0.9, ...IMAGENET },
    });
    const [p] = await predict('--model', `local-dir:${run}`, coffee);
    expect(p!.logits).toHaveLength(3);
    expect(['cam', 'cat', 'cup']).toContain(p!.top[0]!.label);
  });
});

describe('vitkit validate', () => {
  it("writes validate.py's columns as CSV and JSON, with the model's preprocessing and a timm class map", async () => {
    const repo = await timmVit(13);
    hub.commit('test/vit-validate', files(repo));
    const layout: [string, string][] = [
      ['n0002', 'chelsea.png'],
      ['n0002', 'coffee.png'],
      ['n0004', 'camera.png'],
      ['n0005', 'palette_color.png'],
      ['extra', 'hubble_deep_field.jpg'],
    ];
    const data = imageFolder('validate-data', layout);
    const classMap = join(tmp, 'class-map.txt');
    writeFileSync(classMap, `${VIT_LABELS.join('\n')}\n`);
    const out = join(tmp, 'validate-out');
    const r = await vitkit(
      'validate',
      '--model',
      'hf-hub:test/vit-validate',
      '--data',
      `folder:${data}`,
      '--class-map',
      classMap,
      '--out',
      out,
      '--json',
    );
    expect(r.code, r.stderr.join('\n')).toBe(0);

    // The same images through the API: the 'extra' folder is not in the class map and is left out.
    const loaded = await loadPretrained('hf-hub:test/vit-validate');
    const mapped = layout.filter(([cls]) => cls !== 'extra');
    const tops = await classifyFiles(
      loaded.model,
      mapped.map(([cls, file]) => join(data, cls, file)),
      { topk: 5, evalConfig: loaded.evalConfig, labels: loaded.labels },
    );
    const params = loaded.model.numParams();
    loaded.model.dispose();
    const label = (i: number) => VIT_LABELS.indexOf(mapped[i]![0]);
    const top1 = (100 * tops.filter((t, i) => t[0]!.index === label(i)).length) / mapped.length;
    const top5 = (100 * tops.filter((t, i) => t.some((c) => c.index === label(i))).length) / mapped.length;
    const want = {
      model: 'hf-hub:test/vit-validate',
      top1,
      top1_err: 100 - top1,
      top5,
      top5_err: 100 - top5,
      param_count: Number((params / 1e6).toFixed(2)),
      img_size: 32,
      crop_pct: 0.9,
      interpolation: 'bilinear',
    };
    expect(r.json()).toEqual(want);
    expect(JSON.parse(readFileSync(join(out, 'validate.json'), 'utf8'))).toEqual(want);
    const csv = readFileSync(join(out, 'validate.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toBe('model,top1,top1_err,top5,top5_err,param_count,img_size,crop_pct,interpolation');
    const float = (x: number) => (Number.isInteger(x) ? x.toFixed(1) : String(x));
    expect(csv[1]).toBe(
      `hf-hub:test/vit-validate,${float(top1)},${float(100 - top1)},${float(top5)},${float(100 - top5)},${want.param_count},32,0.9,bilinear`,
    );

    // Without a class map, the four folders take the sorted folder order as class indices.
    const plain = await vitkit('validate', '--model', 'hf-hub:test/vit-validate', '--data', `folder:${data}`, '--json');
    expect(plain.code, plain.stderr.join('\n')).toBe(0);
    const bad = await vitkit(
      'validate',
      '--model',
      'hf-hub:test/vit-validate',
      '--data',
      `folder:${data}`,
      '--class-map',
      join(tmp, 'nope.txt'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr.join('\n')).toContain(`${join(tmp, 'nope.txt')}: cannot read the class map (ENOENT)`);
    expect((await vitkit('validate', '--model', 'hf-hub:test/vit-validate', '--data', 'mnist')).code).toBe(2);
  });

  it.skipIf(!hasOnnxRuntime())('--runtime onnx gives the top-1/top-5 of tfjs', async () => {
    hub.commit('test/vit-validate-onnx', files(await timmVit(15)));
    const layout: [string, string][] = VIT_LABELS.map((cls, i) => [
      cls,
      ['chelsea.png', 'coffee.png', 'camera.png', 'palette_color.png'][i % 4]!,
    ]);
    const data = imageFolder('validate-onnx-data', layout);
    const args = ['validate', '--model', 'hf-hub:test/vit-validate-onnx', '--data', `folder:${data}`, '--batch-size', '2', '--json'];
    const viaTfjs = await vitkit(...args);
    const viaOnnx = await vitkit(...args, '--runtime', 'onnx', '--cache-dir', join(tmp, 'onnx-cache'));
    expect(viaTfjs.code, viaTfjs.stderr.join('\n')).toBe(0);
    expect(viaOnnx.code, viaOnnx.stderr.join('\n')).toBe(0);
    expect(viaOnnx.json()).toEqual(viaTfjs.json());
    expect(readdirSync(join(tmp, 'onnx-cache')).some((f) => f.startsWith('vit_') && f.endsWith('.onnx'))).toBe(true);
  });

  it("rounds as Python's round does (ties to even on the exact binary value)", () => {
    expect(pythonRound(0.03125, 4)).toBe(0.0312);
    expect(pythonRound(0.03135, 4)).toBe(0.0314);
    expect(pythonRound(200 / 3, 4)).toBe(66.6667);
    expect(pythonRound(2.5, 0)).toBe(2);
    expect(pythonRound(5.717416, 2)).toBe(5.72);
    expect(pythonRound(-1.005, 2)).toBe(-1);
  });
});

describe("every command's --model takes a pretrained name", () => {
  it('preprocess (config.json only), eval, attention and throughput on hf-hub:', async () => {
    hub.commit('test/vit-commands', files(await timmVit(14)));
    const tensors = join(tmp, 'preprocessed.safetensors');
    const pre = await vitkit('preprocess', coffee, '--model', 'hf-hub:test/vit-commands', '--out', tensors);
    expect(pre.code, pre.stderr.join('\n')).toBe(0);
    const sd = await loadSafetensors(tensors);
    const timm = await loadSafetensors(`${sharedDir}fixtures/preprocess/expected.safetensors`);
    expect(Array.from(sd['coffee.png']!.dataSync())).toEqual(Array.from(timm['coffee.png@bilinear32']!.dataSync()));
    tf.dispose([...Object.values(sd), ...Object.values(timm)]);
    expect(hub.requests.some((r) => r.url.includes('model.safetensors'))).toBe(false);

    const pictures = ['chelsea.png', 'coffee.png', 'camera.png', 'palette_color.png', 'hubble_deep_field.jpg'];
    const data = imageFolder(
      'eval-data',
      VIT_LABELS.map((cls, i) => [cls, pictures[i]!] as const),
    );
    const evalRun = await vitkit('eval', '--model', 'hf-hub:test/vit-commands', '--dataset', `folder:${data}`, '--workers', '1', '--json');
    expect(evalRun.code, evalRun.stderr.join('\n')).toBe(0);
    expect(evalRun.json()).toMatchObject({ model: 'hf-hub:test/vit-commands', images: 5, checkpoint: 'hf-hub:test/vit-commands' });

    if (hasOnnxRuntime()) {
      const onnxRun = await vitkit(
        'eval',
        '--model',
        'hf-hub:test/vit-commands',
        '--dataset',
        `folder:${data}`,
        '--batch-size',
        '2',
        '--runtime',
        'onnx',
        '--cache-dir',
        join(tmp, 'onnx-cache'),
        '--json',
      );
      expect(onnxRun.code, onnxRun.stderr.join('\n')).toBe(0);
      const [tfjsEval, onnxEval] = [evalRun.json(), onnxRun.json()] as { top1: number; top5: number; loss: number; images: number }[];
      expect({ top1: onnxEval!.top1, top5: onnxEval!.top5, images: onnxEval!.images }).toEqual({
        top1: tfjsEval!.top1,
        top5: tfjsEval!.top5,
        images: tfjsEval!.images,
      });
      expect(Math.abs(onnxEval!.loss - tfjsEval!.loss)).toBeLessThan(1e-4);
      const workers = await vitkit(
        'eval',
        '--model',
        'hf-hub:test/vit-commands',
        '--dataset',
        `folder:${data}`,
        '--runtime',
        'onnx',
        '--workers',
        '2',
      );
      expect(workers.code).toBe(2);
    }

    const png = join(tmp, 'attention.png');
    const att = await vitkit('attention', '--model', 'hf-hub:test/vit-commands', '--image', coffee, '--rollout', '--out', png, '--json');
    expect(att.code, att.stderr.join('\n')).toBe(0);
    expect(att.json()).toMatchObject({ size: 32 });

    const speed = await vitkit(
      'throughput',
      '--model',
      'hf-hub:test/vit-commands',
      '--batch-size',
      '1',
      '--runs',
      '1',
      '--warmup',
      '0',
      '--workers',
      '1',
      '--json',
    );
    expect(speed.code, speed.stderr.join('\n')).toBe(0);
    expect(speed.json()).toMatchObject({ model: 'hf-hub:test/vit-commands', img_size: 32 });

    const both = await vitkit('predict', '--model', 'hf-hub:test/vit-commands', '--checkpoint', tensors, coffee);
    expect(both.code).toBe(2);
    expect(both.stderr.join('\n')).toContain(
      "--checkpoint goes with a registered model name, not with the pretrained 'hf-hub:test/vit-commands'",
    );
    const none = await vitkit('predict', '--model', 'vit_micro_32', coffee);
    expect(none.code).toBe(2);
    expect(none.stderr.join('\n')).toContain('vit_micro_32 needs weights: --checkpoint FILE|DIR, or a pretrained name');
  });
});
