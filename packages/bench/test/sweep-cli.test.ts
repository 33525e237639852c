import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentId, jobId, planRuns } from '../src/sweep/recipe.js';
import { openStore } from '../src/sweep/store.js';
import { redisConnection } from '../src/sweep/queue.js';
import { vitkit } from './cli-helpers.js';

describe('sweep recipes', () => {
  const recipe = { models: ['vit_micro_32', 'cswin_micro_32'], dataset: 'mnist', seeds: 2, epochs: 1, batchSize: 32 };

  it('gives the same comparison the same experiment and job ids, and a different one others', () => {
    expect(experimentId(recipe)).toBe(experimentId({ ...recipe, lr: undefined }));
    expect(experimentId(recipe)).not.toBe(experimentId({ ...recipe, seeds: 3 }));
    expect(jobId(experimentId(recipe), { model: 'vit_micro_32', seed: 1 })).toMatch(/^exp-[0-9a-f]{12}\.vit_micro_32\.seed1$/);
  });

  it('plans one run per (model, seed), seed by seed; a MAC budget sets the images per model', () => {
    expect(planRuns(recipe).map((r) => `${r.model}/${r.seed}`)).toEqual([
      'vit_micro_32/0',
      'cswin_micro_32/0',
      'vit_micro_32/1',
      'cswin_micro_32/1',
    ]);
    const [vit] = planRuns({ ...recipe, seeds: 1, budgetMacs: 3 * 12_190_720 * 100 });
    expect(vit).toMatchObject({ model: 'vit_micro_32', trainImages: 100, epochs: 1 });
  });

  it('reads redis://HOST:PORT/DB and names a URL it cannot use', () => {
    expect(redisConnection('redis://10.1.2.3:6390/4')).toMatchObject({ host: '10.1.2.3', port: 6390, db: 4, maxRetriesPerRequest: null });
    expect(() => redisConnection('http://localhost:6379')).toThrow('--queue http://localhost:6379: expected redis://HOST:PORT[/DB]');
    expect(() => redisConnection('redis://localhost:6379/x')).toThrow(/the database after the port must be a number/);
    expect(() => redisConnection('localhost:6379')).toThrow(/--queue localhost:6379/);
  });
});

describe('vitkit worker, report and compare: bad input', () => {
  it('worker needs a redis:// --queue (usage error)', async () => {
    expect((await vitkit('worker')).code).toBe(2);
    const r = await vitkit('worker', '--queue', 'http://x');
    expect(r.code).toBe(2);
    expect(r.stderr.join('\n')).toContain('--queue http://x: expected redis://');
  });

  it('report names a database it cannot read, and an experiment it does not hold', async () => {
    const missing = join(tmpdir(), 'vitkit-no-such-results.sqlite');
    const r = await vitkit('report', '--db', missing, '--out', join(tmpdir(), 'vitkit-never-written'));
    expect(r.code).toBe(1);
    expect(r.stderr.join('\n')).toContain(`--db ${missing}: no such SQLite file`);
    expect(existsSync(missing)).toBe(false);
    expect((await vitkit('report', '--db', 'mysql://h/x', '--out', tmpdir())).stderr.join('\n')).toContain(
      'mysql://h/x: not a postgres:// URL',
    );
    const dir = mkdtempSync(join(tmpdir(), 'vitkit-report-'));
    try {
      const store = await openStore(join(dir, 'results.sqlite'));
      await store.addExperiment({ id: 'exp-a', recipe: {}, code_version: 'test', created: new Date().toISOString() });
      await store.close();
      const wrong = await vitkit('report', '--db', join(dir, 'results.sqlite'), '--experiment', 'exp-b', '--out', join(dir, 'report'));
      expect(wrong.code).toBe(1);
      expect(wrong.stderr.join('\n')).toContain('--experiment exp-b: not in');
      expect(wrong.stderr.join('\n')).toContain('(it has exp-a)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compare --detach needs --queue; a bad --queue is refused before anything is written', async () => {
    const out = join(tmpdir(), 'vitkit-never-written-compare');
    expect((await vitkit('compare', '--detach', '--out', out)).code).toBe(2);
    const bad = await vitkit('compare', '--queue', 'http://localhost:6379', '--out', out);
    expect(bad.code).toBe(2);
    expect(bad.stderr.join('\n')).toContain('--queue http://localhost:6379: expected redis://HOST:PORT[/DB]');
    const idle = await vitkit('compare', '--queue', 'redis://localhost:6379', '--idle-timeout', '0', '--out', out);
    expect(idle.code).toBe(2);
    expect(idle.stderr.join('\n')).toContain('--idle-timeout must be positive');
    expect(existsSync(out)).toBe(false);
  });
});
