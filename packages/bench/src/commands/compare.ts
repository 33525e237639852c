// `vitkit compare`: the main job. Trains every model under the same recipe and
// budget (through `trainModel`, as `vitkit train` does, so the recipe, data
// pipeline, checkpoints and resume are the same code), evaluates, and writes a report folder from the
// results store. Locally the runs go one after the other; with --queue they
// become jobs on a BullMQ queue that `vitkit worker`s on any machine take.
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModelEntry } from '@vitkit/core';
import { initBackend } from '@vitkit/node';
import { InputError, UsageError } from '../args.js';
import { defineCommand } from '../command.js';
import { writeReport } from '../compare/report.js';
import { textTable } from '../format.js';
import { WORKERS_OPTION } from '../replicas.js';
import '../register-models.js';
import { runLocally } from '../sweep/local.js';
import { enqueueRuns, followJobs, openQueue, redisConnection } from '../sweep/queue.js';
import { checkSweepRecipe, experimentId, planRuns, type SweepRecipe } from '../sweep/recipe.js';
import { openStore } from '../sweep/store.js';
import { packageVersion } from '../versions.js';

/** Small variants of the four families at matched MACs (about 11-12 M at 32 px). */
export const DEFAULT_MODELS = ['vit_micro_32', 'vitc_micro_32', 'cswin_micro_32', 'crossvit_micro_32'];

/** vitkit's version, with the git commit when it runs from a checkout. */
export function codeVersion(): string {
  const version = packageVersion('@vitkit/bench') ?? 'unknown';
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: dirname(fileURLToPath(import.meta.url)),
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    return `${version} (${commit})`;
  } catch {
    return version;
  }
}

const pct = (x: number) => Number((100 * x).toFixed(2));

