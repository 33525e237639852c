// Attention heat maps over the input image, as the ViT paper's figures: each
// map is upsampled to the image, coloured (jet) and blended over a grey copy of
// the image; one row per group of maps, the plain image first.
import { overlayHeatmap } from '@vitkit/core';
import sharp from 'sharp';

export interface HeatmapPanel {
  /** Row-major values over a gh x gw grid. */
  values: Float32Array;
  grid: [number, number];
}

export interface HeatmapRow {
  panels: HeatmapPanel[];
}

/**
 * Draws `rows` of heat maps over `image` (RGB, size x size, 0-255) into a PNG:
 * each row starts with the image, then one panel per map.
 */
export async function renderHeatmaps(image: Uint8Array, size: number, rows: HeatmapRow[], gap = 4): Promise<Buffer> {
  const cols = 1 + Math.max(...rows.map((r) => r.panels.length));
  const width = cols * size + (cols - 1) * gap;
  const height = rows.length * size + (rows.length - 1) * gap;
  const canvas = new Uint8Array(width * height * 3).fill(255);
  const put = (row: number, col: number, pixel: (i: number) => [number, number, number]) => {
    const top = row * (size + gap);
    const left = col * (size + gap);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = pixel(y * size + x);
        canvas.set(p, ((top + y) * width + left + x) * 3);
      }
    }
  };
  rows.forEach((r, ri) => {
    put(ri, 0, (i) => [image[i * 3]!, image[i * 3 + 1]!, image[i * 3 + 2]!]);
    r.panels.forEach((panel, pi) => {
      const overlay = overlayHeatmap(image, size, panel.values, panel.grid);
      put(ri, pi + 1, (i) => [overlay[i * 3]!, overlay[i * 3 + 1]!, overlay[i * 3 + 2]!]);
    });
  });
  return sharp(canvas, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
