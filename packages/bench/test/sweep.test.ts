// Comparisons on a real Redis queue with workers as separate processes (the
// built CLI), results in real SQLite and PostgreSQL databases.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReport } from '../src/compare/report.js';
import { enqueueRuns, followJobs, type JobProgress, openQueue } from '../src/sweep/queue.js';
import { checkpointStep, type RunRecipe, runDir } from '../src/sweep/recipe.js';
import { openStore, type RunRecord } from '../src/sweep/store.js';
import { type RunningCli, startVitkit, vitkit } from './cli-helpers.js';
import { RedisServer, type Service, testPostgres, testRedis } from './services.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  exit: Promise<number | null>;
}

function startWorker(queue: string, workDir: string): WorkerProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx nx run-many -t build)`);
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', queue, '--work-dir', workDir, '--lock-seconds', '10'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output, exit };
}

interface Progressed {
  id: string;
  progress: JobProgress;
}

/**
 * Polls until an active job has trained past `minStep` (and a checkpoint) and still has `left` steps to go; with
 * `after`, only a job other than `after.id` or one that has reported a later step than `after`'s counts.
 */
async function activeJobPast(queue: Queue, minStep: number, left: number, after?: Progressed, timeoutMs = 120_000): Promise<Progressed> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const job of await queue.getActive()) {
      const p = job.progress as Partial<JobProgress>;
      if (typeof p.step !== 'number' || p.step < minStep || p.totalSteps! - p.step < left) continue;
      if (after && job.id === after.id && p.step <= after.progress.step) continue;
      return { id: job.id!, progress: p as JobProgress };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const later = after ? ` (a job other than ${after.id}, or past its step ${after.progress.step})` : '';
  throw new Error(`no job trained past step ${minStep}${later} with ${left} steps to go within ${timeoutMs / 1000} s`);
}

/** What the workers and the follower printed, for the message of a wait that timed out. */
function printed(follower: RunningCli | undefined, workers: WorkerProcess[]): string {
  const tail = (lines: string[]) => lines.join('').split('\n').slice(-30).join('\n');
  const parts = workers.map(
    (w) => `worker ${w.child.pid} (exit ${w.child.exitCode ?? w.child.signalCode ?? 'none yet'}):\n${tail(w.output)}`,
  );
  if (follower) parts.push(`follower:\n${follower.stderr.slice(-30).join('\n')}`);
  return parts.join('\n\n');
}

/** `p`, or an error naming `what` and showing `context()` once `ms` have passed. */
async function within<T>(p: Promise<T>, ms: number, what: string, context: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s\n\n${context()}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `check()` holds (polled every 50 ms), or fails as within() does. */
async function until(check: () => boolean | Promise<boolean>, ms: number, what: string, context: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s\n\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const key = (r: RunRecord) => `${r.model} seed ${r.seed}`;

/** 2 models x 2 seeds, 24 steps each, a checkpoint every 4 steps, one replica (deterministic per seed). */
const FOUR_JOBS = [
  '--models',
  'vit_micro_32,vitc_micro_32',
  '--seeds',
  '2',
  '--train-images',
  '192',
  '--batch-size',
  '8',
  '--eval-images',
  '100',
  '--checkpoint-every',
  '4',
  '--workers',
  '1',
];

describe('a comparison on a queue', () => {
  let dir: string;
  const services: Service[] = [];
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vitkit-sweep-'));
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(services.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  it('survives a worker killed mid-training: four rows, the killed job resumed, top-1 as a local comparison', {
    timeout: 600_000,
  }, async () => {
    const redis = await testRedis(1);
    services.push(redis);
    const out = join(dir, 'queued');
    const workDir = join(dir, 'work');
    const detached = await vitkit('compare', ...FOUR_JOBS, '--queue', redis.url, '--out', out, '--detach', '--json');
    expect(detached.code, detached.stderr.join('\n')).toBe(0);
    const { experiment, jobs } = detached.json() as { experiment: string; jobs: string[] };
    expect(jobs).toHaveLength(4);
    expect(detached.stderr.join('\n')).toContain(`experiment ${experiment}: 4 job(s)`);
    // The same comparison again follows the same four jobs: enqueuing is idempotent.
    const following = vitkit('compare', ...FOUR_JOBS, '--queue', redis.url, '--out', out, '--json');
    const a = startWorker(redis.url, workDir);
    const b = startWorker(redis.url, workDir);
    workers.push(a, b);
    const queue = openQueue(redis.url, () => {});
    let killed: { id: string; step: number; worker: WorkerProcess };
    try {
      const { id, progress } = await activeJobPast(queue, 6, 8);
      const job = (await queue.getJob(id))!;
      const data = job.data as { experiment: string; recipe: RunRecipe };
      expect(checkpointStep(runDir(workDir, data.experiment, data.recipe))).toBeGreaterThanOrEqual(4);
      const pid = Number(progress.worker.split(':').at(-1));
      const victim = [a, b].find((w) => w.child.pid === pid)!;
      victim.child.kill('SIGKILL');
      killed = { id: job.id!, step: progress.step, worker: victim };
      const r = await following;
      expect(r.code, r.stderr.join('\n')).toBe(0);
      const returned = (await queue.getJob(killed.id))!.returnvalue as RunRecord;
      expect(returned.resumed_from_step).toBeGreaterThanOrEqual(4);
      expect(returned.resumed_from_step).toBeLessThanOrEqual(killed.step);
    } finally {
      await queue.close();
    }
    // A killed child has no exit code (it ended by a signal): tell the two apart by identity.
    const survivor = killed!.worker === a ? b : a;
    expect(await killed!.worker.exit).toBeNull();
    expect(survivor.output.join('')).toContain('resuming from step');

    const store = await openStore(join(out, 'results.sqlite'));
    const rows = await store.runs(experiment);
    await store.close();
    const report = await vitkit('report', '--db', join(out, 'results.sqlite'), '--out', join(dir, 'report'), '--json');
    expect(report.code, report.stderr.join('\n')).toBe(0);
    expect(readFileSync(join(dir, 'report', 'results.json'), 'utf8')).toBe(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(rows.map(key).sort()).toEqual(['vit_micro_32 seed 0', 'vit_micro_32 seed 1', 'vitc_micro_32 seed 0', 'vitc_micro_32 seed 1']);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    const [killedModel, killedSeed] = killed!.id.split('.').slice(1);
    const killedRow = rows.find((r) => r.model === killedModel && `seed${r.seed}` === killedSeed)!;
    expect(killedRow.resumed_from_step).toBeGreaterThanOrEqual(4);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n')).toHaveLength(5);

    const local = await vitkit('compare', ...FOUR_JOBS, '--out', join(dir, 'local'), '--json');
    expect(local.code, local.stderr.join('\n')).toBe(0);
    const localRows = (local.json() as { results: RunRecord[] }).results;
    expect(Object.fromEntries(localRows.map((r) => [key(r), r.top1]))).toEqual(Object.fromEntries(rows.map((r) => [key(r), r.top1])));

    survivor.child.kill('SIGTERM');
    expect(await survivor.exit).toBe(0);
  });

  it('completes through a Redis restart; a worker stopped with SIGTERM checkpoints and its job resumes elsewhere', {
    timeout: 600_000,
  }, async () => {
    const redis = await RedisServer.start();
    const pg = await testPostgres();
    services.push(redis, pg);
    const workDir = join(dir, 'work-restart');
    const args = [...FOUR_JOBS.slice(2), '--models', 'vit_micro_32', '--queue', redis.url, '--db', pg.url, '--out', join(dir, 'restart')];
    const following = startVitkit('compare', ...args, '--idle-timeout', '60', '--json');
    const a = startWorker(redis.url, workDir);
    workers.push(a);
    const started = [a];
    const context = () => printed(following, started);
    const queue = openQueue(redis.url, () => {});
    try {
      const before = await activeJobPast(queue, 4, 12);
      await redis.restart(1500);
      // The progress Redis kept from before the restart; a later step, or another job, was written after it.
      const kept = await queue.getJob(before.id);
      const persisted = { id: before.id, progress: (kept?.progress as JobProgress | undefined) ?? before.progress };
      const after = await activeJobPast(queue, 6, 6, persisted);
      expect(after.progress.worker).toBe(before.progress.worker);
      const mid = await vitkit('report', '--db', pg.url, '--out', join(dir, 'mid-sweep'), '--json');
      expect(mid.code, mid.stderr.join('\n')).toBe(0);
      expect((mid.json() as { results: RunRecord[] }).results.map((r) => r.status)).toContain('running');
      // The follower may see the worker gone before this test sees it exit.
      const printedBefore = following.stderr.length;
      a.child.kill('SIGTERM');
      expect(await within(a.exit, 30_000, 'worker a exits after SIGTERM', context)).toBe(0);
      expect(a.output.join('')).toContain('back on the queue');
      await until(
        () => following.stderr.slice(printedBefore).some((l) => l.includes('no worker is connected')),
        30_000,
        'the follower reports that no worker is connected',
        context,
      );
      const b = startWorker(redis.url, workDir);
      workers.push(b);
      started.push(b);
      const r = await within(following.done, 180_000, 'the follower sees every job finished', context);
      expect(r.code, r.stderr.join('\n')).toBe(0);
      b.child.kill('SIGTERM');
      expect(await within(b.exit, 30_000, 'worker b exits after SIGTERM', context)).toBe(0);
    } finally {
      await queue.close();
    }
    const store = await openStore(pg.url);
    const rows = await store.runs((await store.experiments())[0]!.id);
    await store.close();
    expect(rows.map((r) => `${key(r)} ${r.status}`)).toEqual(['vit_micro_32 seed 0 done', 'vit_micro_32 seed 1 done']);
    expect(rows.some((r) => (r.resumed_from_step ?? 0) > 0)).toBe(true);
  });

  it('a worker stopped with SIGTERM while Redis is down exits once Redis is back', { timeout: 120_000 }, async () => {
    const redis = await RedisServer.start();
    services.push(redis);
    const w = startWorker(redis.url, join(dir, 'work-down'));
    workers.push(w);
    const context = () => printed(undefined, [w]);
    const queue = openQueue(redis.url, () => {});
    try {
      // Connected: its blocking connection (the one BullMQ names after the worker) is in Redis's client list.
      await until(async () => (await queue.getWorkers()).length === 1, 30_000, 'the worker connects', context);
    } finally {
      await queue.close();
    }
    await redis.down();
    // Both its connections (the main one and the blocking one) have seen Redis go and retry on a timer.
    await until(() => (w.output.join('').match(/ECONNREFUSED/g)?.length ?? 0) >= 2, 30_000, 'the worker retries its connections', context);
    w.child.kill('SIGTERM');
    await until(() => w.output.join('').includes('stopping:'), 30_000, 'the worker handles SIGTERM', context);
    await redis.up();
    expect(await within(w.exit, 30_000, 'the worker exits once Redis is back', context)).toBe(0);
    expect(w.output.join('')).toMatch(/waiting for redis:\S+ to close the queue connection[\s\S]*worker stopped/);
  });

  it('a follower with --idle-timeout gives up on jobs that no worker takes, naming each one and leaving it queued', async () => {
    const redis = await testRedis(3);
    services.push(redis);
    const out = join(dir, 'idle');
    const args = [...FOUR_JOBS.slice(2), '--models', 'vit_micro_32', '--queue', redis.url, '--out', out];
    const r = await vitkit('compare', ...args, '--idle-timeout', '2', '--json');
    expect(r.code).toBe(1);
    const said = r.stderr.join('\n');
    expect(said).toContain('jobs: 0 done, 0 active, 2 waiting, 0 failed; no worker is connected');
    expect(said).toMatch(/no job changed in 2 s: vit_micro_32 seed 0: waiting; vit_micro_32 seed 1: waiting \(jobs: 0 done/);
    expect(said).toContain('The jobs stay on the queue; the same command follows them again.');
    const queue = openQueue(redis.url, () => {});
    try {
      expect((await queue.getWaiting()).map((j) => j.id!.split('.').slice(1).join('.')).sort()).toEqual([
        'vit_micro_32.seed0',
        'vit_micro_32.seed1',
      ]);
    } finally {
      await queue.close();
    }
  });

  const stores: [string, () => Promise<string>][] = [
    ['SQLite', async () => join(dir, `fail-${Date.now()}.sqlite`)],
    [
      'PostgreSQL',
      async () => {
        const pg = await testPostgres();
        services.push(pg);
        return pg.url;
      },
    ],
  ];
  it.each(stores)('records a job that always fails as failed after its retries, the rest done (%s)', async (_name, storeSpec) => {
    const redis = await testRedis(2);
    services.push(redis);
    const spec = await storeSpec();
    const store = await openStore(spec);
    const experiment = `exp-fail-${Date.now()}`;
    const recipe = { models: ['vit_micro_32'], dataset: 'mnist', seeds: 1, epochs: 1, trainImages: 64, evalImages: 50, batchSize: 32 };
    await store.addExperiment({ id: experiment, recipe, code_version: 'test', created: new Date().toISOString() });
    const good: RunRecipe = {
      model: 'vit_micro_32',
      seed: 0,
      dataset: 'mnist',
      epochs: 1,
      trainImages: 64,
      evalImages: 50,
      batchSize: 32,
      workers: 1,
    };
    const bad: RunRecipe = { ...good, seed: 1, dataset: `folder:${join(dir, 'no-such-dataset')}` };
    const queue = openQueue(redis.url, () => {});
    const worker = startWorker(redis.url, join(dir, 'work-fail'));
    workers.push(worker);
    try {
      const ids = await enqueueRuns(queue, experiment, [good, bad], {
        attempts: 3,
        backoffMs: 100,
        store: spec.startsWith('postgres') ? spec : undefined,
      });
      const lines: string[] = [];
      expect(await followJobs(queue, ids, { store, family: () => 'vit', progress: (l) => lines.push(l), pollMs: 200 })).toEqual({
        done: 1,
        failed: 1,
      });
      expect((await queue.getJob(ids[1]!))!.attemptsMade).toBe(3);
      expect(lines.join('\n')).toMatch(/vit_micro_32 seed 1: failed after 3 attempt\(s\): .*no-such-dataset/);
    } finally {
      await queue.close();
      worker.child.kill('SIGTERM');
      await worker.exit;
    }
    const rows = await store.runs(experiment);
    expect(rows.map((r) => `${key(r)} ${r.status}`)).toEqual(['vit_micro_32 seed 0 done', 'vit_micro_32 seed 1 failed']);
    expect(rows[1]!.error).toContain('no-such-dataset');
    const out = join(dir, `fail-report-${Date.now()}`);
    await writeReport(out, (await store.experiment(experiment))!, rows);
    await store.close();
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Failed runs');
    expect(md).toMatch(/\| vit_micro_32 \| 1 \| .* \| .*no-such-dataset/);
    expect(readFileSync(join(out, 'results.csv'), 'utf8')).toMatch(/vit_micro_32,,,,,,32,1,bicubic,1,failed,.*no-such-dataset/);
  });
});
