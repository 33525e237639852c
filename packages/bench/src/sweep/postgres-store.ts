// The results store on a PostgreSQL server (pg), for comparisons whose workers
// run on several machines and write their runs themselves.
import pg from 'pg';
import { type ExperimentRecord, RUN_COLUMNS, type ResultsStore, schemaSql, type RunRecord, redactUrl, upsertRunSql } from './store.js';

const SCHEMA = schemaSql({
  text: 'TEXT',
  int: 'INTEGER',
  count: 'BIGINT',
  real: 'DOUBLE PRECISION',
  time: 'TIMESTAMPTZ',
  json: 'JSONB',
});

// Two sessions creating the tables at once can both pass IF NOT EXISTS; an advisory lock orders them.
const SCHEMA_LOCK = 0x76697463;

// BIGINT comes back as a string by default; parameter and MAC counts fit a double exactly.
const BIGINT_OID = 20;
const TIMESTAMPTZ_OID = 1184;

export class PostgresStore implements ResultsStore {
  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  static async open(url: string): Promise<PostgresStore> {
    const location = redactUrl(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: 2,
      types: {
        getTypeParser: (oid: number, format?: string) => {
          if (oid === BIGINT_OID) return (v: string) => Number(v);
          if (oid === TIMESTAMPTZ_OID) return (v: string) => new Date(v).toISOString();
          return pg.types.getTypeParser(oid, format as 'text');
        },
      } as pg.CustomTypesConfig,
    });
    // An idle client that loses its server (a restart) emits here; the pool replaces it on the next query.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
        await client.query(SCHEMA);
        await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]);
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end();
      throw new Error(`${location}: cannot open the results database (${(e as Error).message})`);
    }
    return new PostgresStore(pool, location);
  }

  async addExperiment(e: ExperimentRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO experiments (id, recipe, code_version, created) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [e.id, JSON.stringify(e.recipe), e.code_version, e.created],
    );
  }

  async experiment(id: string): Promise<ExperimentRecord | null> {
    const { rows } = await this.pool.query<ExperimentRecord>('SELECT * FROM experiments WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  async experiments(): Promise<ExperimentRecord[]> {
    return (await this.pool.query<ExperimentRecord>('SELECT * FROM experiments ORDER BY created DESC, id')).rows;
  }

  async upsertRun(r: RunRecord): Promise<void> {
    await this.pool.query(
      upsertRunSql((i) => `$${i + 1}`),
      RUN_COLUMNS.map((c) => r[c]),
    );
  }

  async runs(experiment: string): Promise<RunRecord[]> {
    return (await this.pool.query<RunRecord>('SELECT * FROM runs WHERE experiment = $1 ORDER BY model, seed', [experiment])).rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
