// Preprocessing speed: Pillow-exact resampling of a 1411x1411 RGB image to
// 256x256 (issue #18's case), and the whole evaluation input of a 1411x1411
// JPEG (decode, resize to 256, crop 224, normalise) as `vitkit eval` and
// `vitkit preprocess` run it. Prints MB/s of decoded RGB bytes; each figure
// is the fastest of --runs rounds, so other processes on the machine count less.
//
//   node scripts/perf/preprocess-speed.mjs [--runs N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { getModelEntry, evalConfigOf, preprocessImage, resamplePixels } from '../../packages/core/dist/index.js';
import { decodeImage } from '../../packages/core/dist/node.js';
import '../../packages/vit/dist/index.js';

const args = process.argv.slice(2);
const i = args.indexOf('--runs');
const runs = i >= 0 ? Number(args[i + 1]) : 5;
const n = 1411;
const bytes = n * n * 3;
const src = new Uint8Array(bytes);
for (let p = 0; p < bytes; p++) src[p] = (p * 2654435761) >>> 24;

async function best(label, reps, fn) {
  await fn();
  let fastest = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) await fn();
    fastest = Math.min(fastest, (performance.now() - t0) / reps);
  }
  console.log(`${label.padEnd(58)} ${fastest.toFixed(1).padStart(7)} ms  ${(bytes / 1e6 / (fastest / 1e3)).toFixed(0).padStart(5)} MB/s`);
}

for (const mode of ['bicubic', 'bilinear', 'nearest']) {
  await best(`resize ${n}x${n}x3 -> 256x256 ${mode}`, 5, () => resamplePixels(src, n, n, 3, 256, 256, mode));
}
const dir = mkdtempSync(join(tmpdir(), 'vitkit-speed-'));
try {
  const path = join(dir, 'photo.jpg');
  await sharp(src, { raw: { width: n, height: n, channels: 3 } })
    .blur(2)
    .jpeg({ quality: 90 })
    .toFile(path);
  const cfg = evalConfigOf(getModelEntry('deit_tiny_patch16_224').defaults);
  await best(`decode ${n}x${n} JPEG`, 3, () => decodeImage(path));
  const img = await decodeImage(path);
  await best(`eval transform (${cfg.interpolation}, ${cfg.imgSize}, crop_pct ${cfg.cropPct})`, 3, () => preprocessImage(img, cfg));
  await best('decode + eval transform', 3, async () => preprocessImage(await decodeImage(path), cfg));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
