// Class names for classifier outputs, as timm's ImageNetInfo gives them: a
// model's own label names where its config has them, else ImageNet-1k's for a
// 1000-class head, else the class indices.
import { IMAGENET_1K_TABLE } from './imagenet-1k-data.js';

export interface ImageNetClass {
  /** WordNet id, e.g. 'n01440764' (what timm's config.json `label_names` hold). */
  synset: string;
  /** WordNet lemmas, e.g. 'tench, Tinca tinca' (timm's `label_descriptions`). */
  lemma: string;
}

/** Parses a generated `synset<TAB>lemma` table (see scripts/make-imagenet-labels.mjs). */
export function parseClassTable(table: string): ImageNetClass[] {
  return table.split('\n').map((line) => {
    const tab = line.indexOf('\t');
    return { synset: line.slice(0, tab), lemma: line.slice(tab + 1) };
  });
}

let imagenet1k: ImageNetClass[] | null = null;

/** The 1000 ImageNet-1k classes in the order every in1k head uses. */
export function imagenet1kClasses(): readonly ImageNetClass[] {
  imagenet1k ??= parseClassTable(IMAGENET_1K_TABLE);
  return imagenet1k;
}

/**
 * A display name per class: `labelDescriptions[name]` or the name itself when
 * `labelNames` is given (it must have one entry per class), the ImageNet-1k
 * lemmas for 1000 classes, else the indices as strings.
 */
export function labelsFor(
  numClasses: number,
  labelNames?: readonly string[],
  labelDescriptions?: Readonly<Record<string, string>>,
): string[] {
  if (!Number.isInteger(numClasses) || numClasses < 0)
    throw new Error(`labelsFor: numClasses must be a whole number >= 0 (got ${numClasses})`);
  if (labelNames) {
    if (labelNames.length !== numClasses) {
      throw new Error(`labelsFor: ${labelNames.length} label names for a head of ${numClasses} classes`);
    }
    return labelNames.map((name) => (labelDescriptions && Object.hasOwn(labelDescriptions, name) ? labelDescriptions[name]! : name));
  }
  if (numClasses === 1000) return imagenet1kClasses().map((c) => c.lemma);
  return Array.from({ length: numClasses }, (_, i) => String(i));
}