export const compare = defineCommand({
  name: 'compare',
  summary: 'train and compare models under one recipe and budget, here or on queue workers; writes a report folder',
  usage:
    'vitkit compare [--models A,B,...] [--dataset D] [--epochs N] [--budget-macs X] [--seeds K] [--out DIR] [--db URL] [--queue redis://HOST:PORT[/DB] [--detach]] [--json]',
  details:
    `By default compares ${DEFAULT_MODELS.join(', ')} (the four families at about 11-13 M MACs)\n` +
    'on MNIST, which ships with vitkit. Results go to a database (DIR/results.sqlite, or PostgreSQL with\n' +
    '--db postgres://...), one row per model and seed; DIR/results.json, results.csv, report.md, chart.svg\n' +
    'and chart.png are written from it after every run. Started again with the same recipe, it keeps\n' +
    'finished runs and resumes an interrupted one from its checkpoint.\n' +
    'With --queue each (model, seed) becomes a job on the Redis queue for `vitkit worker`s to run, and the\n' +
    'command follows them until all are done or failed (or, with --idle-timeout, until none has changed for that\n' +
    'long); --detach only enqueues and prints the experiment id.\n' +
    'With --budget-macs every model gets that many training MACs (3 x forward MACs per image) instead of\n' +
    'the same number of images.',
  options: [
    { name: 'models', type: 'list', value: 'A,B', description: 'registered models to compare', default: DEFAULT_MODELS },
    {
      name: 'dataset',
      type: 'string',
      value: 'D',
      description: 'mnist, fashion-mnist, cifar10:DIR, cifar100:DIR or folder:DIR',
      default: 'mnist',
    },
    { name: 'epochs', type: 'number', value: 'N', description: 'epochs per model (without --budget-macs)', default: 1 },
    {
      name: 'train-images',
      type: 'number',
      value: 'N',
      description: 'training images per epoch (first N of the split; 0: all)',
      default: 30000,
    },
    { name: 'eval-images', type: 'number', value: 'N', description: 'test images evaluated (first N; 0: all)', default: 0 },
    {
      name: 'budget-macs',
      type: 'number',
      value: 'X',
      description: 'training MACs per model, e.g. 1e12 (overrides --epochs and --train-images)',
    },
    { name: 'seeds', type: 'number', value: 'K', description: 'seeds per model (mean and 95% interval reported)', default: 1 },
    { name: 'batch-size', type: 'number', value: 'B', description: 'training batch size', default: 64 },
    { name: 'lr', type: 'number', value: 'LR', description: 'peak learning rate (train default when absent)' },
    WORKERS_OPTION,
    {
      name: 'checkpoint-every',
      type: 'number',
      value: 'STEPS',
      description: 'checkpoint every this many steps (train default when absent)',
    },
    { name: 'out', type: 'string', value: 'DIR', description: 'report folder', default: 'runs/compare' },
    {
      name: 'db',
      type: 'string',
      value: 'URL',
      description: 'results database: an SQLite file or postgres://... (default DIR/results.sqlite)',
    },
    {
      name: 'queue',
      type: 'string',
      value: 'URL',
      description: 'run the jobs on `vitkit worker`s through this Redis (redis://HOST:PORT[/DB])',
    },
    { name: 'detach', type: 'boolean', description: 'with --queue: enqueue, print the experiment id and return' },
    {
      name: 'attempts',
      type: 'number',
      value: 'N',
      description: 'with --queue: tries per job before it is recorded as failed',
      default: 3,
    },
    { name: 'backoff', type: 'number', value: 'MS', description: 'with --queue: first retry delay, doubled at each retry', default: 5000 },
    {
      name: 'idle-timeout',
      type: 'number',
      value: 'S',
      description: 'with --queue: stop following with an error when no job has changed for S seconds (the jobs stay queued)',
    },
  ],
  async run({ options }, io) {
    const { models, epochs, seeds } = options;
    if (models.length === 0) throw new UsageError('--models needs at least one model');
    if (!(Number.isInteger(seeds) && seeds >= 1) || !(Number.isInteger(epochs) && epochs >= 1))
      throw new UsageError('--seeds and --epochs must be positive integers');
    const recipe: SweepRecipe = checkSweepRecipe({
      models,
      dataset: options.dataset,
      seeds,
      epochs,
      trainImages: options['train-images'] || undefined,
      evalImages: options['eval-images'] || undefined,
      budgetMacs: options['budget-macs'],
      batchSize: options['batch-size'],
      lr: options.lr,
      workers: options.workers,
      checkpointEvery: options['checkpoint-every'],
    });
    const queueUrl = options.queue;
    if (options.detach && !queueUrl) throw new UsageError('--detach needs --queue');
    if (queueUrl) {
      try {
        redisConnection(queueUrl);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const { attempts } = options;
    if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError('--attempts must be a positive integer');
    const idleTimeout = options['idle-timeout'];
    if (idleTimeout !== undefined && !(idleTimeout > 0)) throw new UsageError('--idle-timeout must be positive');
    const out = resolve(options.out);
    const dbSpec = options.db ?? join(out, 'results.sqlite');
    await mkdir(out, { recursive: true });
    const experiment = experimentId(recipe);
    const store = await openStore(dbSpec).catch((e: Error) => {
      throw new InputError(e.message);
    });
    try {
      await store.addExperiment({ id: experiment, recipe: { ...recipe }, code_version: codeVersion(), created: new Date().toISOString() });
      const record = (await store.experiment(experiment))!;
      let environment: Record<string, unknown> = {};
      let interrupted = false;
      if (queueUrl) {
        let lastError = '';
        const queue = openQueue(queueUrl, (e) => {
          if (e.message !== lastError) io.progress(`${queueUrl}: ${e.message}; waiting for Redis`);
          lastError = e.message;
        });
        try {
          const postgres = /^postgres(ql)?:\/\//.test(dbSpec) ? dbSpec : undefined;
          const ids = await enqueueRuns(queue, experiment, planRuns(recipe), {
            attempts,
            backoffMs: options.backoff,
            store: postgres,
          });
          io.progress(`experiment ${experiment}: ${ids.length} job(s) on ${queueUrl}; results in ${store.location}`);
          if (options.detach) {
            const follow = postgres
              ? `the workers record the runs in ${store.location}; vitkit report --db URL --experiment ${experiment} --out DIR reads them`
              : `the runs are recorded by a comparison that follows the queue: run the same command without --detach`;
            return { ok: true, lines: [experiment, follow], data: { experiment, jobs: ids, db: store.location } };
          }
          await followJobs(queue, ids, {
            store,
            family: (m) => getModelEntry(m).defaults.family,
            progress: io.progress,
            idleMs: idleTimeout === undefined ? undefined : idleTimeout * 1000,
          });
        } finally {
          await queue.close();
        }
      } else {
        const backend = await initBackend({ quiet: true });
        environment = {
          node: process.version,
          threads: backend.threads,
          machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
        };
        const result = await runLocally(recipe, {
          store,
          experiment,
          workDir: join(out, 'runs'),
          progress: io.progress,
          afterRun: async () => {
            await writeReport(out, record, await store.runs(experiment), environment);
          },
        });
        interrupted = result.interrupted;
      }
      const runs = await store.runs(experiment);
      const failed = runs.filter((r) => r.status === 'failed').length;
      const summaries = await writeReport(out, record, runs, environment);
      const lines = [
        ...textTable(
          ['model', 'family', 'params (M)', 'MACs (M)', 'n', 'top-1 %', '95% CI', 'top-5 %', 'train s', 'images/s'],
          summaries.map((s) => [
            s.model,
            s.family,
            Number((s.params / 1e6).toFixed(3)),
            Number((s.macs / 1e6).toFixed(2)),
            s.top1.n,
            pct(s.top1.mean),
            s.top1.ci ? `${pct(s.top1.ci[0])}-${pct(s.top1.ci[1])}` : '—',
            pct(s.top5.mean),
            Number(s.trainSeconds.mean.toFixed(0)),
            Number(s.imagesPerSec.mean.toFixed(1)),
          ]),
        ),
        '',
        ...(failed ? [`${failed} run(s) failed; their errors are in the report`] : []),
        interrupted
          ? `interrupted; the report in ${out} covers the finished runs`
          : `report: ${join(out, 'report.md')} (chart: chart.svg, chart.png); experiment ${experiment} in ${store.location}`,
      ];
      return { ok: !interrupted && failed === 0, lines, data: { report: out, experiment, interrupted, results: runs } };
    } finally {
      await store.close();
    }
  },
});
