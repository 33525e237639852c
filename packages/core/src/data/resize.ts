// Host-side image resizing with the same kernels as core's tensor resize2d
// (PyTorch's bilinear, and bicubic with a = -0.75, align_corners=False), so a
// model sees the same pixels whether an image was resized here or as a tensor.
// Note: torchvision's PIL path antialiases when downscaling; this does not.
import { interpolationMatrix, type ResizeMode } from '../ops/resize.js';
import { newImage, type RawImage } from './image.js';

/** Resizes to outH x outW; the same object when the size is unchanged. */
export function resizeImage(img: RawImage, outH: number, outW: number, mode: ResizeMode = 'bilinear'): RawImage {
  const { height: h, width: w, channels: c, data } = img;
  if (h === outH && w === outW) return img;
  const my = interpolationMatrix(h, outH, mode);
  const mx = interpolationMatrix(w, outW, mode);
  // Rows first: [outH, h] x [h, w*c], then columns: [outW, w] per row.
  const rows = new Float32Array(outH * w * c);
  for (let o = 0; o < outH; o++) {
    for (let i = 0; i < h; i++) {
      const k = my[o * h + i]!;
      if (k === 0) continue;
      const src = i * w * c;
      const dst = o * w * c;
      for (let j = 0; j < w * c; j++) rows[dst + j]! += k * data[src + j]!;
    }
  }
  const out = newImage(outH, outW, c);
  for (let y = 0; y < outH; y++) {
    for (let o = 0; o < outW; o++) {
      const dst = (y * outW + o) * c;
      for (let j = 0; j < w; j++) {
        const k = mx[o * w + j]!;
        if (k === 0) continue;
        const src = (y * w + j) * c;
        for (let ch = 0; ch < c; ch++) out.data[dst + ch]! += k * rows[src + ch]!;
      }
    }
  }
  return out;
}

/** Resizes so the shorter side is `size`, keeping the aspect ratio (torchvision Resize(int)). */
export function resizeShorter(img: RawImage, size: number, mode: ResizeMode = 'bilinear'): RawImage {
  const { height: h, width: w } = img;
  if (h <= w) return resizeImage(img, size, Math.max(1, Math.round((w * size) / h)), mode);
  return resizeImage(img, Math.max(1, Math.round((h * size) / w)), size, mode);
}
