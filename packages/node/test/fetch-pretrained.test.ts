// Core's fetchPretrained (fetch and a cache, no file system) against real
// local servers: a plain folder over HTTP and the Hub imitation. It must give
// the model Node's loadPretrained (files through the Hub cache on disk) gives,
// and keep its downloads in the cache it is handed; Node has no Cache API, so
// the tests hand it an in-memory store with the Cache API's match and put.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  createModel,
  declareOptions,
  encodeSafetensors,
  loadWeightsFrom,
  type PretrainedModel,
  registerModel,
  registerReferenceAdapter,
  seedInit,
} from '@vitkit/core';
import { fetchPretrained, type PretrainedCache } from '@vitkit/core/hub';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeHub } from '../../../test-utils/fake-hub.js';
import { maxAbsDiff } from '../../../test-utils/index.js';
import { loadPretrained } from '../src/index.js';
import { TinyVit } from './train-tiny-vit.js';

const ARCH = 'tiny_vit_fetch_test';
const FAMILY = 'tiny-fetch-test';
const LABELS = ['ant', 'bee', 'cat', 'dog', 'eel'];
const CONFIG = JSON.stringify({
  architecture: ARCH,
  num_classes: LABELS.length,
  pretrained_cfg: { input_size: [3, 32, 32], interpolation: 'bicubic', crop_pct: 1, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  label_names: LABELS,
});
const REPO = 'test/tiny-fetch';

/** The Cache API's match and put over a Map, counting what it serves. */
class MemoryCache implements PretrainedCache {
  readonly entries = new Map<string, Uint8Array<ArrayBuffer>>();
  hits = 0;
  async match(url: string): Promise<Response | undefined> {
    const bytes = this.entries.get(url);
    if (bytes) this.hits++;
    return bytes ? new Response(bytes) : undefined;
  }
  async put(url: string, response: Response): Promise<void> {
    this.entries.set(url, new Uint8Array(await response.arrayBuffer()));
  }
}

/** A plain static folder over HTTP, counting requests. */
async function serveFolder(
  files: Record<string, Uint8Array | string>,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url!);
    const body = files[req.url!.slice('/model/'.length)];
    if (!req.url!.startsWith('/model/') || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end('not found');
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/model/`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let weights: Uint8Array;
let input: tf.Tensor4D;
let tmp: string;

beforeAll(async () => {
  registerModel({
    name: ARCH,
    defaults: {
      family: FAMILY,
      imgSize: 32,
      inChannels: 3,
      numClasses: 10,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      cropPct: 1,
      interpolation: 'bicubic',
      implementation: 'none',
      paper: 'none',
      figures: {},
    },
    options: declareOptions(ARCH, { numClasses: 10 }),
    create: (o) => new TinyVit((o?.numClasses as number | undefined) ?? 10),
    cost: () => ({ params: 0, macs: 0 }),
  });
  registerReferenceAdapter({
    family: FAMILY,
    fromReferenceConfig: () => {
      throw new Error('no reference for the test family');
    },
    convertStateDict: (sd) => sd,
    forwardWithIntermediates: () => {
      throw new Error('no reference for the test family');
    },
  });
  seedInit(7);
  const model = createModel(ARCH, { numClasses: LABELS.length });
  const sd = model.stateDict();
  weights = await encodeSafetensors(sd);
  tf.dispose(Object.values(sd));
  model.dispose();
  input = tf.randomUniform([2, 32, 32, 3], -1, 1, 'float32', 3) as tf.Tensor4D;
  tmp = await mkdtemp(join(tmpdir(), 'vitkit-fetch-'));
});
afterAll(async () => {
  input.dispose();
  await rm(tmp, { recursive: true, force: true });
});

function logitsOf(loaded: PretrainedModel): tf.Tensor {
  loaded.model.eval();
  return tf.tidy(() => loaded.model.forward(input));
}

/** Both models' logits on the same input agree to 1e-6; both are disposed. */
function expectSameLogits(a: PretrainedModel, b: PretrainedModel): void {
  const [la, lb] = [logitsOf(a), logitsOf(b)];
  expect(maxAbsDiff(la, lb)).toBeLessThanOrEqual(1e-6);
  tf.dispose([la, lb]);
  a.model.dispose();
  b.model.dispose();
}

describe('fetchPretrained from an http(s) folder', () => {
  it('builds the model loadPretrained builds from the same files on disk, then serves them from the cache', async () => {
    const folder = await serveFolder({ 'config.json': CONFIG, 'model.safetensors': weights });
    const dir = join(tmp, 'folder');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'config.json'), CONFIG);
    await writeFile(join(dir, 'model.safetensors'), weights);
    try {
      const cache = new MemoryCache();
      const fetched = await fetchPretrained(folder.url, { cache });
      expect(fetched.files).toEqual({
        source: folder.url,
        config: `${folder.url}config.json`,
        weights: `${folder.url}model.safetensors`,
        commit: null,
      });
      expect(fetched.labels).toEqual(LABELS);
      expect(fetched.evalConfig.imgSize).toBe(32);
      expect(folder.requests).toEqual(['/model/config.json', '/model/model.safetensors']);
      expectSameLogits(fetched, await loadPretrained(`local-dir:${dir}`));

      // Again: both files from the cache, no request; cache: false asks the server again.
      const again = await fetchPretrained(folder.url.slice(0, -1), { cache });
      expect(folder.requests).toHaveLength(2);
      expect(cache.hits).toBe(2);
      const fresh = await fetchPretrained(folder.url, { cache: false });
      expect(folder.requests).toHaveLength(4);
      expectSameLogits(again, fresh);
    } finally {
      await folder.close();
    }
  });

  it('names the URL and the file a folder lacks; refuses local-dir: as Node-only', async () => {
    const folder = await serveFolder({ 'config.json': CONFIG });
    try {
      await expect(fetchPretrained(folder.url, { cache: false })).rejects.toThrow(
        `${folder.url}: cannot fetch model.safetensors (${folder.url}model.safetensors): HTTP 404 Not Found`,
      );
    } finally {
      await folder.close();
    }
    await expect(fetchPretrained('local-dir:/some/dir')).rejects.toThrow(
      /^local-dir:\/some\/dir: local-dir: names a folder on disk, which only Node can read; use loadPretrained\('local-dir:\/some\/dir'\) from @vitkit\/node/,
    );
  });
});

describe('fetchPretrained from the Hub (hf-hub:)', () => {
  let hub: FakeHub;
  let commit: string;
  beforeEach(async () => {
    hub = await FakeHub.start();
    commit = hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': weights, 'README.md': '# tiny' });
  });

  it("gives loadPretrained's logits; the revision is resolved to its commit; offline, the cache serves the last commit", async () => {
    const cache = new MemoryCache();
    const fetched = await fetchPretrained(`hf-hub:${REPO}`, { hubUrl: hub.url, cache });
    expect(fetched.files.commit).toBe(commit);
    expect(fetched.files.weights).toBe(`${hub.url}/${REPO}/resolve/${commit}/model.safetensors`);
    expect(fetched.labels).toEqual(LABELS);
    const viaNode = await loadPretrained(`hf-hub:${REPO}`, { endpoint: hub.url, cacheDir: join(tmp, 'hub-cache'), progress: false });
    expect(viaNode.files.commit).toBe(commit);
    expectSameLogits(fetched, viaNode);
    expect([...cache.entries.keys()]).toEqual([
      `${hub.url}/api/models/${REPO}/revision/main`,
      `${hub.url}/${REPO}/resolve/${commit}/config.json`,
      `${hub.url}/${REPO}/resolve/${commit}/model.safetensors`,
    ]);

    // Online again: one request (main's commit), the files from the cache.
    hub.requests.length = 0;
    const again = await fetchPretrained(`hf-hub:${REPO}`, { hubUrl: hub.url, cache });
    expect(hub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}`)).toEqual([`GET /api/models/${REPO}/revision/main`]);
    // A commit is never asked about: it names its files for good.
    hub.requests.length = 0;
    const pinned = await fetchPretrained(`hf-hub:${REPO}@${commit}`, { hubUrl: hub.url, cache });
    expect(hub.requests).toEqual([]);
    expectSameLogits(again, pinned);

    // The Hub gone: main's cached commit and its files.
    await hub.close();
    const offline = await fetchPretrained(`hf-hub:${REPO}`, { hubUrl: hub.url, cache });
    expect(offline.files.commit).toBe(commit);
    offline.model.dispose();
    await expect(fetchPretrained(`hf-hub:${REPO}@v2`, { hubUrl: hub.url, cache })).rejects.toThrow(
      new RegExp(
        `^hf-hub:${REPO}@v2: the Hub at ${hub.url} cannot be reached \\(.*\\) and revision 'v2' is not in the cache; load it once online`,
      ),
    );
  });

  it('errors name the repository and the file; a corrupt download is refused and not cached', async () => {
    const cache = new MemoryCache();
    try {
      await expect(fetchPretrained('hf-hub:test/none', { hubUrl: hub.url, cache })).rejects.toThrow(
        /^hf-hub:test\/none@main: .*Repository not found/,
      );
      hub.commit('test/no-weights', { 'config.json': CONFIG });
      await expect(fetchPretrained('hf-hub:test/no-weights', { hubUrl: hub.url, cache })).rejects.toThrow(
        /^hf-hub:test\/no-weights@main \(commit [0-9a-f]{40}\) has no model\.safetensors$/,
      );
      hub.spoil(REPO, 'model.safetensors', 'corrupt');
      await expect(fetchPretrained(`hf-hub:${REPO}`, { hubUrl: hub.url, cache })).rejects.toThrow(
        new RegExp(
          `^hf-hub:${REPO}@main: the download of model\\.safetensors \\(commit ${commit}\\) is not the Hub's file: its content hashes to [0-9a-f]{64}, not its etag [0-9a-f]{64}; nothing was cached$`,
        ),
      );
      expect([...cache.entries.keys()].some((k) => k.endsWith('model.safetensors'))).toBe(false);
      // The next download is whole, checked and cached.
      (await fetchPretrained(`hf-hub:${REPO}`, { hubUrl: hub.url, cache })).model.dispose();
      expect([...cache.entries.keys()].some((k) => k.endsWith(`${commit}/model.safetensors`))).toBe(true);
    } finally {
      await hub.close();
    }
  });
});

describe('loadWeightsFrom', () => {
  it('loads the same weights from bytes, an ArrayBuffer, a Response and a URL; an HTTP error names the URL', async () => {
    const folder = await serveFolder({ 'model.safetensors': weights });
    const url = `${folder.url}model.safetensors`;
    try {
      const reference = createModel(ARCH, { numClasses: LABELS.length });
      await loadWeightsFrom(reference, weights);
      reference.eval();
      const expected = tf.tidy(() => reference.forward(input));
      const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
      for (const source of [buffer, new Response(buffer), url, new URL(url), await fetch(url)]) {
        const model = createModel(ARCH, { numClasses: LABELS.length });
        const report = await loadWeightsFrom(model, source);
        expect(report.loaded).toBeGreaterThan(0);
        model.eval();
        const got = tf.tidy(() => model.forward(input));
        expect(maxAbsDiff(got, expected)).toBe(0);
        tf.dispose(got);
        model.dispose();
      }
      tf.dispose(expected);
      await expect(loadWeightsFrom(reference, `${folder.url}missing.safetensors`)).rejects.toThrow(
        `${folder.url}missing.safetensors: HTTP 404 Not Found`,
      );
      reference.dispose();
    } finally {
      await folder.close();
    }
  });
});
