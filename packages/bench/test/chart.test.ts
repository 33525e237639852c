import { describe, expect, it } from 'vitest';
import { accuracyChartSvg } from '../src/compare/chart.js';
import type { ModelSummary } from '../src/compare/results.js';

const summary = (model: string, family: string, macs: number, top1: number): ModelSummary => ({
  model,
  family,
  params: 1e5,
  macs,
  seeds: [0],
  failed: 0,
  top1: { n: 1, mean: top1 },
  top5: { n: 1, mean: 0.99 },
  trainSeconds: { n: 1, mean: 100 },
  imagesPerSec: { n: 1, mean: 200 },
});

describe('accuracy chart', () => {
  it('keeps the labels of points close in MACs and accuracy apart, each tied back to its point', () => {
    // The default comparison's last run: three models within 0.1% and 1.8 M MACs of each other.
    const svg = accuracyChartSvg(
      [
        summary('vit_micro_32', 'vit', 12_190_720, 0.9637),
        summary('vitc_micro_32', 'hybrid-stem', 11_494_272, 0.9775),
        summary('cswin_micro_32', 'cswin', 11_621_632, 0.9634),
        summary('crossvit_micro_32', 'crossvit', 13_427_520, 0.9629),
      ],
      'top-1 on mnist against MACs',
    );
    const labels = [
      ...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" text-anchor="(start|end)" font-size="12">(\w+_micro_32) [\d.]+<\/text>/g),
    ].map((m) => {
      const [x, y, width] = [Number(m[1]), Number(m[2]), 6.8 * (m[4]!.length + 6)];
      return { left: m[3] === 'start' ? x : x - width, right: m[3] === 'start' ? x + width : x, top: y - 11, bottom: y + 3 };
    });
    expect(labels).toHaveLength(4);
    for (const [i, a] of labels.entries()) {
      for (const b of labels.slice(i + 1)) {
        const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
        expect(overlap).toBe(false);
      }
    }
    // At least one label had to move, and a moved label gets a leader line.
    expect(svg).toContain('stroke="#999"');
  });
});
