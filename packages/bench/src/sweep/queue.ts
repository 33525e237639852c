// A comparison on a BullMQ queue: one job per (model, seed) with a
// deterministic id, so enqueuing the same comparison twice adds nothing, and a
// follower that shows the jobs' states and records each outcome in the store.
// Retries with backoff and stalled-job recovery are BullMQ's.
import { hostname } from 'node:os';
import { type Job, Queue, type RedisOptions } from 'bullmq';
import { jobId, type RunJob, type RunRecipe } from './recipe.js';
import type { ResultsStore, RunRecord, RunStatus } from './store.js';

export const QUEUE_NAME = 'vitkit-compare';

/** The connection options of a redis://HOST:PORT[/DB] URL; anything else is an error naming the URL. */
export function redisConnection(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: not a URL (expected redis://HOST:PORT[/DB])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue ${url}: expected redis://HOST:PORT[/DB]`);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`--queue ${url}: the database after the port must be a number (got '${db}')`);
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    db: db ? Number(db) : 0,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
    // BullMQ's workers block on Redis and must wait through an outage rather than fail a command.
    maxRetriesPerRequest: null,
  };
}

/** The comparison queue at `url`; `onError` hears connection errors (the connection itself retries until Redis is back). */
export function openQueue(url: string, onError: (e: Error) => void): Queue {
  const queue = new Queue(QUEUE_NAME, { connection: redisConnection(url) });
  queue.on('error', onError);
  return queue;
}

export interface EnqueueOptions {
  /** Tries per job before it is recorded as failed. */
  attempts: number;
  /** First retry delay; each further retry waits twice as long. */
  backoffMs: number;
  /** A PostgreSQL URL the workers record runs in themselves. */
  store?: string;
}

/** Puts one job per run on the queue; a job already there (same experiment, model and seed) is kept as it is. */
export async function enqueueRuns(queue: Queue, experiment: string, runs: RunRecipe[], options: EnqueueOptions): Promise<string[]> {
  const ids: string[] = [];
  for (const recipe of runs) {
    const data: RunJob = { experiment, recipe, ...(options.store ? { store: options.store } : {}) };
    const job = await queue.add(`${recipe.model} seed ${recipe.seed}`, data, {
      jobId: jobId(experiment, recipe),
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
    });
    ids.push(job.id!);
  }
  return ids;
}

/** What a worker reports through job.updateProgress. */
export interface JobProgress {
  step: number;
  totalSteps: number;
  /** host:pid of the worker process. */
  worker: string;
}

/** The row of a run with no measurements yet (running, or failed with its error); a done run adds its measurements. */
export function pendingRecord(
  experiment: string,
  r: RunRecipe,
  family: string,
  status: RunStatus,
  fields: Partial<RunRecord> = {},
): RunRecord {
  return {
    experiment,
    model: r.model,
    seed: r.seed,
    status,
    family,
    dataset: r.dataset,
    params: null,
    macs: null,
    top1: null,
    top5: null,
    train_seconds: null,
    images_per_sec: null,
    train_images: null,
    eval_images: null,
    steps: null,
    resumed_from_step: null,
    backend: null,
    host: hostname(),
    started: null,
    finished: null,
    error: null,
    ...fields,
  };
}

type State = 'waiting' | 'active' | 'done' | 'failed' | 'missing';

function describe(state: State, job: Job | undefined): string {
  if (state === 'active') {
    const p = job?.progress as Partial<JobProgress> | undefined;
    return p && typeof p.step === 'number'
      ? `active, step ${p.step}/${p.totalSteps} (${Math.floor((100 * p.step) / (p.totalSteps || 1))}%) on ${p.worker}`
      : 'active';
  }
  if (state === 'failed') return `failed after ${job?.attemptsMade} attempt(s): ${job?.failedReason}`;
  if (state === 'waiting' && job?.attemptsMade)
    return `waiting (attempt ${job.attemptsMade + 1} of ${job.opts.attempts}, last error: ${job.failedReason})`;
  return state;
}

export interface FollowOptions {
  store: ResultsStore;
  /** Family of each model, for failed rows. */
  family: (model: string) => string;
  progress: (line: string) => void;
  pollMs?: number;
  /** Gives up, naming every unfinished job's state, when no job has changed state or progress for this long; absent: follows as long as it takes. */
  idleMs?: number;
}

