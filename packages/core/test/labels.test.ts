import { readFileSync } from 'node:fs';
import { sharedDir } from '../../../test-utils/index.js';
import { describe, expect, it } from 'vitest';
import { imagenet1kClasses, labelsFor } from '../src/index.js';
import { imagenet21kGoogClasses } from '../src/imagenet-21k.js';

function tsvRows(file: string): string[][] {
  return readFileSync(`${sharedDir}data/imagenet/${file}`, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((r) => r.split('\t'));
}

describe('ImageNet labels', () => {
  it('ships the 1000 in1k classes in index order, as the shared table has them', () => {
    const rows = tsvRows('in1k.tsv');
    const classes = imagenet1kClasses();
    expect(classes).toHaveLength(1000);
    expect(classes.map((c) => [c.synset, c.lemma])).toEqual(rows.map((r) => [r[1], r[2]]));
    expect(classes[0]).toEqual({ synset: 'n01440764', lemma: 'tench, Tinca tinca' });
  });

  it('ships the 21843 in21k (Google order) classes behind their own entry', () => {
    const rows = tsvRows('in21k_goog.tsv');
    const classes = imagenet21kGoogClasses();
    expect(classes).toHaveLength(21843);
    expect(classes.map((c) => c.synset)).toEqual(rows.map((r) => r[1]));
  });

  it('labelsFor prefers the descriptions of the given names, then the names, then the 1k lemmas, then indices', () => {
    expect(labelsFor(2, ['n01440764', 'cat'], { n01440764: 'tench, Tinca tinca' })).toEqual(['tench, Tinca tinca', 'cat']);
    expect(labelsFor(2, ['a', 'b'])).toEqual(['a', 'b']);
    expect(labelsFor(1000)[1]).toBe('goldfish, Carassius auratus');
    expect(labelsFor(3)).toEqual(['0', '1', '2']);
    expect(labelsFor(21843)[5]).toBe('5');
  });

  it('labelsFor refuses label names that do not match the head', () => {
    expect(() => labelsFor(3, ['a', 'b'])).toThrow('2 label names for a head of 3 classes');
  });
});
