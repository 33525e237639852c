// `vitkit demo` end to end: the built command serves the page on a free
// port, Debian's Chromium (through playwright-core) opens it, picks the
// fixture image, and the page's logits must equal Node's for the same
// weights (fetched from the same server) and the same image file. wasm to
// 1e-4, webgl and webgpu (SwiftShader) to 1e-3. An hf-hub: model comes from
// the Hub imitation (test-utils/fake-hub.ts), the page pointed at it with
// --hub-url, and must match Node's loadPretrained, then load again from the
// page's Cache API without downloading the weights, and with the Hub stopped.
// Screenshots go to test-output/demo/. Under CI=true a missing Chromium fails the suite.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  createModel,
  decodeSafetensors,
  encodeSafetensors,
  evalConfigOf,
  getModelEntry,
  loadWeights,
  preprocessImage,
  seedInit,
} from '@vitkit/core';
import { decodeImage, loadPretrained, writeFileAtomic } from '@vitkit/node';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHub } from '../../../test-utils/fake-hub.js';
import '../src/register-models.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(root, 'packages/bench/dist/cli.js');
const PAGE = join(root, 'packages/bench/dist/demo-page/index.html');
const CHROMIUM = '/usr/bin/chromium';
const IMAGE = resolve(root, '../shared/fixtures/preprocess/images/chelsea.png');
const OUT = join(root, 'test-output/demo');
const MODEL = 'vit_micro_32';
const COMMON_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const CPU_FLAGS = [...COMMON_FLAGS, '--disable-gpu'];
// WebGPU has no adapter with --disable-gpu; SwiftShader's Vulkan gives one.
const WEBGPU_FLAGS = [
  ...COMMON_FLAGS,
  '--enable-unsafe-webgpu',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-features=Vulkan',
];

interface PageResult {
  model: string;
  cached: string[];
  top5: { label: string; probability: number }[];
  backend: string;
  threads: number;
  crossOriginIsolated: boolean;
  logits: number[];
  weights: string;
  ms: number;
}

const haveChromium = existsSync(CHROMIUM);

let url: string;
const profiles: string[] = [];
const browsers: BrowserContext[] = [];

const servers: ChildProcess[] = [];

