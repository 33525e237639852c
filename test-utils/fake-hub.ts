// A Hugging Face Hub imitation for tests: a real HTTP server on a free
// loopback port that answers the requests @huggingface/hub makes (model info
// by revision, paths-info, resolve with a Range probe first, LFS files
// redirected to a content store) with the headers the real Hub sends
// (X-Repo-Commit, ETag, X-Linked-Etag, X-Linked-Size, X-Error-Code), and the
// CORS headers that let a page on another origin read them, as the Hub allows.
// Tests build small repositories in memory and count or break the requests.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Files at or above this size are stored as LFS objects, as the Hub stores weights. */
const LFS_THRESHOLD = 1024;

interface StoredFile {
  data: Uint8Array;
  /** Git blob id: what paths-info reports as `oid` and the ETag of a regular file. */
  gitOid: string;
  /** sha256 of the content for LFS files: the `lfs.oid` and the X-Linked-Etag. */
  lfsOid: string | null;
}

interface Commit {
  sha: string;
  files: Map<string, StoredFile>;
}

interface Repo {
  commits: Map<string, Commit>;
  refs: Map<string, string>;
  /** A token that must come as `Authorization: Bearer ...` (a gated repository). */
  token: string | null;
}

export interface HubRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

/**
 * How the server spoils the next full (non-Range) download of a file:
 * 'truncate' drops the connection halfway through the promised length,
 * 'short' sends half the file as a well-formed chunked response (nothing in
 * HTTP says it is incomplete), 'corrupt' sends the full length with one byte changed.
 */
export type Fault = 'truncate' | 'short' | 'corrupt';

/** What a page's script may read of a response (browsers hide other headers of a cross-origin one). */
const EXPOSED_HEADERS = [
  'Content-Length',
  'Content-Range',
  'Accept-Ranges',
  'ETag',
  'X-Repo-Commit',
  'X-Linked-Etag',
  'X-Linked-Size',
  'X-Error-Code',
  'X-Error-Message',
].join(', ');

