import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type ResultsStore, type RunRecord } from '../src/sweep/store.js';
import { type Service, testPostgres } from './services.js';

const run = (over: Partial<RunRecord>): RunRecord => ({
  experiment: 'exp-1',
  model: 'vit_micro_32',
  seed: 0,
  status: 'done',
  family: 'vit',
  dataset: 'mnist',
  params: 170_861,
  macs: 12_190_720,
  top1: 0.9,
  top5: 0.99,
  train_seconds: 12.5,
  images_per_sec: 80.25,
  train_images: 512,
  eval_images: 100,
  steps: 32,
  resumed_from_step: 0,
  backend: 'wasm',
  host: 'a',
  started: '2026-01-01T10:00:00.000Z',
  finished: '2026-01-01T10:01:00.000Z',
  error: null,
  ...over,
});

const backends: [string, () => Promise<{ spec: string; cleanup: () => Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'vitkit-store-'));
      return { spec: join(dir, 'nested', 'results.sqlite'), cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const pg: Service = await testPostgres();
      return { spec: pg.url, cleanup: () => pg.stop() };
    },
  ],
];

describe.each(backends)('results store on %s', (_name, open) => {
  let store: ResultsStore;
  let spec: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ spec, cleanup } = await open());
    store = await openStore(spec);
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('keeps one experiment per id, the first recording', async () => {
    const recipe = { models: ['vit_micro_32'], dataset: 'mnist', seeds: 2 };
    await store.addExperiment({ id: 'exp-1', recipe, code_version: '0.1.0', created: '2026-01-01T09:00:00.000Z' });
    await store.addExperiment({ id: 'exp-1', recipe: { other: true }, code_version: '9', created: '2026-02-01T09:00:00.000Z' });
    await store.addExperiment({ id: 'exp-2', recipe: {}, code_version: '0.1.0', created: '2026-03-01T09:00:00.000Z' });
    expect(await store.experiment('exp-1')).toEqual({ id: 'exp-1', recipe, code_version: '0.1.0', created: '2026-01-01T09:00:00.000Z' });
    expect(await store.experiment('nope')).toBeNull();
    expect((await store.experiments()).map((e) => e.id)).toEqual(['exp-2', 'exp-1']);
  });

  it('upserts runs on (experiment, model, seed): a job delivered twice leaves one row, a done row stays done', async () => {
    await store.upsertRun(run({ status: 'running', top1: null, top5: null, finished: null }));
    await store.upsertRun(run({}));
    await store.upsertRun(run({ top1: 0.91, host: 'b' }));
    await store.upsertRun(run({ status: 'running', top1: null, host: 'c' }));
    await store.upsertRun(run({ seed: 1, status: 'failed', top1: null, top5: null, error: 'ENOENT: no such dataset, "quoted" | piped' }));
    await store.upsertRun(run({ experiment: 'exp-2' }));
    const rows = await store.runs('exp-1');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(run({ top1: 0.91, host: 'b' }));
    expect(rows[1]).toMatchObject({ seed: 1, status: 'failed', top1: null, error: 'ENOENT: no such dataset, "quoted" | piped' });
  });

  it('opens an existing database again with its contents', async () => {
    const again = await openStore(spec);
    try {
      expect((await again.runs('exp-1')).map((r) => r.seed)).toEqual([0, 1]);
    } finally {
      await again.close();
    }
  });
});

describe('openStore', () => {
  it('names the URL it cannot use', async () => {
    await expect(openStore('mysql://localhost/x')).rejects.toThrow(/mysql:\/\/localhost\/x: not a postgres:\/\/ URL/);
    await expect(openStore('postgres://nobody@127.0.0.1:1/none')).rejects.toThrow(/127\.0\.0\.1:1\/none: cannot open the results database/);
    const dir = await mkdtemp(join(tmpdir(), 'vitkit-store-'));
    try {
      await writeFile(join(dir, 'a-file'), '');
      await expect(openStore(join(dir, 'a-file', 'results.sqlite'))).rejects.toThrow(/results\.sqlite: cannot open the results database/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
