/** Fixed-width text table; numbers right-aligned. */
export function textTable(header: string[], rows: (string | number)[][]): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const fmt = (r: string[]) =>
    r
      .map((v, c) => (numeric[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)];
}

export const millions = (n: number) => (n / 1e6).toFixed(2);
export const billions = (n: number) => (n / 1e9).toFixed(2);

/**
 * Python's round(x, digits): the exact binary value rounded to `digits`
 * decimals, ties to even (what timm's validate.py writes). toFixed(100) gives
 * the exact decimal expansion of any value a result column holds.
 */
export function pythonRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  const exact = Math.abs(x).toFixed(100);
  const point = exact.indexOf('.');
  const kept = exact.slice(0, point + 1 + digits);
  const rest = exact.slice(point + 1 + digits);
  const last = Number(kept.at(-1) === '.' ? kept.at(-2) : kept.at(-1));
  const up = rest[0]! > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || last % 2 === 1));
  const magnitude = Number(kept) + (up ? 10 ** -digits : 0);
  return Math.sign(x) * Number(magnitude.toFixed(digits));
}

/** A number as Python's repr prints a float (1.0, not 1), for CSV columns that timm writes as floats. */
export const pythonFloat = (x: number): string => (Number.isInteger(x) ? x.toFixed(1) : String(x));
