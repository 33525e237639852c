// Attention heat maps over the input image, as the ViT paper's figures: each
// map is upsampled to the image, coloured (jet) and blended over a grey copy of
// the image; one row per group of maps, the plain image first.
import sharp from 'sharp';

export interface HeatmapPanel {
  /** Row-major values over a gh x gw grid. */
  values: Float32Array;
  grid: [number, number];
}

export interface HeatmapRow {
  panels: HeatmapPanel[];
}

/** The classic jet colour map, t in [0, 1] -> RGB in [0, 255]. */
export function jet(t: number): [number, number, number] {
  const c = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** Bilinear upsampling of a grid to size x size, values scaled to [0, 1] by the grid's min and max. */
export function upsampleNormalized(values: Float32Array, [gh, gw]: [number, number], size: number): Float32Array {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const range = hi - lo || 1;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * gh) / size - 0.5, 0), gh - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, gh - 1);
    const ty = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * gw) / size - 0.5, 0), gw - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, gw - 1);
      const tx = sx - x0;
      const v =
        (1 - ty) * ((1 - tx) * values[y0 * gw + x0]! + tx * values[y0 * gw + x1]!) +
        ty * ((1 - tx) * values[y1 * gw + x0]! + tx * values[y1 * gw + x1]!);
      out[y * size + x] = (v - lo) / range;
    }
  }
  return out;
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
      const heat = upsampleNormalized(panel.values, panel.grid, size);
      put(ri, pi + 1, (i) => {
        const grey = 0.299 * image[i * 3]! + 0.587 * image[i * 3 + 1]! + 0.114 * image[i * 3 + 2]!;
        const [hr, hg, hb] = jet(heat[i]!);
        return [Math.round(0.45 * grey + 0.55 * hr), Math.round(0.45 * grey + 0.55 * hg), Math.round(0.45 * grey + 0.55 * hb)];
      });
    });
  });
  return sharp(canvas, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
