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
  /** Wall time of training (evaluation included); for a resumed run, of the part after the resume. */
  train_seconds: number | null;
  /** Training throughput (of the part after a resume). */
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

/** What each column holds, spelled in each database's types by schemaSql. */
type ColumnKind = 'text' | 'int' | 'count' | 'real' | 'time';

const RUN_COLUMN_KINDS: Record<keyof RunRecord, ColumnKind> = {
  experiment: 'text',
  model: 'text',
  seed: 'int',
  status: 'text',
  family: 'text',
  dataset: 'text',
  params: 'count',
  macs: 'count',
  top1: 'real',
  top5: 'real',
  train_seconds: 'real',
  images_per_sec: 'real',
  train_images: 'int',
  eval_images: 'int',
  steps: 'int',
  resumed_from_step: 'int',
  backend: 'text',
  host: 'text',
  started: 'time',
  finished: 'time',
  error: 'text',
};

export const RUN_COLUMNS = Object.keys(RUN_COLUMN_KINDS) as (keyof RunRecord)[];

const REQUIRED: (keyof RunRecord)[] = ['experiment', 'model', 'seed', 'status', 'family', 'dataset'];

/** The tables, with the column kinds in one database's types (`json` is the type of the recipe). */
export function schemaSql(types: Record<ColumnKind | 'json', string>): string {
  const runColumns = RUN_COLUMNS.map((c) => `  ${c} ${types[RUN_COLUMN_KINDS[c]]}${REQUIRED.includes(c) ? ' NOT NULL' : ''},`);
  return [
    'CREATE TABLE IF NOT EXISTS experiments (',
    `  id ${types.text} PRIMARY KEY,`,
    `  recipe ${types.json} NOT NULL,`,
    `  code_version ${types.text} NOT NULL,`,
    `  created ${types.time} NOT NULL`,
    ');',
    'CREATE TABLE IF NOT EXISTS runs (',
    ...runColumns,
    '  PRIMARY KEY (experiment, model, seed),',
    '  FOREIGN KEY (experiment) REFERENCES experiments (id)',
    ');',
  ].join('\n');
}

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
