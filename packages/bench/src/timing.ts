/** Median wall time of `fn` over `runs` after `warmup` untimed calls (seconds). */
export async function medianSeconds(fn: () => Promise<void>, runs: number, warmup: number): Promise<{ median: number; all: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    all.push((performance.now() - t) / 1000);
  }
  const sorted = [...all].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, all };
}
