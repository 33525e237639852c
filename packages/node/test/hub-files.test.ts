import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeHub } from '../../../test-utils/fake-hub.js';
import { encodeSafetensors, parsePretrainedConfig } from '@vitkit/core';
import { downloadHubFiles, loadSafetensors, readPretrainedConfig, resolvePretrainedFiles, savePretrainedDir } from '../src/index.js';

const REPO = 'tiny/vit-test';
const CONFIG = JSON.stringify({ architecture: 'vit_tiny_patch16_224', num_classes: 3 });

function weights(n: number, fill = 0.5): Promise<Uint8Array> {
  return encodeSafetensors({ 'head.bias': tf.fill([n], fill) });
}

let hub: FakeHub;
let cache: string;
const saved = { ...process.env };

beforeEach(async () => {
  hub = await FakeHub.start();
  cache = await mkdtemp(join(tmpdir(), 'vitkit-hub-'));
  process.env['HF_HUB_CACHE'] = cache;
  process.env['HF_ENDPOINT'] = hub.url;
  delete process.env['HF_HUB_OFFLINE'];
  delete process.env['HF_TOKEN'];
});
afterEach(async () => {
  await hub.close();
  process.env = { ...saved };
  await rm(cache, { recursive: true, force: true });
});

describe('Hub files through @huggingface/hub', () => {
  it('downloads config.json and model.safetensors into the standard cache layout, then reuses it without a request', async () => {
    const commit = hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(300), 'README.md': '# tiny' });
    const got = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    expect(got.commit).toBe(commit);
    const storage = join(cache, 'models--tiny--vit-test');
    expect(got.config).toBe(join(storage, 'snapshots', commit, 'config.json'));
    expect(got.weights).toBe(join(storage, 'snapshots', commit, 'model.safetensors'));
    expect(await readFile(join(storage, 'refs', 'main'), 'utf8')).toBe(commit);
    expect(await readlink(got.weights)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/);
    expect(await readlink(got.config)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
    expect(await readFile(got.config, 'utf8')).toBe(CONFIG);
    const sd = await loadSafetensors(got.weights);
    expect(sd['head.bias']!.shape).toEqual([300]);
    tf.dispose(Object.values(sd));
    // README.md is not fetched: only the two files a model needs.
    expect(hub.requests.some((r) => r.url.includes('README'))).toBe(false);
    // What the library asked: the revision's commit, then per file paths-info and a Range probe before the body.
    const seen = hub.requests.map((r) => `${r.method} ${r.url.split('?')[0]}${r.range ? ` (${r.range})` : ''}`);
    expect(seen[0]).toBe(`GET /api/models/${REPO}/revision/main`);
    expect(seen).toContain(`POST /api/models/${REPO}/paths-info/${commit}`);
    expect(seen).toContain(`GET /${REPO}/resolve/${commit}/model.safetensors (bytes=0-0)`);
    expect(seen.some((s) => s.startsWith('GET /lfs-store/') && !s.includes('bytes='))).toBe(true);

    hub.requests.length = 0;
    const again = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    expect(again).toEqual(got);
    expect(hub.requests).toEqual([]);
  });

  it('serves HF_HUB_OFFLINE from the cache and names the missing files otherwise', async () => {
    hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(8) });
    process.env['HF_HUB_OFFLINE'] = '1';
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow(
      `hf-hub:${REPO}@main: revision 'main' (config.json, model.safetensors) not in the Hub cache`,
    );
    expect(hub.requests).toEqual([]);
    delete process.env['HF_HUB_OFFLINE'];
    const { commit } = await downloadHubFiles(REPO, 'main', ['config.json']);
    process.env['HF_HUB_OFFLINE'] = '1';
    hub.requests.length = 0;
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow(
      `hf-hub:${REPO}@main: model.safetensors of commit ${commit} not in the Hub cache (${join(cache, 'models--tiny--vit-test')}) and HF_HUB_OFFLINE is set`,
    );
    expect((await downloadHubFiles(REPO, 'main', ['config.json'])).commit).toBe(commit);
    expect(hub.requests).toEqual([]);
  });

  it('loads a tag, a branch and a commit each at its own commit', async () => {
    const first = hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(4, 1) }, { tag: 'v1' });
    const second = hub.commit(REPO, { 'model.safetensors': await weights(4, 2) });
    const v1 = await resolvePretrainedFiles(`hf-hub:${REPO}@v1`);
    const main = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    const pinned = await resolvePretrainedFiles(`hf-hub:${REPO}@${first}`);
    expect([v1.commit, main.commit, pinned.commit]).toEqual([first, second, first]);
    expect(pinned.weights).toBe(v1.weights);
    for (const [files, value] of [
      [v1, 1],
      [main, 2],
    ] as const) {
      const sd = await loadSafetensors(files.weights);
      expect(sd['head.bias']!.dataSync()[0]).toBe(value);
      tf.dispose(Object.values(sd));
    }
    expect((await readdir(join(cache, 'models--tiny--vit-test', 'refs'))).sort()).toEqual(['main', 'v1']);
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}@nope`)).rejects.toThrow(
      `hf-hub:${REPO}@nope: cannot download config.json, model.safetensors: Invalid rev id: nope`,
    );
  });

  it('names the repository and the file when the file or the repository does not exist', async () => {
    hub.commit(REPO, { 'config.json': CONFIG });
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow(
      /^hf-hub:tiny\/vit-test@main \(commit [0-9a-f]{40}\) has no model\.safetensors; its files: config\.json$/,
    );
    await expect(resolvePretrainedFiles('hf-hub:tiny/absent')).rejects.toThrow(
      'hf-hub:tiny/absent@main: cannot download config.json, model.safetensors: Repository not found',
    );
  });

  it('reads the config.json it fetched, naming the repository and the file in its errors', async () => {
    const commit = hub.commit(REPO, {
      'config.json': '{"architecture": "vit_tiny_patch16_224", "num_classes": 3}',
      'model.safetensors': await weights(3),
    });
    const files = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    await expect(readPretrainedConfig(files)).rejects.toThrow(
      `hf-hub:${REPO} (${join(cache, 'models--tiny--vit-test', 'snapshots', commit, 'config.json')}): 'pretrained_cfg' is missing or not an object`,
    );
  });

  it('sends HF_TOKEN to a gated repository', async () => {
    hub.commit('gated/vit', { 'config.json': CONFIG, 'model.safetensors': await weights(8) }, { token: 'hf_secret' });
    await expect(resolvePretrainedFiles('hf-hub:gated/vit')).rejects.toThrow(
      'hf-hub:gated/vit@main: cannot download config.json, model.safetensors: Access to model gated/vit is restricted',
    );
    process.env['HF_TOKEN'] = 'hf_secret';
    const got = await resolvePretrainedFiles('hf-hub:gated/vit');
    expect(await readFile(got.config, 'utf8')).toBe(CONFIG);
    expect(hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
  });

  it('a download cut short fails, naming the file, and leaves nothing a later run trusts', async () => {
    hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(5000) });
    hub.spoil(REPO, 'model.safetensors', 'truncate');
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow(
      `hf-hub:${REPO}@main: cannot download model.safetensors: terminated (other side closed)`,
    );
    const blobs = await readdir(join(cache, 'models--tiny--vit-test', 'blobs'));
    expect(blobs.filter((b) => b.length === 64)).toEqual([]);
    expect(blobs.filter((b) => b.endsWith('.incomplete'))).toHaveLength(1);
    process.env['HF_HUB_OFFLINE'] = '1';
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow('model.safetensors of commit');
    delete process.env['HF_HUB_OFFLINE'];
    const got = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    const sd = await loadSafetensors(got.weights);
    expect(sd['head.bias']!.shape).toEqual([5000]);
    tf.dispose(Object.values(sd));
  });

  it('a response that ends early without an HTTP error is refused and removed', async () => {
    const commit = hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(500) });
    hub.spoil(REPO, 'model.safetensors', 'short');
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow(
      `hf-hub:${REPO}@main: the download of model.safetensors (commit ${commit}) is not the Hub's file: its content hashes to`,
    );
    await expect(readdir(join(cache, 'models--tiny--vit-test', 'snapshots', commit))).resolves.toEqual(['config.json']);
    expect((await readdir(join(cache, 'models--tiny--vit-test', 'blobs'))).filter((b) => b.length === 64)).toEqual([]);
    expect((await resolvePretrainedFiles(`hf-hub:${REPO}`)).commit).toBe(commit);
  });

  it('a download with the wrong bytes is refused and removed; so is a cached blob damaged later', async () => {
    const commit = hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(500) });
    hub.spoil(REPO, 'model.safetensors', 'corrupt');
    await expect(resolvePretrainedFiles(`hf-hub:${REPO}`)).rejects.toThrow(
      `hf-hub:${REPO}@main: the download of model.safetensors (commit ${commit}) is not the Hub's file: its content hashes to`,
    );
    const blobs = join(cache, 'models--tiny--vit-test', 'blobs');
    expect((await readdir(blobs)).filter((b) => b.length === 64)).toEqual([]);
    const got = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    // Damage the cached blob (as a disk or another tool might): the next load notices and fetches it again.
    await writeFile(got.weights, new Uint8Array(10));
    hub.requests.length = 0;
    const again = await resolvePretrainedFiles(`hf-hub:${REPO}`);
    expect(hub.requests.some((r) => r.url.startsWith('/lfs-store/') && !r.range)).toBe(true);
    const sd = await loadSafetensors(again.weights);
    expect(sd['head.bias']!.shape).toEqual([500]);
    tf.dispose(Object.values(sd));
  });

  it('draws a progress bar on stderr for a large file when asked', async () => {
    hub.commit(REPO, { 'config.json': CONFIG, 'model.safetensors': await weights(300_000) });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      written.push(String(text));
      return true;
    });
    try {
      await resolvePretrainedFiles(`hf-hub:${REPO}`, { progress: true });
    } finally {
      spy.mockRestore();
    }
    const bars = written.filter((t) => t.includes(`${REPO} model.safetensors [`));
    expect(bars.at(-1)).toMatch(/\[#{24}\] 1\.2\/1\.2 MB/);
    expect(written.some((t) => t.includes('config.json ['))).toBe(false);
  });

  it("fetches a registry NAME.TAG (or a bare NAME's default tag) from timm's repository", async () => {
    const commit = hub.commit('timm/deit_tiny_patch16_224.fb_in1k', { 'config.json': CONFIG, 'model.safetensors': await weights(8) });
    expect((await resolvePretrainedFiles('deit_tiny_patch16_224.fb_in1k')).commit).toBe(commit);
    expect((await resolvePretrainedFiles('deit_tiny_patch16_224')).commit).toBe(commit);
    await expect(resolvePretrainedFiles('deit_tiny_patch16_224.in22k')).rejects.toThrow(
      "no pretrained tag 'in22k' for deit_tiny_patch16_224",
    );
  });

  it('local-dir: names the folder and the missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitkit-local-'));
    await writeFile(join(dir, 'config.json'), CONFIG);
    await expect(resolvePretrainedFiles(`local-dir:${dir}`)).rejects.toThrow(`local-dir:${dir}: no model.safetensors in ${dir}`);
    await writeFile(join(dir, 'model.safetensors'), await weights(2));
    expect(await resolvePretrainedFiles(`local-dir:${dir}`)).toEqual({
      source: `local-dir:${dir}`,
      config: join(dir, 'config.json'),
      weights: join(dir, 'model.safetensors'),
      commit: null,
    });
    await rm(dir, { recursive: true });
  });

  it('savePretrainedDir writes a folder that local-dir: reads back', async () => {
    const dir = join(cache, 'saved');
    const config = parsePretrainedConfig({
      architecture: 'cswin_tiny_224',
      num_classes: 2,
      model_args: { embedDim: 16 },
      pretrained_cfg: { input_size: [3, 32, 32], crop_pct: 0.9, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    });
    const sd = { 'head.bias': tf.tensor([1, 2]) };
    await savePretrainedDir(dir, config, sd);
    tf.dispose(Object.values(sd));
    const files = await resolvePretrainedFiles(`local-dir:${dir}`);
    expect(await readPretrainedConfig(files)).toEqual(config);
    const back = await loadSafetensors(files.weights);
    expect(Array.from(back['head.bias']!.dataSync())).toEqual([1, 2]);
    tf.dispose(Object.values(back));
    expect((await readdir(dir)).sort()).toEqual(['config.json', 'model.safetensors']);
  });
});
