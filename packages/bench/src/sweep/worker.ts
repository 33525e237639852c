// A worker of comparisons: takes run jobs from the queue and trains them with
// runRecipe, checkpointing into a shared work folder, so a job that another
// worker took over after a stall (its worker killed, its machine lost)
// resumes from the last checkpoint. Asked to stop, it has its jobs save a
// checkpoint, puts them back on the queue and closes.
import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { getModelEntry } from '@vitkit/core';
import { type Job, WaitingError, Worker } from 'bullmq';
import { type JobProgress, pendingRecord, QUEUE_NAME, redisConnection } from './queue.js';
import { parseRunJob, runDir, runRecipe } from './recipe.js';
import { openStore, type ResultsStore, type RunRecord } from './store.js';

export interface WorkerOptions {
  queue: string;
  /** Jobs run at once in this process. */
  concurrency: number;
  /** Shared folder of the runs' checkpoints: <workDir>/<experiment>/<model>-seed<k>. */
  workDir: string;
  /** How long a job stays locked without its worker renewing the lock; a killed worker's job is taken over after about this long. */
  lockMs: number;
  progress: (line: string) => void;
  /** Aborting it stops the worker: running jobs checkpoint and go back to the queue. */
  stop: AbortSignal;
}

/** The status of a worker's blocking connection now: 'connecting' until it first connects, 'ready' when there is none to wait for. */
async function blockingStatus(worker: Worker): Promise<string> {
  const client = worker.backend.blockingClient;
  if (!client) return 'ready';
  return Promise.race([
    client.then(
      (c) => c.status,
      () => 'ready',
    ),
    nextTurn('connecting'),
  ]);
}

/** Runs until `stop` aborts, then returns once every job it held is back on the queue or finished. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const me = `${hostname()}:${process.pid}`;
  const stores = new Map<string, Promise<ResultsStore>>();
  const storeFor = (url: string) => {
    if (!stores.has(url)) stores.set(url, openStore(url));
    return stores.get(url)!;
  };
  const record = async (url: string | undefined, r: RunRecord) => {
    if (url) await (await storeFor(url)).upsertRun(r);
  };

  const processor = async (job: Job, token?: string, cancelled?: AbortSignal): Promise<RunRecord> => {
    const { experiment, recipe, store } = parseRunJob(job.data, job.id!);
    const log = (line: string) => options.progress(`[${job.id}] ${line}`);
    const started = new Date().toISOString();
    const family = getModelEntry(recipe.model).defaults.family;
    await record(store, pendingRecord(experiment, recipe, family, 'running', { started }));
    let lastReport = 0;
    const outcome = await runRecipe(recipe, {
      dir: runDir(options.workDir, experiment, recipe),
      progress: log,
      signal: cancelled ? AbortSignal.any([options.stop, cancelled]) : options.stop,
      onStep: (p) => {
        // At most a few progress writes a second; a write lost while Redis is away is made good by the next one.
        const now = Date.now();
        if (now - lastReport < 250 && p.step !== p.totalSteps) return;
        lastReport = now;
        const progress: JobProgress = { step: p.step, totalSteps: p.totalSteps, worker: me };
        job.updateProgress(progress).catch(() => {});
      },
    });
    if (outcome.interrupted) {
      if (!options.stop.aborted) throw new Error(`stopped at step ${outcome.steps}: this worker lost the job's lock`);
      log(`stopped at step ${outcome.steps} with a checkpoint saved; back on the queue`);
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const { interrupted: _, ...measured } = outcome;
    const done: RunRecord = {
      ...pendingRecord(experiment, recipe, family, 'done'),
      ...measured,
      started,
      finished: new Date().toISOString(),
    };
    await record(store, done);
    log(`done: top-1 ${(100 * done.top1!).toFixed(2)}%`);
    return done;
  };

  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redisConnection(options.queue),
    concurrency: options.concurrency,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
    // A job whose worker died is handed on up to this many times before BullMQ fails it.
    maxStalledCount: 3,
    name: me,
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof WaitingError) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    options.progress(`[${job.id}] attempt ${job.attemptsMade} failed${final ? ', no attempts left' : ''}: ${err.message}`);
    if (!final) return;
    try {
      const { experiment, recipe, store } = parseRunJob(job.data, job.id!);
      const family = getModelEntry(recipe.model).defaults.family;
      const failed = pendingRecord(experiment, recipe, family, 'failed', { finished: new Date().toISOString(), error: err.message });
      record(store, failed).catch((e: Error) => options.progress(`[${job.id}] cannot record the failure: ${e.message}`));
    } catch (e) {
      options.progress(`[${job.id}] ${(e as Error).message}`);
    }
  });
  worker.on('error', (e) => options.progress(`queue: ${e.message}`));
  // A lock that could not be renewed (the process was blocked longer than the lock lasts, or Redis was away) may
  // already be another worker's: stop training here rather than race it on the same checkpoint folder.
  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) {
      options.progress(`[${id}] lost the job's lock: stopping it here at the next step (another worker resumes it)`);
      worker.cancelJob(id, 'lock lost');
    }
  });
  options.progress(
    `worker ${me} on ${options.queue} (queue ${QUEUE_NAME}), ${options.concurrency} job(s) at once, work folder ${options.workDir}`,
  );
  await new Promise<void>((resolve) => {
    if (options.stop.aborted) resolve();
    options.stop.addEventListener('abort', () => resolve(), { once: true });
  });
  options.progress('stopping: running jobs save a checkpoint and go back to the queue');
  // Worker.close() begins by disconnecting the blocking connection (the one BZPOPMIN waits on) and waiting for it
  // to end. A connection between two reconnect attempts, as after Redis restarted a moment ago, never ends: ioredis'
  // disconnect() cancels the pending attempt and, with the socket already gone, emits nothing, so close() would wait
  // forever. Wait until that connection is back first.
  const status = await blockingStatus(worker);
  if (status !== 'ready') {
    options.progress(`waiting for ${options.queue} to close the queue connection (it is ${status})`);
    await worker.backend.reconnectBlocking();
  }
  await worker.close();
  await Promise.all([...stores.values()].map(async (s) => (await s).close()));
}
