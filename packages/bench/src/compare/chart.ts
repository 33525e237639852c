// The comparison's picture: top-1 accuracy against MACs per image (log scale),
// one point per model with the 95% interval of its mean over seeds (none for a
// single seed), coloured by family.
import type { ModelSummary } from './results.js';

const FAMILY_COLOURS: Record<string, string> = {
  vit: '#1f77b4',
  'hybrid-stem': '#d62728',
  cswin: '#2ca02c',
  crossvit: '#9467bd',
};

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Label {
  x: number;
  y: number;
  anchor: 'start' | 'end';
  text: string;
  /** The point the label names. */
  pointX: number;
  pointY: number;
}

/** Approximate extent of a 12 px label: [left, right, top, bottom]. */
function labelBox(l: Label): [number, number, number, number] {
  const w = 6.8 * l.text.length;
  return l.anchor === 'start' ? [l.x, l.x + w, l.y - 11, l.y + 3] : [l.x - w, l.x, l.y - 11, l.y + 3];
}

/** Moves labels down (or up, near the bottom) until no two overlap; points close in MACs and accuracy otherwise print over each other. */
function separateLabels(labels: Label[], top: number, bottom: number): void {
  const placed: Label[] = [];
  for (const l of [...labels].sort((a, b) => a.y - b.y)) {
    const clash = () =>
      placed.some((p) => {
        const [a0, a1, a2, a3] = labelBox(l);
        const [b0, b1, b2, b3] = labelBox(p);
        return a0 < b1 && b0 < a1 && a2 < b3 && b2 < a3;
      });
    const step = l.y + 40 > bottom ? -15 : 15;
    for (let tries = 0; clash() && tries < 20 && l.y + step > top && l.y + step < bottom; tries++) l.y += step;
    placed.push(l);
  }
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const step = [1, 2, 2.5, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

export function accuracyChartSvg(summaries: ModelSummary[], title: string): string {
  const width = 720;
  const height = 440;
  const m = { left: 70, right: 30, top: 50, bottom: 60 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const logMacs = summaries.map((s) => Math.log10(s.macs));
  const xLo = Math.min(...logMacs) - 0.15;
  const xHi = Math.max(...logMacs) + 0.15;
  const accs = summaries.flatMap((s) => (s.top1.ci ?? [s.top1.mean, s.top1.mean]).map((a) => 100 * a));
  const yLo = Math.max(0, Math.floor(Math.min(...accs) - 4));
  const yHi = Math.min(100, Math.ceil(Math.max(...accs) + 4));
  const x = (lm: number) => m.left + ((lm - xLo) / (xHi - xLo)) * plotW;
  const y = (pct: number) => m.top + plotH - ((pct - yLo) / (yHi - yLo || 1)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`,
  ];
  for (const t of ticks(yLo, yHi, 6)) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`,
      `<text x="${m.left - 8}" y="${y(t) + 4}" text-anchor="end" font-size="12">${t}</text>`,
    );
  }
  // Ticks at round numbers of millions of MACs, placed on the log axis (thinned to at most ~8).
  const xTicks = ticks(10 ** xLo / 1e6, 10 ** xHi / 1e6, 6).filter((t) => t > 0);
  for (const t of xTicks) {
    const e = Math.log10(t * 1e6);
    parts.push(
      `<line x1="${x(e)}" x2="${x(e)}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#444"/>`,
      `<text x="${x(e)}" y="${m.top + plotH + 20}" text-anchor="middle" font-size="12">${t}</text>`,
    );
  }
  const families = [...new Set(summaries.map((s) => s.family))];
  families.forEach((f, i) => {
    const ly = m.top + 16 + i * 18;
    parts.push(
      `<circle cx="${m.left + 14}" cy="${ly - 4}" r="5" fill="${FAMILY_COLOURS[f] ?? '#555'}"/>`,
      `<text x="${m.left + 24}" y="${ly}" font-size="12">${escapeXml(f)}</text>`,
    );
  });
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${height - 15}" text-anchor="middle" font-size="13">MACs per image (millions, log scale)</text>`,
    `<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13">top-1 accuracy (%)</text>`,
  );
  const labels: Label[] = [];
  for (const s of summaries) {
    const cx = x(Math.log10(s.macs));
    const cy = y(100 * s.top1.mean);
    const colour = FAMILY_COLOURS[s.family] ?? '#555';
    if (s.top1.ci) {
      const [lo, hi] = s.top1.ci;
      parts.push(`<line x1="${cx}" x2="${cx}" y1="${y(100 * lo)}" y2="${y(100 * hi)}" stroke="${colour}" stroke-width="2"/>`);
    }
    parts.push(`<circle cx="${cx}" cy="${cy}" r="6" fill="${colour}"/>`);
    // Labels beside the point, on the side with more room.
    const right = cx < m.left + 0.65 * plotW;
    const text = `${s.model} ${(100 * s.top1.mean).toFixed(2)}`;
    labels.push({ x: right ? cx + 10 : cx - 10, y: cy + 4, anchor: right ? 'start' : 'end', text, pointX: cx, pointY: cy });
  }
  separateLabels(labels, m.top + 14, m.top + plotH - 4);
  for (const l of labels) {
    // A moved label gets a thin line back to its point.
    if (Math.abs(l.y - 4 - l.pointY) > 1) parts.push(`<line x1="${l.pointX}" y1="${l.pointY}" x2="${l.x}" y2="${l.y - 4}" stroke="#999"/>`);
    parts.push(`<text x="${l.x}" y="${l.y}" text-anchor="${l.anchor}" font-size="12">${escapeXml(l.text)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
