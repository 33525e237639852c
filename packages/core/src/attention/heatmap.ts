// Colouring attention maps, shared by the PNGs `vitkit attention` writes and
// the demo page's overlay: jet colours over a map upsampled to the image.

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
 * A map over a `grid` of patches drawn over `image` (RGB bytes, size x size):
 * upsampled, scaled to its own range, jet-coloured and blended over a grey copy
 * of the image, as the ViT paper's figures.
 */
export function overlayHeatmap(image: Uint8Array, size: number, values: Float32Array, grid: [number, number]): Uint8Array {
  const heat = upsampleNormalized(values, grid, size);
  const out = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    const grey = 0.299 * image[i * 3]! + 0.587 * image[i * 3 + 1]! + 0.114 * image[i * 3 + 2]!;
    const colour = jet(heat[i]!);
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(0.45 * grey + 0.55 * colour[c]!);
  }
  return out;
}
