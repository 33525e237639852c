// Real Redis and PostgreSQL servers for the tests. CI starts them and passes
// their URLs (VITKIT_TEST_REDIS_URL, VITKIT_TEST_POSTGRES_URL); under CI=true a
// missing URL is an error, not a skip. Elsewhere, without the URL, a test
// starts its own server from Debian's binaries on a free loopback port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface Service {
  url: string;
  stop(): Promise<void>;
}

const ci = process.env['CI'] === 'true';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up in ${timeoutMs / 1000} s`);
}

/** A redis-server of this test's own, persisting to an append-only file so that a restart keeps the queue. */
export class RedisServer implements Service {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    if (!existsSync('/usr/bin/redis-server')) throw new Error('redis-server is not installed (apt-get install redis-server)');
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'vitkit-redis-')));
    await server.up();
    return server;
  }

  /** Starts the server (again) on its port and data. */
  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes'];
    this.child = spawn('/usr/bin/redis-server', [...args, '--appendfsync', 'always'], { stdio: 'ignore' });
    await waitFor(`redis-server on port ${this.port}`, async () => {
      const r = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
      // Refused connections while the server starts are expected; connect() rejects with them.
      r.on('error', () => {});
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    });
  }

  /** Stops the server and keeps its data for up(). */
  async down(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    this.child = null;
  }

  /** Stops the server and starts it again on the same port and data. */
  async restart(downMs: number): Promise<void> {
    await this.down();
    await new Promise((r) => setTimeout(r, downMs));
    await this.up();
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The Redis of the test run (CI's, or one of its own), with database `db` emptied. */
export async function testRedis(db: number): Promise<Service> {
  const given = process.env['VITKIT_TEST_REDIS_URL'];
  if (!given && ci) throw new Error('CI=true but VITKIT_TEST_REDIS_URL is not set: .ci/run starts redis-server and exports it');
  const server = given ? null : await RedisServer.start();
  const base = given ?? server!.url;
  const url = `${base.replace(/\/\d*$/, '')}/${db}`;
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    await r.flushdb();
  } finally {
    r.disconnect();
  }
  return { url, stop: async () => server?.stop() };
}

/** A PostgreSQL cluster of this test's own (initdb and pg_ctl from Debian's package, as the postgres user when run as root). */
async function startPostgres(): Promise<Service> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
  if (versions.length === 0) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
  const dir = mkdtempSync(join(tmpdir(), 'vitkit-pg-'));
  const root = process.getuid?.() === 0;
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, { stdio: 'ignore' });
  const port = await freePort();
  run(`${bin}/initdb`, ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  run(`${bin}/pg_ctl`, [
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      run(`${bin}/pg_ctl`, ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, empty database on the PostgreSQL of the test run (CI's, or one of its own); dropped by stop(). */
export async function testPostgres(): Promise<Service> {
  const given = process.env['VITKIT_TEST_POSTGRES_URL'];
  if (!given && ci) throw new Error('CI=true but VITKIT_TEST_POSTGRES_URL is not set: .ci/run starts PostgreSQL and exports it');
  const server = given ? null : await startPostgres();
  const admin = given ?? server!.url;
  const name = `vitkit_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const query = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await query(`CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    stop: async () => {
      await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server?.stop();
    },
  };
}