/** How many workers hold a connection to the queue (their named blocking connections); null where Redis does not list its clients. */
async function connectedWorkers(queue: Queue): Promise<number | null> {
  try {
    const db = String((await queue.backend.client).options['db'] ?? 0);
    const workers = await queue.getWorkers();
    // BullMQ answers a server without CLIENT LIST (GCP's) with one entry that only has a name.
    if (!workers.every((w) => w['addr'] !== undefined)) return null;
    // The list covers every database of the server, and a queue of the same name may live in another one.
    return workers.filter((w) => w['db'] === db).length;
  } catch {
    return null;
  }
}

function workersText(n: number | null): string {
  if (n === null) return '';
  return n === 0 ? '; no worker is connected: the jobs wait for a `vitkit worker` on this queue' : `; ${n} worker(s) connected`;
}

/**
 * Polls the jobs until each is done or failed, printing every change of a
 * job's state or progress and of the number of workers connected, and upserts
 * each outcome into the store (workers writing to PostgreSQL record them too;
 * the upsert keeps one row). Redis being away only delays the polls: the
 * connection waits and reconnects. A job that can no longer finish is an error:
 * one gone from the queue, or, with `idleMs`, any unfinished job once none has
 * changed for that long.
 */
export async function followJobs(queue: Queue, ids: string[], options: FollowOptions): Promise<{ done: number; failed: number }> {
  /** Each job's last printed line, `<model> seed <k>: <state>`. */
  const shown = new Map<string, string>();
  const recorded = new Set<string>();
  let shownWorkers: number | null | undefined;
  let lastChange = Date.now();
  for (;;) {
    const counts: Record<State, number> = { waiting: 0, active: 0, done: 0, failed: 0, missing: 0 };
    let changed = false;
    for (const id of ids) {
      // The state first: a job read after it reached 'completed' carries its return value.
      const raw = await queue.getJobState(id);
      const job = raw === 'unknown' ? undefined : await queue.getJob(id);
      const state: State = !job ? 'missing' : raw === 'completed' ? 'done' : raw === 'failed' || raw === 'active' ? raw : 'waiting';
      counts[state]++;
      const data = job?.data as RunJob | undefined;
      const line = `${data ? `${data.recipe.model} seed ${data.recipe.seed}` : id}: ${describe(state, job)}`;
      if (shown.get(id) !== line) {
        shown.set(id, line);
        options.progress(line);
        changed = true;
      }
      if (job && data && !recorded.has(id) && (state === 'done' || state === 'failed')) {
        const finished = new Date(job.finishedOn ?? Date.now()).toISOString();
        await options.store.upsertRun(
          state === 'done'
            ? (job.returnvalue as RunRecord)
            : pendingRecord(data.experiment, data.recipe, options.family(data.recipe.model), 'failed', {
                host: null,
                started: job.processedOn ? new Date(job.processedOn).toISOString() : null,
                finished,
                error: job.failedReason,
              }),
        );
        recorded.add(id);
      }
    }
    if (counts.missing) throw new Error(`${counts.missing} job(s) are no longer on the queue (was Redis restarted without persistence?)`);
    const finished = counts.done + counts.failed === ids.length;
    const workers = finished ? (shownWorkers ?? null) : await connectedWorkers(queue);
    const summary = `${counts.done} done, ${counts.active} active, ${counts.waiting} waiting, ${counts.failed} failed${workersText(workers)}`;
    if (changed || workers !== shownWorkers) options.progress(`jobs: ${summary}`);
    shownWorkers = workers;
    if (finished) return { done: counts.done, failed: counts.failed };
    if (changed) lastChange = Date.now();
    else if (options.idleMs !== undefined && Date.now() - lastChange >= options.idleMs) {
      const unfinished = ids.filter((id) => !recorded.has(id)).map((id) => shown.get(id));
      throw new Error(
        `no job changed in ${Math.round(options.idleMs / 1000)} s: ${unfinished.join('; ')} (jobs: ${summary}). ` +
          'The jobs stay on the queue; the same command follows them again.',
      );
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
