// A pretrained model by name without a file system, in a page or any
// runtime with fetch: `hf-hub:ORG/REPO[@REVISION]` and registered `NAME.TAG`
// through @huggingface/hub's browser-capable downloadFile, an http(s) folder
// URL through fetch. Downloads are kept in the Cache API (where the runtime
// has one) under the URL they came from, as transformers.js keeps its models:
// the Cache API stores Responses by URL, which is what these files are, is
// readable by a service worker for offline pages, and needs no schema.
// A Hub branch or tag is resolved to its commit while the Hub answers (and
// the answer cached), so files are cached by commit, which never changes;
// without the Hub, the last commit cached for that revision is used.
import { downloadFile, fileDownloadInfo, HubApiError, modelInfo } from '@huggingface/hub';
import { parsePretrainedSource } from './pretrained-source.js';
import { resolvePretrainedTag } from './pretrained-tags.js';
import {
  type BuildPretrainedOptions,
  buildPretrained,
  PRETRAINED_CONFIG_FILE,
  PRETRAINED_WEIGHTS_FILE,
  type PretrainedLocation,
  type PretrainedModel,
} from './pretrained-model.js';

/** File contents as fetch and the Cache API hand them over (never a SharedArrayBuffer view). */
type Bytes = Uint8Array<ArrayBuffer>;

/** The Cache API cache fetchPretrained keeps its downloads in. */
export const PRETRAINED_CACHE_NAME = 'vitkit-pretrained';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** A full git commit id (@huggingface/hub exports its own only from its Node build). */
const COMMIT = /^[0-9a-f]{40}$/;

/** The part of the Cache API's `Cache` that fetchPretrained uses (inject another store with the same methods). */
export interface PretrainedCache {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
}

export interface FetchPretrainedOptions extends BuildPretrainedOptions {
  /** The Hub (or a mirror); default https://huggingface.co. */
  hubUrl?: string;
  /** Hub access token for gated or private repositories. */
  accessToken?: string;
  /** The fetch for every request (default globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * Where downloads are kept: default the Cache API's `vitkit-pretrained`
   * cache where `globalThis.caches` exists (none otherwise); false for none.
   */
  cache?: PretrainedCache | false;
}

export interface PretrainedDownload {
  files: PretrainedLocation;
  configText: string;
  weights: Uint8Array;
  /** The URLs that came from the cache, without a request. */
  cached: string[];
}

/**
 * config.json and model.safetensors of `name`: `hf-hub:ORG/REPO[@REVISION]`,
 * a registered `NAME.TAG` (NAME alone: its default tag), or an http(s) URL of
 * a folder holding both. Errors name the repository or URL and the file.
 */
