// `vitkit worker`: takes comparison jobs from a Redis queue and trains them;
// start one on every machine (or core) that should work on a sweep.
import { resolve } from 'node:path';
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { redisConnection } from '../sweep/queue.js';
import { runWorker } from '../sweep/worker.js';

export const worker: Command = {
  name: 'worker',
  summary: 'run comparison jobs from a Redis queue (see vitkit compare --queue)',
  usage: 'vitkit worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--work-dir DIR]',
  details:
    'Each job is one (model, seed) of a comparison, trained as vitkit compare trains it locally. Checkpoints go\n' +
    'to --work-dir, which workers on several machines should share (a network file system): a job whose worker\n' +
    'was killed is taken over by another one after --lock-seconds and resumes from its last checkpoint. The lock\n' +
    'is renewed between training steps, so --lock-seconds must be longer than the slowest step. A\n' +
    'failing job is retried (vitkit compare --attempts) and then recorded as failed. Ctrl-C or SIGTERM: the\n' +
    'running jobs save a checkpoint and go back to the queue, then the worker exits. Jobs running at once in one\n' +
    'worker share its thread and the training random streams: for runs that are reproducible seed by seed keep\n' +
    '--concurrency 1 and start one worker per core.',
  options: [
    { name: 'queue', type: 'string', value: 'URL', description: 'the Redis of the queue (redis://HOST:PORT[/DB])' },
    { name: 'concurrency', type: 'number', value: 'N', description: 'jobs at once in this process', default: 1 },
    { name: 'work-dir', type: 'string', value: 'DIR', description: 'shared folder of the runs checkpoints', default: 'runs/work' },
    {
      name: 'lock-seconds',
      type: 'number',
      value: 'S',
      description: 'a job whose worker stops renewing its lock this long is handed to another worker (more than one training step)',
      default: 60,
    },
  ],
  async run({ options }, io) {
    const queue = options['queue'] as string | undefined;
    if (!queue) throw new UsageError('worker needs --queue redis://HOST:PORT[/DB]');
    try {
      redisConnection(queue);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const concurrency = options['concurrency'] as number;
    const lockSeconds = options['lock-seconds'] as number;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new UsageError('--concurrency must be a positive integer');
    if (!(lockSeconds > 0)) throw new UsageError('--lock-seconds must be positive');
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) process.exit(130);
      io.progress(`${signal}: stopping (again to quit at once)`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runWorker({
        queue,
        concurrency,
        workDir: resolve(options['work-dir'] as string),
        lockMs: lockSeconds * 1000,
        progress: io.progress,
        stop: controller.signal,
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return { ok: true, lines: ['worker stopped'], data: { stopped: true } };
  },
};