const gitBlobOid = (data: Uint8Array) => createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export class FakeHub {
  readonly requests: HubRequest[] = [];
  private readonly repos = new Map<string, Repo>();
  private readonly faults = new Map<string, Fault>();
  private commitCount = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeHub> {
    let hub: FakeHub | undefined;
    const server = createServer((req, res) => {
      hub!.handle(req, res).catch((e: Error) => {
        res.destroy(e);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    hub = new FakeHub(server, `http://127.0.0.1:${port}`);
    return hub;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.server.close((e) => (e ? reject(e) : resolve())));
  }

  /**
   * Commits `files` to `repo` (created on first use) and points `branch` (and
   * `tag`, when given) at the new commit, whose sha is returned.
   */
  commit(repo: string, files: Record<string, Uint8Array | string>, options: { branch?: string; tag?: string; token?: string } = {}): string {
    let r = this.repos.get(repo);
    if (!r) {
      r = { commits: new Map(), refs: new Map(), token: options.token ?? null };
      this.repos.set(repo, r);
    }
    const branch = options.branch ?? 'main';
    const parent = r.refs.get(branch);
    const stored = new Map(parent ? r.commits.get(parent)!.files : []);
    for (const [path, content] of Object.entries(files)) {
      const data = typeof content === 'string' ? new TextEncoder().encode(content) : content;
      stored.set(path, { data, gitOid: gitBlobOid(data), lfsOid: data.length >= LFS_THRESHOLD ? sha256(data) : null });
    }
    const sha = createHash('sha1')
      .update(`${repo}\0${++this.commitCount}`)
      .digest('hex');
    r.commits.set(sha, { sha, files: stored });
    r.refs.set(branch, sha);
    if (options.tag) r.refs.set(options.tag, sha);
    return sha;
  }

  /** The next full download of `repo`'s `path` is spoiled this way (once). */
  spoil(repo: string, path: string, fault: Fault): void {
    this.faults.set(`${repo}/${path}`, fault);
  }

  /** Requests whose path starts with `prefix` (all of them without one). */
  count(prefix = '/'): number {
    return this.requests.filter((r) => r.url.startsWith(prefix)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.url);
    const header = (name: string) => (req.headers[name] as string | undefined) ?? undefined;
    this.requests.push({ method: req.method!, url: req.url!, range: header('range'), authorization: header('authorization') });
    const body = await readBody(req);
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS') {
      // A CORS preflight (a Range or Authorization header makes one).
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, HEAD, POST',
        'Access-Control-Allow-Headers': header('access-control-request-headers') ?? '*',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    // Matched before decoding: a revision such as refs/pr/1 arrives percent-encoded as one segment.
    const path = url.pathname;

    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/.exec(path);
    if (m && req.method === 'GET') {
      const commit = this.lookup(res, m[1]!, decodeURIComponent(m[2]!), header('authorization'));
      if (!commit) return;
      return json(res, 200, {
        _id: m[1],
        id: m[1],
        sha: commit.sha,
        private: false,
        gated: false,
        pipeline_tag: 'image-classification',
        siblings: [...commit.files.keys()].map((rfilename) => ({ rfilename })),
      });
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)\/paths-info\/(.+)$/.exec(path);
    if (m && req.method === 'POST') {
      const commit = this.lookup(res, m[1]!, decodeURIComponent(m[2]!), header('authorization'));
      if (!commit) return;
      const { paths } = JSON.parse(body) as { paths: string[] };
      const found = paths.flatMap((p) => {
        const f = commit.files.get(p);
        if (!f) return [];
        return [
          {
            type: 'file',
            path: p,
            oid: f.gitOid,
            size: f.data.length,
            ...(f.lfsOid && { lfs: { oid: f.lfsOid, size: f.data.length, pointerSize: 134 } }),
            lastCommit: { id: commit.sha, title: 'upload', date: '2026-01-01T00:00:00.000Z' },
          },
        ];
      });
      return json(res, 200, found);
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m && (req.method === 'GET' || req.method === 'HEAD')) {
      const [repo, revision, file] = [m[1]!, decodeURIComponent(m[2]!), decodeURIComponent(m[3]!)];
      const commit = this.lookup(res, repo, revision, header('authorization'));
      if (!commit) return;
      const f = commit.files.get(file);
      if (!f) return error(res, 404, 'EntryNotFound', `${file} does not exist on "${revision}"`, { 'X-Repo-Commit': commit.sha });
      if (f.lfsOid) {
        // The Hub sends LFS files to its content store; the linked headers describe the target.
        res.writeHead(302, {
          Location: `/lfs-store/${f.lfsOid}?repo=${encodeURIComponent(repo)}&file=${encodeURIComponent(file)}`,
          'X-Repo-Commit': commit.sha,
          ETag: `"${f.gitOid}"`,
          'X-Linked-Etag': `"${f.lfsOid}"`,
          'X-Linked-Size': String(f.data.length),
        });
        return void res.end();
      }
      return this.send(req, res, `${repo}/${file}`, f.data, { ETag: `"${f.gitOid}"`, 'X-Repo-Commit': commit.sha });
    }
    m = /^\/lfs-store\/([0-9a-f]{64})$/.exec(path);
    if (m && (req.method === 'GET' || req.method === 'HEAD')) {
      const key = `${url.searchParams.get('repo')}/${url.searchParams.get('file')}`;
      for (const r of this.repos.values()) {
        for (const c of r.commits.values()) {
          for (const f of c.files.values()) {
            if (f.lfsOid === m[1]) return this.send(req, res, key, f.data, { ETag: `"${f.lfsOid}"` });
          }
        }
      }
      return error(res, 404, 'EntryNotFound', 'no such object');
    }
    return error(res, 404, 'NotFound', `no route for ${req.method} ${path}`);
  }

  /** The commit `revision` names in `repo`, or an error response as the Hub gives it. */
  private lookup(res: ServerResponse, repo: string, revision: string, authorization: string | undefined): Commit | null {
    const r = this.repos.get(repo);
    if (!r) {
      error(res, 404, 'RepoNotFound', 'Repository not found');
      return null;
    }
    if (r.token && authorization !== `Bearer ${r.token}`) {
      error(res, 401, 'GatedRepo', `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it.`);
      return null;
    }
    const sha = r.refs.get(revision) ?? (r.commits.has(revision) ? revision : undefined);
    if (!sha) {
      error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      return null;
    }
    return r.commits.get(sha)!;
  }

  /** A file body, honouring `Range: bytes=a-b`, or spoiled as `spoil` asked. */
  private send(req: IncomingMessage, res: ServerResponse, key: string, data: Uint8Array, headers: Record<string, string>): void {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const common = { ...headers, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : data.length - 1, data.length - 1);
      res.writeHead(206, { ...common, 'Content-Range': `bytes ${start}-${end}/${data.length}`, 'Content-Length': String(end - start + 1) });
      return void res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
    }
    const fault = req.method === 'HEAD' ? undefined : this.faults.get(key);
    this.faults.delete(key);
    if (fault === 'short') {
      res.writeHead(200, common);
      return void res.end(data.subarray(0, data.length >> 1));
    }
    res.writeHead(200, { ...common, 'Content-Length': String(data.length) });
    if (req.method === 'HEAD') return void res.end();
    if (fault === 'truncate') {
      // Half the promised bytes, then the connection drops.
      res.write(data.subarray(0, data.length >> 1), () => res.destroy());
      return;
    }
    if (fault === 'corrupt') {
      const bad = data.slice();
      bad[bad.length - 1]! ^= 0xff;
      return void res.end(bad);
    }
    res.end(data);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function error(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  json(res, status, { error: message }, { ...headers, 'X-Error-Code': code, 'X-Error-Message': message });
}