/** Starts the built `vitkit demo ...args` on a free port; resolves to its URL, rejects with its stderr when it exits. */
function startDemo(...args: string[]): Promise<string> {
  const server = spawn(process.execPath, [CLI, 'demo', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(server);
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`vitkit demo did not start in 60 s:\n${stderr}`)), 60_000);
    server.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    server.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vitkit demo exited with ${code}:\n${stderr}`));
    });
  });
}

async function launch(flags: string[]): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'vitkit-chromium-'));
  profiles.push(profile);
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: flags, headless: true });
  browsers.push(browser);
  return browser;
}

/** Node's logits for `weights` (safetensors bytes) and the fixture image, through the same loader and eval transform. */
async function nodeLogits(weights: Uint8Array): Promise<Float32Array> {
  const model = createModel(MODEL);
  const sd = decodeSafetensors(weights, 'demo weights');
  loadWeights(model, sd);
  tf.dispose(Object.values(sd));
  model.eval();
  const cfg = evalConfigOf(getModelEntry(MODEL).defaults);
  const x = tf.tensor4d(preprocessImage(await decodeImage(IMAGE), cfg), [1, cfg.imgSize, cfg.imgSize, 3]);
  const logits = tf.tidy(() => model.forward(x));
  const values = (await logits.data()) as Float32Array;
  tf.dispose([x, logits]);
  model.dispose();
  return values;
}

/** Opens the page on `backend` (checking the isolation headers), waits until it is ready. */
async function open(browser: BrowserContext, backend: string, logicalCores?: number, query = ''): Promise<Page> {
  const page = await browser.newPage();
  // SwiftShader's WebGPU takes seconds per image on a loaded 2-core machine (playwright's default wait is 30 s).
  page.setDefaultTimeout(100_000);
  if (logicalCores) {
    const cdp = await browser.newCDPSession(page);
    await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: logicalCores });
  }
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const response = await page.goto(`${url}?backend=${backend}${query}`);
  expect(response!.headers()['cross-origin-opener-policy']).toBe('same-origin');
  expect(response!.headers()['cross-origin-embedder-policy']).toBe('require-corp');
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { vitkitDemo?: PageState }).vitkitDemo?.status;
    return s === 'ready' || s === 'error';
  });
  expect((await pageState(page)).error, `page errors: ${errors.join('; ')}`).toBeNull();
  return page;
}

interface PageState {
  status: string;
  error: string | null;
  runs: number;
  last: PageResult;
  backend: { backend: string; fallbacks: string[] };
}

/** The page's window.vitkitDemo. */
function pageState(page: Page): Promise<PageState> {
  return page.evaluate(() => (globalThis as unknown as { vitkitDemo: PageState }).vitkitDemo);
}

/** Does `action` on the page and returns the classification it leads to. */
async function nextResult(page: Page, action: () => Promise<unknown>): Promise<PageResult> {
  const { runs } = await pageState(page);
  await action();
  await page.waitForFunction((before) => {
    const s = (globalThis as unknown as { vitkitDemo: PageState }).vitkitDemo;
    return s.runs > before || s.status === 'error';
  }, runs);
  const state = await pageState(page);
  expect(state.error).toBeNull();
  return state.last;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Checks a page result against Node's logits on `backend`, prints the difference, saves a screenshot. */
async function expectAsNode(page: Page, result: PageResult, backend: string, reference: Float32Array, tolerance: number): Promise<void> {
  expect(result.backend).toBe(backend);
  const diff = maxDiff(result.logits, reference);
  const threads = backend === 'wasm' ? ` (${result.threads} threads)` : '';
  console.log(`${backend}${threads}: max |page - Node| = ${diff.toExponential(2)}, ${result.ms.toFixed(1)} ms per image`);
  expect(diff).toBeLessThan(tolerance);
  await page.screenshot({ path: join(OUT, `${backend}.png`) });
}

afterAll(() => {
  for (const server of servers) server.kill('SIGTERM');
});

/** A checkpoint of `name` with seeded fresh weights, written under test-output/demo/. */
async function checkpointOf(name: string, seed: number): Promise<{ file: string; bytes: Uint8Array }> {
  seedInit(seed);
  const model = createModel(name);
  const sd = model.stateDict();
  const bytes = await encodeSafetensors(sd);
  tf.dispose(Object.values(sd));
  model.dispose();
  const file = join(OUT, `${name}-seed${seed}.safetensors`);
  await writeFileAtomic(file, bytes);
  return { file, bytes };
}

describe('vitkit demo --checkpoint', () => {
  beforeAll(() => {
    for (const built of [CLI, PAGE]) if (!existsSync(built)) throw new Error(`${built} is missing: build first (npm run build)`);
    mkdirSync(OUT, { recursive: true });
  });

  it("serves the checkpoint's bytes as the weights of --model", async () => {
    const { file, bytes } = await checkpointOf(MODEL, 2);
    const served = await startDemo('--model', MODEL, '--checkpoint', file);
    const got = new Uint8Array(await (await fetch(`${served}weights/${MODEL}.safetensors`)).arrayBuffer());
    expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses a checkpoint that does not fit --model, naming the file', async () => {
    const { file } = await checkpointOf('cswin_micro_32', 0);
    await expect(startDemo('--model', MODEL, '--checkpoint', file)).rejects.toThrow(
      /exited with 1:[\s\S]*cswin_micro_32-seed0\.safetensors/,
    );
  });
});

describe.skipIf(!haveChromium && process.env['CI'] !== 'true')('vitkit demo in Chromium', () => {
  let reference: Float32Array;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    for (const built of [CLI, PAGE]) if (!existsSync(built)) throw new Error(`${built} is missing: build first (npm run build)`);
    mkdirSync(OUT, { recursive: true });
    url = await startDemo('--model', MODEL);
    const weights = new Uint8Array(await (await fetch(`${url}weights/${MODEL}.safetensors`)).arrayBuffer());
    reference = await nodeLogits(weights);
  });

  afterAll(async () => {
    for (const b of browsers) await b.close();
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
  });

  it('wasm: threaded in a cross-origin isolated page, logits as in Node to 1e-4, also for a dropped weights file', async () => {
    const browser = await launch(CPU_FLAGS);
    // tfjs runs hardwareConcurrency / 2 threads (it assumes hyper-threads): the page is shown
    // a machine of 4 logical cores, so that this 2-core one gets 2 threads.
    const wasm = await open(browser, 'wasm', 4);
    const result = await nextResult(wasm, () => wasm.setInputFiles('#image', IMAGE));
    expect(result.crossOriginIsolated).toBe(true);
    expect(result.threads).toBeGreaterThan(1);
    await expectAsNode(wasm, result, 'wasm', reference, 1e-4);

    // Other weights as a user drops them: seeded differently, through the weights input.
    const { file, bytes } = await checkpointOf(MODEL, 1);
    const dropped = await nextResult(wasm, () => wasm.setInputFiles('#weights', file));
    expect(dropped.weights).toBe(`${MODEL}-seed1.safetensors`);
    expect(maxDiff(dropped.logits, await nodeLogits(bytes))).toBeLessThan(1e-4);
  });

  it('webgl (SwiftShader, with --disable-gpu): logits as in Node to 1e-3, then switched to wasm on the page', async () => {
    const browser = await launch(CPU_FLAGS);
    const page = await open(browser, 'webgl');
    await expectAsNode(page, await nextResult(page, () => page.setInputFiles('#image', IMAGE)), 'webgl', reference, 1e-3);

    // Switching the backend on the page rebuilds the model there and classifies the image again.
    const switched = await nextResult(page, () => page.selectOption('#backend', 'wasm'));
    expect(switched.backend).toBe('wasm');
    expect(maxDiff(switched.logits, reference)).toBeLessThan(1e-4);
  });

  it('webgpu (SwiftShader through Vulkan): an adapter, logits as in Node to 1e-3', async () => {
    const browser = await launch(WEBGPU_FLAGS);
    const page = await open(browser, 'webgpu');
    const { backend } = await pageState(page);
    expect(backend.backend, `no WebGPU: ${backend.fallbacks.join('; ')}`).toBe('webgpu');
    await expectAsNode(page, await nextResult(page, () => page.setInputFiles('#image', IMAGE)), 'webgpu', reference, 1e-3);
  });
});

describe.skipIf(!haveChromium && process.env['CI'] !== 'true')('vitkit demo in Chromium: an hf-hub: model from a Hub', () => {
  const REPO = 'test/demo-vit';
  const LABELS = ['plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  let hub: FakeHub;
  let cacheDir: string;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
    for (const built of [CLI, PAGE]) if (!existsSync(built)) throw new Error(`${built} is missing: build first (npm run build)`);
    mkdirSync(OUT, { recursive: true });
    hub = await FakeHub.start();
    const cfg = evalConfigOf(getModelEntry(MODEL).defaults);
    const config = {
      architecture: MODEL,
      num_classes: LABELS.length,
      pretrained_cfg: {
        input_size: [3, cfg.imgSize, cfg.imgSize],
        interpolation: cfg.interpolation,
        crop_pct: cfg.cropPct,
        mean: cfg.mean,
        std: cfg.std,
      },
      label_names: LABELS,
    };
    hub.commit(REPO, { 'config.json': JSON.stringify(config), 'model.safetensors': (await checkpointOf(MODEL, 3)).bytes });
    cacheDir = mkdtempSync(join(tmpdir(), 'vitkit-demo-hub-'));
    url = await startDemo('--model', MODEL, '--hub-url', hub.url);
  });

  afterAll(async () => {
    for (const b of browsers) await b.close();
    for (const p of profiles) rmSync(p, { recursive: true, force: true });
    await hub.close().catch(() => {});
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("wasm: top-5 as Node's loadPretrained gives them, then from the Cache API: no weights request, and with the Hub stopped", async () => {
    const loaded = await loadPretrained(`hf-hub:${REPO}`, { endpoint: hub.url, cacheDir, progress: false });
    loaded.model.eval();
    const x = tf.tensor4d(preprocessImage(await decodeImage(IMAGE), loaded.evalConfig), [
      1,
      loaded.evalConfig.imgSize,
      loaded.evalConfig.imgSize,
      3,
    ]);
    const logits = tf.tidy(() => tf.squeeze(loaded.model.forward(x)));
    const reference = (await logits.data()) as Float32Array;
    const probabilities = (await tf.tidy(() => tf.softmax(logits)).data()) as Float32Array;
    tf.dispose([x, logits]);
    loaded.model.dispose();
    const nodeTop5 = [...probabilities]
      .map((probability, i) => ({ label: LABELS[i]!, probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 5);

    const browser = await launch(CPU_FLAGS);
    const query = `&model=${encodeURIComponent(`hf-hub:${REPO}`)}`;
    const first = await open(browser, 'wasm', 4, query);
    const result = await nextResult(first, () => first.setInputFiles('#image', IMAGE));
    expect(result.model).toBe(`hf-hub:${REPO}`);
    expect(result.weights).toMatch(new RegExp(`^${hub.url}/${REPO}/resolve/[0-9a-f]{40}/model\\.safetensors$`));
    expect(result.cached).toEqual([]);
    await expectAsNode(first, result, 'wasm', reference, 1e-4);
    expect(result.top5.map((t) => t.label)).toEqual(nodeTop5.map((t) => t.label));
    expect(
      maxDiff(
        result.top5.map((t) => t.probability),
        nodeTop5.map((t) => t.probability),
      ),
    ).toBeLessThan(1e-4);
    await first.close();

    // A new visit: main's commit is asked for, the files come from the Cache API.
    hub.requests.length = 0;
    const second = await open(browser, 'wasm', 4, query);
    const again = await nextResult(second, () => second.setInputFiles('#image', IMAGE));
    expect(again.cached).toContain(result.weights);
    const weightRequests = hub.requests.filter((r) => r.url.includes('model.safetensors') || r.url.startsWith('/lfs-store/'));
    expect(weightRequests, JSON.stringify(hub.requests)).toEqual([]);
    expect(maxDiff(again.logits, reference)).toBeLessThan(1e-4);
    await second.close();

    // The Hub stopped: the commit cached for main and its files.
    await hub.close();
    const offline = await open(browser, 'wasm', 4, query);
    const cachedRun = await nextResult(offline, () => offline.setInputFiles('#image', IMAGE));
    expect(cachedRun.cached).toContain(result.weights);
    expect(maxDiff(cachedRun.logits, reference)).toBeLessThan(1e-4);
    await offline.screenshot({ path: join(OUT, 'wasm-hf-hub.png') });
  });
});
