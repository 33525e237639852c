// `vitkit demo` end to end: the built command serves the page on a free
// port, Debian's Chromium (through playwright-core) opens it, picks the
// fixture image, and the page's logits must equal Node's for the same
// weights (fetched from the same server) and the same image file. wasm to
// 1e-4, webgl and webgpu (SwiftShader) to 1e-3. Screenshots go to
// test-output/demo/. Under CI=true a missing Chromium fails the suite.
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
import { decodeImage, writeFileAtomic } from '@vitkit/node';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
async function open(browser: BrowserContext, backend: string, logicalCores?: number): Promise<Page> {
  const page = await browser.newPage();
  // SwiftShader's WebGPU takes seconds per image on a loaded 2-core machine (playwright's default wait is 30 s).
  page.setDefaultTimeout(100_000);
  if (logicalCores) {
    const cdp = await browser.newCDPSession(page);
    await cdp.send('Emulation.setHardwareConcurrencyOverride', { hardwareConcurrency: logicalCores });
  }
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const response = await page.goto(`${url}?backend=${backend}`);
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
