// Files of a Hub model repository, through @huggingface/hub into the cache
// Python shares, as huggingface_hub resolves them: a branch or tag is turned
// into its commit once (refs/NAME), files land in snapshots/COMMIT/, and a
// later load of the same revision is served from the cache without a request.
// The library renames a finished download into place without checking its
// length or hash, so every file is checked against its etag before use.
import { downloadFileToCacheDir, modelInfo, REGEX_COMMIT_HASH } from '@huggingface/hub';
import { TextProgress } from '@vitkit/core';
import { checkCachedFile, discardCachedFile, hubCacheDir, readCachedRef, repoCacheFolder, snapshotPath, writeCachedRef } from './cache.js';

export interface HubOptions {
  /** Hub (or mirror) URL; default `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Access token for gated or private repositories; default `$HF_TOKEN`. */
  token?: string;
  /** Only the cache, no request; default `$HF_HUB_OFFLINE` (1, true, yes, on). */
  offline?: boolean;
  /** Default `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** A progress bar on stderr for files of 1 MB and more; default: when stderr is a terminal and `$HF_HUB_DISABLE_PROGRESS_BARS` is not set. */
  progress?: boolean;
}

export interface HubFiles {
  repo: string;
  revision: string;
  /** The commit the files belong to. */
  commit: string;
  /** Local path (in the cache's snapshot) of each requested file. */
  paths: Record<string, string>;
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** Smaller files download without a progress bar. */
const PROGRESS_MIN_BYTES = 1e6;

const isTrue = (v: string | undefined) => ['1', 'ON', 'YES', 'TRUE'].includes((v ?? '').trim().toUpperCase());

/** Refuses revisions that would leave refs/ when used as a path (huggingface_hub's rule too). */
function checkRevision(label: string, revision: string): void {
  if (revision.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`${label}: revision '${revision}' is not a branch, tag or commit name`);
  }
}

/**
 * Local paths of `files` of the model repository `repo` at `revision` (a
 * branch, tag or commit), downloaded into the Hub cache when they are not
 * there. Errors name the repository, the revision and the files.
 */
export async function downloadHubFiles(
  repo: string,
  revision: string,
  files: readonly string[],
  options: HubOptions = {},
): Promise<HubFiles> {
  const label = `hf-hub:${repo}@${revision}`;
  checkRevision(label, revision);
  const cacheDir = options.cacheDir ?? hubCacheDir();
  const storage = repoCacheFolder(cacheDir, repo);
  const offline = options.offline ?? isTrue(process.env['HF_HUB_OFFLINE']);
  const known = REGEX_COMMIT_HASH.test(revision) ? revision : await readCachedRef(storage, revision);

  const cached = known ? await cachedPaths(storage, known, files) : {};
  if (known && Object.keys(cached).length === files.length) return { repo, revision, commit: known, paths: cached };
  if (offline) {
    const where = known
      ? `${files.filter((f) => !cached[f]).join(', ')} of commit ${known}`
      : `revision '${revision}' (${files.join(', ')})`;
    throw new Error(`${label}: ${where} not in the Hub cache (${storage}) and HF_HUB_OFFLINE is set; download it once online`);
  }

  const hub = {
    hubUrl: (options.endpoint ?? process.env['HF_ENDPOINT'] ?? DEFAULT_ENDPOINT).replace(/\/+$/, ''),
    accessToken: options.token ?? process.env['HF_TOKEN'] ?? undefined,
  };
  let info: { sha?: string; filePaths?: string[] };
  try {
    info = await modelInfo({ name: repo, revision, additionalFields: ['sha', 'filePaths'], ...hub });
  } catch (e) {
    throw failure(label, files, e);
  }
  const commit = info.sha;
  if (typeof commit !== 'string' || !REGEX_COMMIT_HASH.test(commit)) {
    throw new Error(`${label}: the Hub at ${hub.hubUrl} gave no commit for this revision (sha ${JSON.stringify(commit)})`);
  }
  const absent = info.filePaths ? files.filter((f) => !info.filePaths!.includes(f)) : [];
  if (absent.length) {
    throw new Error(`${label} (commit ${commit}) has no ${absent.join(', ')}; its files: ${info.filePaths!.join(', ') || 'none'}`);
  }
  if (commit !== revision) await writeCachedRef(storage, revision, commit);

  const paths = await cachedPaths(storage, commit, files);
  const showProgress = options.progress ?? (process.stderr.isTTY === true && !isTrue(process.env['HF_HUB_DISABLE_PROGRESS_BARS']));
  for (const file of files) {
    if (paths[file]) continue;
    const pointer = snapshotPath(storage, commit, file);
    try {
      await withLibraryLogsOnStderr(() =>
        downloadFileToCacheDir({
          repo: { type: 'model', name: repo },
          path: file,
          revision: commit,
          cacheDir,
          ...hub,
          fetch: showProgress ? fetchWithProgress(`${repo} ${file}`) : fetch,
        }),
      );
    } catch (e) {
      throw failure(label, [file], e);
    }
    const state = await checkCachedFile(pointer);
    if (state.state !== 'ok') {
      await discardCachedFile(storage, pointer);
      const why = state.state === 'corrupt' ? state.reason : 'it was not in the cache afterwards';
      throw new Error(`${label}: the download of ${file} (commit ${commit}) is not the Hub's file: ${why}; it was removed from the cache`);
    }
    paths[file] = pointer;
  }
  return { repo, revision, commit, paths };
}

/** The files of a cached commit whose content checks out; a corrupt one is removed so nothing trusts it later. */
async function cachedPaths(storage: string, commit: string, files: readonly string[]): Promise<Record<string, string>> {
  const paths: Record<string, string> = {};
  for (const file of files) {
    const pointer = snapshotPath(storage, commit, file);
    const state = await checkCachedFile(pointer);
    if (state.state === 'ok') paths[file] = pointer;
    else if (state.state === 'corrupt') await discardCachedFile(storage, pointer);
  }
  return paths;
}

function failure(label: string, files: readonly string[], cause: unknown): Error {
  // fetch reports a dropped connection as 'terminated', with the socket's reason as its cause.
  const inner = cause instanceof Error && cause.cause instanceof Error ? ` (${cause.cause.message})` : '';
  const message = cause instanceof Error ? `${cause.message}${inner}` : String(cause);
  return new Error(`${label}: cannot download ${files.join(', ')}: ${message}`, { cause });
}

let redirects = 0;
let consoleDebug: typeof console.debug = console.debug;

/** @huggingface/hub announces each download with console.debug (stdout); stdout carries results here. */
async function withLibraryLogsOnStderr<T>(run: () => Promise<T>): Promise<T> {
  if (redirects++ === 0) {
    consoleDebug = console.debug;
    console.debug = console.error;
  }
  try {
    return await run();
  } finally {
    if (--redirects === 0) console.debug = consoleDebug;
  }
}

/** A fetch that draws a bar on stderr while the body of a large full-file response streams in. */
function fetchWithProgress(label: string): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const total = Number(res.headers.get('content-length'));
    if (new Headers(init?.headers).has('range') || !res.ok || !res.body || !(total >= PROGRESS_MIN_BYTES)) return res;
    const bar = new TextProgress({ write: (text) => process.stderr.write(text), tty: process.stderr.isTTY === true });
    let done = 0;
    let shown = -1;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          done += chunk.byteLength;
          const percent = Math.floor((100 * done) / total);
          if (percent !== shown) {
            shown = percent;
            bar.transfer(label, done, total);
          }
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
