// The Hugging Face cache layout Python's huggingface_hub and @huggingface/hub
// share (`models--ORG--REPO/{blobs,snapshots,refs}`), and the check that makes
// a cached file trustworthy: a blob is named by its Hub etag, which is the
// sha256 of the content for LFS files and the git blob id for the others, so
// a blob whose content does not hash to its own name is truncated or corrupt.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { getHFHubCachePath, getRepoFolderName } from '@huggingface/hub';
import { writeFileAtomic } from '../files.js';

/** `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (read when called). */
export function hubCacheDir(): string {
  return getHFHubCachePath();
}

/** A model repository's folder in the cache. */
export function repoCacheFolder(cacheDir: string, repo: string): string {
  return join(cacheDir, getRepoFolderName({ name: repo, type: 'model' }));
}

/** A file of a commit's snapshot (a symlink to its blob). */
export function snapshotPath(storage: string, commit: string, file: string): string {
  return join(storage, 'snapshots', commit, file);
}

/** The commit a branch or tag pointed at when it was last resolved, or null. */
export async function readCachedRef(storage: string, revision: string): Promise<string | null> {
  try {
    const commit = (await readFile(join(storage, 'refs', revision), 'utf8')).trim();
    return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
  } catch {
    return null;
  }
}

export async function writeCachedRef(storage: string, revision: string, commit: string): Promise<void> {
  const path = join(storage, 'refs', revision);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, commit);
}

export type CachedFileState = { state: 'missing' } | { state: 'ok' } | { state: 'corrupt'; reason: string };

async function digest(path: string, hash: Hash): Promise<string> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Whether a snapshot file is present and its blob's content matches the etag
 * it is named by. Blobs named otherwise (no known hash form) are taken as they are.
 */
export async function checkCachedFile(pointer: string): Promise<CachedFileState> {
  let blob: string;
  try {
    blob = await realpath(pointer);
  } catch {
    return { state: 'missing' };
  }
  const etag = basename(blob);
  let actual: string;
  if (/^[0-9a-f]{64}$/.test(etag)) {
    actual = await digest(blob, createHash('sha256'));
  } else if (/^[0-9a-f]{40}$/.test(etag)) {
    const { size } = await stat(blob);
    actual = await digest(blob, createHash('sha1').update(`blob ${size}\0`));
  } else {
    return { state: 'ok' };
  }
  return actual === etag ? { state: 'ok' } : { state: 'corrupt', reason: `its content hashes to ${actual}, not its etag ${etag}` };
}

/** Removes a snapshot file and the blob behind it (only a blob inside this repository's cache folder). */
export async function discardCachedFile(storage: string, pointer: string): Promise<void> {
  const blob = await realpath(pointer).catch(() => null);
  const blobs = await realpath(join(storage, 'blobs')).catch(() => null);
  if (blob && blobs && dirname(blob) === blobs) await rm(blob, { force: true });
  if (await lstat(pointer).catch(() => null)) await rm(pointer, { force: true });
}