export async function fetchPretrainedFiles(name: string, options: FetchPretrainedOptions = {}): Promise<PretrainedDownload> {
  const cache = await openCache(options.cache);
  const fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  if (/^https?:\/\//i.test(name)) return fetchFolder(name, cache, fetchFn);
  const source = parsePretrainedSource(name);
  if (source.kind === 'local-dir') {
    throw new Error(
      `${name}: local-dir: names a folder on disk, which only Node can read; use loadPretrained('${name}') from @vitkit/node, ` +
        'or give fetchPretrained the http(s) URL of a folder holding config.json and model.safetensors',
    );
  }
  const [repo, revision] = source.kind === 'hf-hub' ? [source.repo, source.revision] : [resolvePretrainedTag(name).hfHubId, 'main'];
  const hub: HubAccess = {
    hubUrl: (options.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, ''),
    accessToken: options.accessToken,
    fetch: fetchFn,
  };
  const label = `hf-hub:${repo}@${revision}`;
  const commit = await resolveCommit(label, repo, revision, hub, cache);
  const cached: string[] = [];
  const get = async (file: string) => {
    const url = `${hub.hubUrl}/${repo}/resolve/${commit}/${file}`;
    const hit = await fromCache(cache, url);
    if (hit) cached.push(url);
    return { url, bytes: hit ?? (await downloadHubFile(label, repo, commit, file, url, hub, cache)) };
  };
  const config = await get(PRETRAINED_CONFIG_FILE);
  const weights = await get(PRETRAINED_WEIGHTS_FILE);
  return {
    files: { source: name, config: config.url, weights: weights.url, commit },
    configText: new TextDecoder().decode(config.bytes),
    weights: weights.bytes,
    cached,
  };
}

/** The model `name` points at (see fetchPretrainedFiles), built by buildPretrained. The caller owns the model. */
export async function fetchPretrained(name: string, options: FetchPretrainedOptions = {}): Promise<PretrainedModel> {
  const got = await fetchPretrainedFiles(name, options);
  return buildPretrained(got.files, got.configText, got.weights, options);
}

interface HubAccess {
  hubUrl: string;
  accessToken: string | undefined;
  fetch: typeof fetch;
}

async function openCache(option: PretrainedCache | false | undefined): Promise<PretrainedCache | null> {
  if (option === false) return null;
  if (option) return option;
  const storage = (globalThis as { caches?: CacheStorage }).caches;
  if (!storage) return null;
  try {
    return await storage.open(PRETRAINED_CACHE_NAME);
  } catch {
    // Opaque origins and some private modes refuse storage: work without a cache.
    return null;
  }
}

async function fromCache(cache: PretrainedCache | null, url: string): Promise<Bytes | null> {
  const hit = await cache?.match(url);
  return hit ? new Uint8Array(await hit.arrayBuffer()) : null;
}

async function toCache(cache: PretrainedCache | null, url: string, bytes: Bytes, type: string): Promise<void> {
  if (!cache) return;
  // A full quota or a closed storage costs the next load a download, not this one its model.
  await cache
    .put(url, new Response(bytes, { headers: { 'Content-Type': type, 'Content-Length': String(bytes.byteLength) } }))
    .catch(() => {});
}

const messageOf = (e: unknown) => {
  // fetch reports a refused or dropped connection as a TypeError whose cause says why.
  const inner = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
  return e instanceof Error ? `${e.message}${inner}` : String(e);
};

/** The commit `revision` names: asked of the Hub, else (the Hub unreachable) the one cached for it. */
async function resolveCommit(
  label: string,
  repo: string,
  revision: string,
  hub: HubAccess,
  cache: PretrainedCache | null,
): Promise<string> {
  if (COMMIT.test(revision)) return revision;
  const key = `${hub.hubUrl}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  let sha: unknown;
  try {
    sha = (await modelInfo({ name: repo, revision, additionalFields: ['sha'], ...hub })).sha;
  } catch (e) {
    // The Hub answered (no such repository, revision or access): that answer stands.
    if (e instanceof HubApiError) throw new Error(`${label}: ${messageOf(e)}`, { cause: e });
    const hit = await fromCache(cache, key);
    const known = hit ? (JSON.parse(new TextDecoder().decode(hit)) as { sha?: unknown }).sha : undefined;
    if (typeof known === 'string' && COMMIT.test(known)) return known;
    throw new Error(
      `${label}: the Hub at ${hub.hubUrl} cannot be reached (${messageOf(e)}) and revision '${revision}' is not in the ` +
        `${cache ? 'cache' : 'cache, which is off'}; load it once online`,
      { cause: e },
    );
  }
  if (typeof sha !== 'string' || !COMMIT.test(sha)) {
    throw new Error(`${label}: the Hub at ${hub.hubUrl} gave no commit for this revision (sha ${JSON.stringify(sha)})`);
  }
  await toCache(cache, key, new TextEncoder().encode(JSON.stringify({ sha })), 'application/json');
  return sha;
}

/**
 * One file of a commit: one plain download (xet off: its chunked protocol
 * needs more of the Hub's endpoints and gives nothing to check the whole file
 * against), checked against the Hub's length and etag before it is cached.
 */
async function downloadHubFile(
  label: string,
  repo: string,
  commit: string,
  file: string,
  url: string,
  hub: HubAccess,
  cache: PretrainedCache | null,
): Promise<Bytes> {
  const designation = { repo: { type: 'model' as const, name: repo }, path: file, revision: commit, ...hub };
  let bytes: Bytes;
  let info: Awaited<ReturnType<typeof fileDownloadInfo>>;
  try {
    info = await fileDownloadInfo(designation);
    const blob = info && (await downloadFile({ ...designation, downloadInfo: info, xet: false }));
    if (!info || !blob) throw new Error(`${label} (commit ${commit}) has no ${file}`);
    bytes = new Uint8Array(await blob.arrayBuffer());
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(label)) throw e;
    throw new Error(`${label}: cannot download ${file} (${url}): ${messageOf(e)}`, { cause: e });
  }
  const wrong = await mismatch(bytes, info.size, info.etag);
  if (wrong) throw new Error(`${label}: the download of ${file} (commit ${commit}) is not the Hub's file: ${wrong}; nothing was cached`);
  await toCache(cache, url, bytes, file.endsWith('.json') ? 'application/json' : 'application/octet-stream');
  return bytes;
}

const hex = (digest: ArrayBuffer) => [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Why `bytes` are not the file the Hub described, or null: the length, then
 * the etag, which is the sha256 of an LFS file's content and the git blob id
 * of the others. Without WebCrypto (a page served over plain http from
 * another host) only the length is checked.
 */
async function mismatch(bytes: Bytes, size: number, etag: string): Promise<string | null> {
  if (bytes.byteLength !== size) return `${bytes.byteLength} bytes, not the ${size} the Hub announced`;
  const subtle = globalThis.crypto?.subtle;
  const expected = etag.replace(/^W\//, '').replace(/"/g, '');
  if (!subtle) return null;
  let actual: string;
  if (/^[0-9a-f]{64}$/.test(expected)) {
    actual = hex(await subtle.digest('SHA-256', bytes));
  } else if (/^[0-9a-f]{40}$/.test(expected)) {
    const header = new TextEncoder().encode(`blob ${bytes.byteLength}\0`);
    const blob = new Uint8Array(header.byteLength + bytes.byteLength);
    blob.set(header);
    blob.set(bytes, header.byteLength);
    actual = hex(await subtle.digest('SHA-1', blob));
  } else {
    return null;
  }
  return actual === expected ? null : `its content hashes to ${actual}, not its etag ${expected}`;
}

/** A folder URL's two files, cached under their URLs (a folder has no commit: clear the cache or pass cache: false to fetch anew). */
async function fetchFolder(name: string, cache: PretrainedCache | null, fetchFn: typeof fetch): Promise<PretrainedDownload> {
  const base = name.endsWith('/') ? name : `${name}/`;
  const cached: string[] = [];
  const get = async (file: string) => {
    const url = new URL(file, base).href;
    const hit = await fromCache(cache, url);
    if (hit) {
      cached.push(url);
      return { url, bytes: hit };
    }
    let response: Response;
    try {
      response = await fetchFn(url);
    } catch (e) {
      throw new Error(`${name}: cannot fetch ${file} (${url}): ${messageOf(e)}`, { cause: e });
    }
    if (!response.ok) throw new Error(`${name}: cannot fetch ${file} (${url}): HTTP ${response.status} ${response.statusText}`.trimEnd());
    const bytes = new Uint8Array(await response.arrayBuffer());
    await toCache(cache, url, bytes, response.headers.get('Content-Type') ?? 'application/octet-stream');
    return { url, bytes };
  };
  const config = await get(PRETRAINED_CONFIG_FILE);
  const weights = await get(PRETRAINED_WEIGHTS_FILE);
  return {
    files: { source: name, config: config.url, weights: weights.url, commit: null },
    configText: new TextDecoder().decode(config.bytes),
    weights: weights.bytes,
    cached,
  };
}
