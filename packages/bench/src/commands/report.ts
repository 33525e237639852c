// `vitkit report`: writes a comparison's report folder from the results
// database, also while its runs are still going.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { writeReport } from '../compare/report.js';
import { openStore } from '../sweep/store.js';

export const report: Command = {
  name: 'report',
  summary: 'write the report folder of a comparison from its results database',
  usage: 'vitkit report --db URL [--experiment ID] --out DIR [--json]',
  details:
    'URL is an SQLite file (a comparison folder has results.sqlite) or postgres://... Without --experiment,\n' +
    'the newest experiment in the database. Runs still going are listed as running.',
  options: [
    { name: 'db', type: 'string', value: 'URL', description: 'results database: an SQLite file or postgres://...' },
    { name: 'experiment', type: 'string', value: 'ID', description: 'experiment id (vitkit compare prints it; default: the newest)' },
    { name: 'out', type: 'string', value: 'DIR', description: 'report folder' },
  ],
  async run({ options }, io) {
    const db = options['db'] as string | undefined;
    const outOption = options['out'] as string | undefined;
    if (!db || !outOption) throw new UsageError('report needs --db and --out');
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(db) && !existsSync(db)) throw new InputError(`--db ${db}: no such SQLite file`);
    const store = await openStore(db).catch((e: Error) => {
      throw new InputError(e.message);
    });
    try {
      const wanted = options['experiment'] as string | undefined;
      const experiments = await store.experiments();
      const experiment = wanted ? experiments.find((e) => e.id === wanted) : experiments[0];
      if (!experiment)
        throw new InputError(
          wanted
            ? `--experiment ${wanted}: not in ${store.location} (it has ${experiments.map((e) => e.id).join(', ') || 'no experiments'})`
            : `${store.location}: no experiments recorded`,
        );
      if (!wanted && experiments.length > 1)
        io.progress(`${store.location} holds ${experiments.length} experiments; reporting the newest, ${experiment.id}`);
      const out = resolve(outOption);
      await mkdir(out, { recursive: true });
      const runs = await store.runs(experiment.id);
      const summaries = await writeReport(out, experiment, runs);
      const count = (s: string) => runs.filter((r) => r.status === s).length;
      return {
        ok: true,
        lines: [
          `${experiment.id}: ${count('done')} done, ${count('running')} running, ${count('failed')} failed; ${summaries.length} model(s) summarised`,
          `report: ${join(out, 'report.md')}`,
        ],
        data: { experiment: experiment.id, report: out, results: runs },
      };
    } finally {
      await store.close();
    }
  },
};
