// "Did you mean ...?" for names typed by hand (models, command-line and model
// options): the candidate fewest single-character edits away (Levenshtein
// distance), compared without case, '_' or '-' so that `embed_dim` finds
// `embedDim`, if it is close enough to be a typo or a shortening rather than
// another word.

/** Insertions, deletions and substitutions that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The candidate nearest to `word`, or undefined when even the nearest needs
 * more edits than half the longer of the two (at least 2 are always allowed):
 * then it is not a typo or a shortening of anything here. Ties go to the
 * first candidate.
 */
export function nearestName(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const key = comparable(word);
  for (const c of candidates) {
    const other = comparable(c);
    const d = editDistance(key, other);
    if (d < bestDistance && d <= Math.max(2, Math.floor(Math.max(key.length, other.length) / 2))) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function comparable(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}
