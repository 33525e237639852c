// Where a model name points: a registry name (optionally with a timm
// pretrained tag, `vit_small_patch16_224.augreg_in21k_ft_in1k`), a Hub
// repository laid out as timm publishes models (`hf-hub:ORG/REPO[@REVISION]`),
// or a folder with the same layout (`local-dir:PATH`).

export type PretrainedSource =
  | { kind: 'registry'; name: string; tag: string | null }
  | { kind: 'hf-hub'; repo: string; revision: string }
  | { kind: 'local-dir'; path: string };

/** The Hub's default branch, used when an `hf-hub:` name gives no `@REVISION`. */
export const DEFAULT_HUB_REVISION = 'main';

const REPO_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Splits a model name into where its files come from; a malformed name is an error naming it. */
export function parsePretrainedSource(name: string): PretrainedSource {
  if (name.startsWith('hf-hub:')) {
    const spec = name.slice('hf-hub:'.length);
    const at = spec.indexOf('@');
    const repo = at < 0 ? spec : spec.slice(0, at);
    const revision = at < 0 ? DEFAULT_HUB_REVISION : spec.slice(at + 1);
    const parts = repo.split('/');
    if (parts.length !== 2 || !parts.every((p) => REPO_PART.test(p) && !p.includes('..'))) {
      throw new Error(`model name '${name}': expected hf-hub:ORG/REPO or hf-hub:ORG/REPO@REVISION`);
    }
    if (!revision) throw new Error(`model name '${name}': empty revision after '@'`);
    return { kind: 'hf-hub', repo, revision };
  }
  if (name.startsWith('local-dir:')) {
    const path = name.slice('local-dir:'.length);
    if (!path) throw new Error(`model name '${name}': expected local-dir:PATH`);
    return { kind: 'local-dir', path };
  }
  const dot = name.indexOf('.');
  if (dot < 0) return { kind: 'registry', name, tag: null };
  const [base, tag] = [name.slice(0, dot), name.slice(dot + 1)];
  if (!base || !tag) throw new Error(`model name '${name}': expected NAME or NAME.TAG`);
  return { kind: 'registry', name: base, tag };
}
