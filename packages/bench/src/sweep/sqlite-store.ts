// The results store in one SQLite file (better-sqlite3), the default: it lives
// in the report folder beside the files exported from it.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type ExperimentRecord, RUN_COLUMNS, type ResultsStore, schemaSql, type RunRecord, upsertRunSql } from './store.js';

const SCHEMA = schemaSql({ text: 'TEXT', int: 'INTEGER', count: 'INTEGER', real: 'REAL', time: 'TEXT', json: 'TEXT' });

interface ExperimentRow {
  id: string;
  recipe: string;
  code_version: string;
  created: string;
}

export class SqliteStore implements ResultsStore {
  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {}

  static open(path: string): SqliteStore {
    let db: Database.Database;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      // WAL lets `vitkit report` read while a comparison writes; the busy timeout waits for the writer instead of failing.
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 10000');
      db.exec(SCHEMA);
    } catch (e) {
      throw new Error(`${path}: cannot open the results database (${(e as Error).message})`);
    }
    return new SqliteStore(db, path);
  }

  async addExperiment(e: ExperimentRecord): Promise<void> {
    this.db
      .prepare('INSERT INTO experiments (id, recipe, code_version, created) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING')
      .run(e.id, JSON.stringify(e.recipe), e.code_version, e.created);
  }

  async experiment(id: string): Promise<ExperimentRecord | null> {
    const row = this.db.prepare('SELECT * FROM experiments WHERE id = ?').get(id) as ExperimentRow | undefined;
    return row ? toExperiment(row) : null;
  }

  async experiments(): Promise<ExperimentRecord[]> {
    return (this.db.prepare('SELECT * FROM experiments ORDER BY created DESC, id').all() as ExperimentRow[]).map(toExperiment);
  }

  async upsertRun(r: RunRecord): Promise<void> {
    this.db.prepare(upsertRunSql(() => '?')).run(...RUN_COLUMNS.map((c) => r[c]));
  }

  async runs(experiment: string): Promise<RunRecord[]> {
    return this.db.prepare('SELECT * FROM runs WHERE experiment = ? ORDER BY model, seed').all(experiment) as RunRecord[];
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function toExperiment(row: ExperimentRow): ExperimentRecord {
  return { ...row, recipe: JSON.parse(row.recipe) as Record<string, unknown> };
}
