// Which blocks (or stages) `forwardIntermediates` returns, read as timm's
// feature_take_indices reads them.

/**
 * The block indices `indices` names among `count` blocks, ascending and
 * without repeats: undefined takes all, a number n the last n, an array names
 * them (negative counts from the end). Anything out of range is an error
 * naming `who` and the valid range.
 */
export function takeIndices(count: number, indices: number | number[] | undefined, who: string): number[] {
  if (indices === undefined) return Array.from({ length: count }, (_, i) => i);
  if (typeof indices === 'number') {
    if (!Number.isInteger(indices) || indices < 1 || indices > count) {
      throw new Error(`${who}: indices ${indices} must be a whole number from 1 to ${count} (the last n of ${count} blocks)`);
    }
    return Array.from({ length: indices }, (_, i) => count - indices + i);
  }
  if (!Array.isArray(indices) || indices.length === 0) {
    throw new Error(`${who}: indices must be a number or a non-empty array of block indices (got ${JSON.stringify(indices)})`);
  }
  const taken = indices.map((i) => {
    if (!Number.isInteger(i) || i < -count || i >= count) {
      throw new Error(`${who}: block index ${i} is out of range for ${count} blocks (use 0..${count - 1}, or -${count}..-1 from the end)`);
    }
    return i < 0 ? count + i : i;
  });
  return [...new Set(taken)].sort((a, b) => a - b);
}
