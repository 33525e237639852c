// A comparison run in this process, run after run, into the same store as a
// queued one: finished runs are kept, an interrupted one resumes from its
// checkpoint when the comparison is started again.
import { getModelEntry } from '@vitkit/core';
import { pendingRecord } from './queue.js';
import { planRuns, type RunRecipe, runDir, runRecipe, type SweepRecipe } from './recipe.js';
import type { ResultsStore, RunRecord } from './store.js';

export interface LocalOptions {
  store: ResultsStore;
  experiment: string;
  /** Checkpoint folders go under it. */
  workDir: string;
  progress: (line: string) => void;
  /** Called after every finished or failed run (to rewrite the report). */
  afterRun: () => Promise<void>;
}

/** Runs every run of `recipe` not yet done; returns whether one was interrupted (Ctrl-C). */
export async function runLocally(recipe: SweepRecipe, options: LocalOptions): Promise<{ interrupted: boolean }> {
  const { store, experiment } = options;
  const existing = await store.runs(experiment);
  for (const run of planRuns(recipe)) {
    const label = `${run.model} seed ${run.seed}`;
    if (existing.some((r) => r.model === run.model && r.seed === run.seed && r.status === 'done')) {
      options.progress(`${label}: done in an earlier run, kept`);
      continue;
    }
    const family = getModelEntry(run.model).defaults.family;
    const started = new Date().toISOString();
    await store.upsertRun(pendingRecord(experiment, run, family, 'running', { started }));
    const record = await trainOne(run, options.workDir, experiment, label, options.progress).catch(
      (e: Error): RunRecord => pendingRecord(experiment, run, family, 'failed', { started, error: e.message }),
    );
    if (record === null) return { interrupted: true };
    if (record.status === 'failed') options.progress(`${label}: failed: ${record.error}`);
    await store.upsertRun({ ...record, started, finished: new Date().toISOString() });
    await options.afterRun();
  }
  return { interrupted: false };
}

async function trainOne(
  run: RunRecipe,
  workDir: string,
  experiment: string,
  label: string,
  progress: (line: string) => void,
): Promise<RunRecord | null> {
  const outcome = await runRecipe(run, { dir: runDir(workDir, experiment, run), progress: (l) => progress(`  [${run.model}] ${l}`) });
  if (outcome.interrupted) {
    progress(`${label}: interrupted: run the same command again (same --out) to continue`);
    return null;
  }
  const { interrupted: _, ...measured } = outcome;
  return { ...pendingRecord(experiment, run, measured.family, 'done'), ...measured };
}
