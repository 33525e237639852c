// The results of comparisons: one interface, kept in SQLite (a file, the
// default) or PostgreSQL (a server several machines write to). A run is one
// (experiment, model, seed); writing it is an upsert on that key, so a job
// delivered twice leaves one row.

/** One comparison: the recipe every run of it follows. */
export interface ExperimentRecord {
  id: string;
  recipe: Record<string, unknown>;
  /** vitkit's version (and the git commit where known) that enqueued it. */
  code_version: string;
  /** ISO 8601. */
  created: string;
}

export type RunStatus = 'running' | 'done' | 'failed';

/** One model trained with one seed. Measurements are null until the run is done. */
export interface RunRecord {
  experiment: string;
  model: string;
  seed: number;
  status: RunStatus;
  family: string;
  dataset: string;
  params: number | null;
  /** Multiply-accumulates of one forward pass at the training input size. */
  macs: number | null;
  top1: number | null;
  top5: number | null;
  /** Wall time of training (evaluation included). */
  train_seconds: number | null;
  /** Training throughput. */
  images_per_sec: number | null;
  train_images: number | null;
  eval_images: number | null;
  /** Optimizer steps at the end, and the step the run continued from (0: trained from the start). */
  steps: number | null;
  resumed_from_step: number | null;
  backend: string | null;
  host: string | null;
  /** ISO 8601. */
  started: string | null;
  finished: string | null;
  error: string | null;
}

export interface ResultsStore {
  /** Where the results are, for messages (a file path or a URL without its password). */
  readonly location: string;
  /** Records an experiment; an existing one with the same id is kept as it is. */
  addExperiment(e: ExperimentRecord): Promise<void>;
  experiment(id: string): Promise<ExperimentRecord | null>;
  /** Newest first. */
  experiments(): Promise<ExperimentRecord[]>;
  /** Inserts or replaces the row of (experiment, model, seed); a finished row is never turned back into a running one. */
  upsertRun(r: RunRecord): Promise<void>;
  /** The runs of one experiment, by model then seed. */
  runs(experiment: string): Promise<RunRecord[]>;
  close(): Promise<void>;
}

export const RUN_COLUMNS: (keyof RunRecord)[] = [
  'experiment',
  'model',
  'seed',
  'status',
  'family',
  'dataset',
  'params',
  'macs',
  'top1',
  'top5',
  'train_seconds',
  'images_per_sec',
  'train_images',
  'eval_images',
  'steps',
  'resumed_from_step',
  'backend',
  'host',
  'started',
  'finished',
  'error',
];

const KEY: (keyof RunRecord)[] = ['experiment', 'model', 'seed'];

/**
 * The upsert both databases accept (SQLite 3.24+ and PostgreSQL 9.5+ share the
 * ON CONFLICT syntax); `placeholder(i)` spells the i-th parameter (0-based).
 */
export function upsertRunSql(placeholder: (i: number) => string): string {
  const updates = RUN_COLUMNS.filter((c) => !KEY.includes(c)).map((c) => `${c} = excluded.${c}`);
  return (
    `INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map((_, i) => placeholder(i)).join(', ')}) ` +
    `ON CONFLICT (experiment, model, seed) DO UPDATE SET ${updates.join(', ')} ` +
    `WHERE runs.status <> 'done' OR excluded.status <> 'running'`
  );
}

/** Opens the store at `spec`: a postgres:// or postgresql:// URL, or else the path of an SQLite file. */
export async function openStore(spec: string): Promise<ResultsStore> {
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.open(spec);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new Error(`--db ${spec}: not a postgres:// URL nor the path of an SQLite file`);
  const { SqliteStore } = await import('./sqlite-store.js');
  return SqliteStore.open(spec);
}

/** A URL with its password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
